/**
 * A WAV made with espeak-ng (speech, pauses, noise) replayed as the caller drives a mock call
 * through the real Silero VAD and a recording fake RunTurn; replies go to a memory sink.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../src-main/events/bus';
import type { EventEnvelope } from '../../src-shared/protocol/events';
import { encodeWav, parseWav, silence } from '../../src-shared/audio/wav';
import { fillOwner } from '../../src-shared/config/schema';
import { FileSource } from '../../src-main/mock-call/file-source';
import { MemorySink } from '../../src-main/mock-call/memory-sink';
import { FALLBACK_GREETING_HINT, MockCall, type MockCallDeps } from '../../src-main/mock-call/mock-call';
import { MockCallManager } from '../../src-main/mock-call/manager';
import { AudioDeviceError } from '../../src-main/mock-call/errors';
import { settingsFromConfig } from '../../src-main/mock-call/settings';
import type { AppConfig } from '../../src-shared/config/schema';
import { buildTrack, missingSpeechTools, type CallerTrack } from '../helpers/speech-fixtures';
import { fakeRunTurn, locateSlice, SESSION_ID, testConfig, tone, type FakeTurnOptions } from './helpers';

const missing = missingSpeechTools();
const RATE = 16000;

function harness(track: CallerTrack, cfg: Partial<AppConfig> = {}, fakeOpts: FakeTurnOptions = {}) {
  const fake = fakeRunTurn(fakeOpts);
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((e) => events.push(e));
  const endSession = vi.fn<NonNullable<MockCallDeps['endSession']>>();
  const sink = new MemorySink();
  const config = testConfig(cfg);
  const call = new MockCall(new FileSource({ wav: track.wav }), sink, settingsFromConfig(config), { runTurn: fake.runTurn, bus, endSession });
  return { fake, bus, events, endSession, sink, call, config };
}

describe.skipIf(missing.length > 0)(`mock call from a replayed WAV (skipped: missing Debian tools ${missing.join(', ')})`, () => {
  let track: CallerTrack;
  beforeAll(async () => {
    track = await buildTrack([
      { pause: 400 },
      { noise: 600, level: 0.01 }, // a quiet room
      { say: 'Hello, I would like to book a table for two.' },
      { pause: 1500 },
      { say: 'Tomorrow evening at seven would be great.' },
      { pause: 1200 },
      { noise: 1500, level: 0.1 }, // a loud rustle: not speech
      { pause: 800 },
      { say: 'Thank you, goodbye.' },
      { pause: 900 },
    ]);
  });

  it('greets like the phone, cuts one utterance per sentence with the real VAD, and plays every reply', async () => {
    const h = harness(track);
    await h.call.open();
    const final = await h.call.run();

    // greeting turn: reset, forced greeting, 300 ms of 16 kHz silence, direction mock
    const g = h.fake.inputs[0];
    const greeting = fillOwner(h.config.greeting_incoming, h.config.greeting_owner);
    expect(g).toMatchObject({ resetSession: true, forcedReply: greeting, transcriptHint: greeting, callDirection: 'mock', callerNumber: '' });
    expect(g.sessionId).toBeUndefined();
    expect(g.audio.length).toBe(9644);
    expect(parseWav(g.audio)).toEqual(silence(RATE, 300));

    // one utterance per sentence; the noise is not one
    expect(h.fake.utterances).toHaveLength(3);
    for (const input of h.fake.inputs.slice(1)) {
      expect(input).toMatchObject({ resetSession: false, sessionId: SESSION_ID, callDirection: 'mock' });
      expect(input.forcedReply).toBeUndefined();
    }
    h.fake.utterances.forEach((u, i) => {
      const seg = track.speech[i];
      expect(u.sampleRate).toBe(RATE);
      const start = locateSlice(track.audio.samples, u.samples);
      expect(start).toBeGreaterThanOrEqual(0);
      const startMs = (start / RATE) * 1000;
      const endMs = startMs + (u.samples.length / RATE) * 1000;
      // all the words are inside, with pre-roll before and ~520 ms of silence after them
      expect(startMs).toBeLessThanOrEqual(seg.voicedStartMs! - 100);
      expect(startMs).toBeGreaterThanOrEqual(seg.voicedStartMs! - 1200 - 100);
      expect(endMs).toBeGreaterThanOrEqual(seg.voicedEndMs! + 500);
      expect(endMs).toBeLessThanOrEqual(seg.voicedEndMs! + 900);
    });
    const turns = h.call.turns;
    expect(turns.map((t) => t.kind)).toEqual(['greeting', 'utterance', 'utterance', 'utterance']);
    expect(turns.slice(1).every((t) => t.cut === 'silence' && t.status === 200 && t.timings.vad_decision_ms! >= 520)).toBe(true);

    // every reply reached the sink, whole
    expect(h.sink.clips).toHaveLength(4);
    h.sink.clips.forEach((c, i) => {
      expect(c.audio.samples).toEqual(h.fake.replies[i].samples);
      expect(c.interrupted).toBe(false);
      expect(c.playedMs).toBe(c.totalMs);
    });
    expect(h.call.playbacks.map((p) => p.heard_text)).toEqual(h.call.turns.map((t) => t.reply));

    // the call ended with the input, ended its session, and said so on the bus
    expect(final).toMatchObject({ state: 'ended', end_reason: 'source_ended', session_id: SESSION_ID, turns: 4, vad: 'silero', error: null });
    expect(h.endSession).toHaveBeenCalledTimes(1);
    expect(h.endSession).toHaveBeenCalledWith(SESSION_ID, 'mock_stopped');
    const states = h.events.filter((e) => e.type === 'mock.state').map((e) => e.data.state);
    for (const s of ['greeting', 'playing', 'listening', 'speaking', 'thinking', 'ended']) expect(states).toContain(s);
    expect(states.at(-1)).toBe('ended');
    const levels = h.events.filter((e) => e.type === 'mock.level');
    expect(levels.length).toBeGreaterThan(20);
    expect(levels.every((e) => e.data.mock_id === h.call.id)).toBe(true);
    expect(levels.some((e) => e.data.speech === true && (e.data.rms as number) > 1000)).toBe(true);
    expect(levels.some((e) => e.data.speech === false)).toBe(true);
  });

  it('with the energy fallback configured, the loud noise becomes an utterance too', async () => {
    const h = harness(track, { mock_vad_engine: 'energy' });
    await h.call.open();
    const final = await h.call.run();
    expect(final.vad).toBe('energy');
    expect(h.fake.utterances).toHaveLength(4);
  });

  it('cuts a long utterance at the configured maximum', async () => {
    const long = await buildTrack([
      { pause: 300 },
      { say: 'I am calling because the parcel that was supposed to arrive last Tuesday never came, and nobody answers the phone.' },
      { pause: 900 },
    ]);
    const h = harness(long, { mock_vad_max_utterance_ms: 2000, mock_vad_pre_roll_ms: 200 });
    await h.call.open();
    await h.call.run();
    const cuts = h.call.turns.slice(1).map((t) => t.cut);
    expect(cuts.filter((c) => c === 'max_length').length).toBeGreaterThanOrEqual(2);
    for (const u of h.fake.utterances) expect((u.samples.length / RATE) * 1000).toBeLessThanOrEqual(2000 + 32);
  });

  it('without a greeting text sends the phone fallback hint and no forced reply', async () => {
    const h = harness(track, { greeting_incoming: '' });
    await h.call.open();
    await h.call.run();
    expect(h.fake.inputs[0].transcriptHint).toBe(FALLBACK_GREETING_HINT);
    expect(h.fake.inputs[0].forcedReply).toBeUndefined();
  });

  it('keeps listening after a failed, erroring, unplayable or blank turn, like the phone', async () => {
    const h = harness(track, {}, {
      respond: (i) => {
        if (i === 1) return { status: 500, body: { detail: 'LLM exploded' } };
        if (i === 2) return { status: 200, body: { ok: true, session_id: SESSION_ID, reply: 'Here you go.', audio_base64: Buffer.from('nope').toString('base64') } };
        if (i === 3) return { status: 200, body: { ok: true, session_id: SESSION_ID, reply: '   ', audio_base64: Buffer.from(encodeWav(tone(300, 500))).toString('base64') } };
        return undefined;
      },
    });
    await h.call.open();
    const final = await h.call.run();
    expect(h.fake.utterances).toHaveLength(3);
    expect(h.call.turns[1].error).toBe('LLM exploded');
    expect(h.call.turns[2].error).toMatch(/not a playable WAV/);
    expect(h.call.turns[3].error).toBeUndefined();
    expect(h.sink.clips).toHaveLength(1); // only the greeting played
    expect(final.end_reason).toBe('source_ended');
    const errors = h.events.filter((e) => e.type === 'mock.state' && e.data.event === 'turn_error');
    expect(errors).toHaveLength(2);
  });

  it('a RunTurn that throws loses that utterance only', async () => {
    let n = 0;
    const h = harness(track);
    const real = h.fake.runTurn;
    const call = new MockCall(new FileSource({ wav: track.wav }), h.sink, settingsFromConfig(h.config), {
      runTurn: async (input) => {
        if (n++ === 1) throw new Error('pipeline crashed');
        return real(input);
      },
    });
    await call.open();
    const final = await call.run();
    expect(call.turns[1].error).toBe('pipeline crashed');
    expect(call.turns).toHaveLength(4);
    expect(final.end_reason).toBe('source_ended');
  });

  it('ends when the assistant hangs up (after playing the goodbye) without ending the session again', async () => {
    const bye = tone(400, 700);
    const h = harness(track, {}, {
      respond: (i) =>
        i === 1
          ? { status: 200, body: { ok: true, session_id: SESSION_ID, reply: 'Goodbye.', hangup: true, audio_base64: Buffer.from(encodeWav(bye)).toString('base64') } }
          : undefined,
    });
    await h.call.open();
    const final = await h.call.run();
    expect(final.end_reason).toBe('hangup');
    expect(h.fake.inputs).toHaveLength(2);
    expect(h.sink.clips.at(-1)!.audio.samples).toEqual(bye.samples);
    expect(h.endSession).not.toHaveBeenCalled();
  });

  it('ends when the gateway reports the session ended', async () => {
    const h = harness(track, {}, { respond: (i) => (i === 2 ? { status: 200, body: { ok: false, session_id: SESSION_ID, ended: true, detail: 'session ended' } } : undefined) });
    await h.call.open();
    const final = await h.call.run();
    expect(final.end_reason).toBe('session_ended');
    expect(h.fake.inputs).toHaveLength(3);
    expect(h.endSession).not.toHaveBeenCalled();
  });

  it('stop mid-turn aborts the turn, ends the session and releases the source', async () => {
    const h = harness(track, {}, { hangOn: (i) => i === 2 });
    await h.call.open();
    const running = h.call.run();
    await h.fake.arrived(2);
    expect(h.call.currentState).toBe('thinking');
    const snap = await h.call.stop();
    expect(snap).toMatchObject({ state: 'ended', end_reason: 'stopped', session_id: SESSION_ID });
    expect(await running).toEqual(snap);
    expect(h.fake.aborted).toEqual([2]);
    expect(h.fake.inputs[2].signal?.aborted).toBe(true);
    expect(h.endSession).toHaveBeenCalledWith(SESSION_ID, 'mock_stopped');
    expect(h.fake.inputs).toHaveLength(3);
    expect(await h.call.source.read()).toBeNull();
  });

  it('stop during the greeting ends the call without a session to end', async () => {
    const h = harness(track, {}, { hangOn: (i) => i === 0 });
    await h.call.open();
    const running = h.call.run();
    await h.fake.arrived(0);
    await h.call.stop();
    expect((await running).end_reason).toBe('stopped');
    expect(h.fake.aborted).toEqual([0]);
    expect(h.endSession).not.toHaveBeenCalled();
  });

  it('stop while a reply plays stops the playback', async () => {
    const fake = fakeRunTurn({ replyMs: (i) => (i === 1 ? 20_000 : 300) });
    const sink = new MemorySink({ realtime: true });
    const bus = new EventBus();
    let playing!: () => void;
    const started = new Promise<void>((r) => (playing = r));
    bus.subscribe((e) => {
      if (e.type === 'mock.state' && e.data.state === 'playing' && (e.data.turns as number) === 2) playing();
    });
    const call = new MockCall(new FileSource({ wav: track.wav }), sink, settingsFromConfig(testConfig()), { runTurn: fake.runTurn, bus });
    await call.open();
    const running = call.run();
    await started;
    await call.stop();
    await running;
    expect(sink.clips[1].interrupted).toBe(true);
    expect(sink.clips[1].playedMs).toBeLessThan(20_000);
    expect(call.playbacks[1].interrupted).toBe(true);
  });
});

describe.skipIf(missing.length > 0)(`mock calls through the manager (skipped: missing Debian tools ${missing.join(', ')})`, () => {
  let dir: string;
  let track: CallerTrack;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cf-mock-mgr-'));
    track = await buildTrack([{ pause: 300 }, { say: 'Is anybody there?' }, { pause: 900 }, { say: 'Hello?' }, { pause: 900 }]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function manager(fake = fakeRunTurn()) {
    const endSession = vi.fn();
    const m = new MockCallManager({ runTurn: fake.runTurn, getConfig: () => testConfig(), endSession, recordingsDir: join(dir, 'rec') });
    return { m, fake, endSession };
  }

  it('replays a WAV file and writes what the caller heard to a recording', async () => {
    const wavPath = join(dir, 'caller.wav');
    await writeFile(wavPath, track.wav);
    const { m, fake } = manager();
    const snap = await m.start({ source: { kind: 'file', path: wavPath }, sink: { kind: 'file' } });
    expect(snap.source).toMatchObject({ kind: 'file', live: false });
    const final = await m.get(snap.id)!.run();
    expect(final.end_reason).toBe('source_ended');
    expect(fake.utterances).toHaveLength(2);
    const rec = parseWav(new Uint8Array(await readFile(join(dir, 'rec', `mock-${snap.id}.wav`))));
    const expected = fake.replies.reduce((n, r) => n + r.samples.length, 0);
    expect(rec.samples.length).toBe(expected);
    expect(m.list().active).toHaveLength(0);
    expect(m.list().recent[0]).toMatchObject({ id: snap.id, state: 'ended' });
  });

  it('runs concurrent mock calls independently and stops them all', async () => {
    const { m, fake, endSession } = manager(fakeRunTurn({ hangOn: (_i, input) => !input.resetSession }));
    const a = await m.start({ source: { kind: 'buffer', wav: track.wav }, sink: { kind: 'none' } });
    const b = await m.start({ source: { kind: 'buffer', wav: track.wav }, sink: { kind: 'none' } });
    expect(a.id).not.toBe(b.id);
    await fake.utterancesArrived(2);
    expect(m.list().active.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
    const stopped = await m.stop();
    expect(stopped.map((s) => s.end_reason)).toEqual(['stopped', 'stopped']);
    expect(fake.aborted).toHaveLength(2);
    expect(fake.inputs.filter((i) => i.signal?.aborted && !i.resetSession)).toHaveLength(2);
    expect(endSession).toHaveBeenCalledTimes(2);
    expect(m.list().active).toHaveLength(0);
  });

  it('refuses a missing or non-WAV file with a clear error and leaves nothing running', async () => {
    const { m } = manager();
    await expect(m.start({ source: { kind: 'file', path: join(dir, 'missing.wav') }, sink: { kind: 'none' } })).rejects.toMatchObject({
      code: 'bad_audio_file',
      message: expect.stringMatching(/cannot read .*missing\.wav/),
    });
    const junk = join(dir, 'junk.wav');
    await writeFile(junk, 'this is not audio');
    const err = await m.start({ source: { kind: 'file', path: junk }, sink: { kind: 'none' } }).catch((e) => e);
    expect(err).toBeInstanceOf(AudioDeviceError);
    expect(err.message).toMatch(/not a playable WAV/);
    expect(m.list().active).toHaveLength(0);
    expect(m.list().recent[0].state).toBe('failed');
  });

  it('shutdown stops every call and refuses new ones', async () => {
    const { m, fake } = manager(fakeRunTurn({ hangOn: (i) => i === 1 }));
    await m.start({ source: { kind: 'buffer', wav: track.wav }, sink: { kind: 'none' } });
    await fake.arrived(1);
    await m.shutdown();
    expect(m.list().active).toHaveLength(0);
    expect(m.list().recent[0].end_reason).toBe('shutdown');
    await expect(m.start({ source: { kind: 'buffer', wav: track.wav }, sink: { kind: 'none' } })).rejects.toThrow(/shutting down/);
  });

  it('limits the number of concurrent mock calls', async () => {
    const fake = fakeRunTurn({ hangOn: () => true });
    const m = new MockCallManager({ runTurn: fake.runTurn, getConfig: () => testConfig(), maxConcurrent: 1 });
    await m.start({ source: { kind: 'buffer', wav: track.wav }, sink: { kind: 'none' } });
    await expect(m.start({ source: { kind: 'buffer', wav: track.wav }, sink: { kind: 'none' } })).rejects.toThrow(/at most 1 mock call/);
    await m.shutdown();
  });
});
