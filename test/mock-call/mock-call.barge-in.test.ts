/**
 * Barge-in: the caller talks over the reply; playback stops at once, the heard part of the reply
 * is reported, and the caller's words become the next turn. Half-duplex (the default) plays
 * every reply whole, like the phone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src-main/events/bus';
import type { EventEnvelope } from '../../src-shared/protocol/events';
import { FileSource } from '../../src-main/mock-call/file-source';
import { MemorySink } from '../../src-main/mock-call/memory-sink';
import { MockCall, type PlaybackReport } from '../../src-main/mock-call/mock-call';
import { settingsFromConfig } from '../../src-main/mock-call/settings';
import { buildTrack, missingSpeechTools, type CallerTrack } from '../helpers/speech-fixtures';
import { fakeRunTurn, locateSlice, testConfig } from './helpers';

const missing = missingSpeechTools();
const RATE = 16000;
const LONG_REPLY = 'This is a rather long answer that the caller is going to interrupt well before it ends.';

function setup(track: CallerTrack, opts: { bargeIn: boolean; realtime?: boolean; replyMs?: number }) {
  const fake = fakeRunTurn({ replyMs: (i) => (i === 1 ? (opts.replyMs ?? 4000) : 300), replyText: (i, input) => (i === 1 ? LONG_REPLY : input.forcedReply || `Reply ${i}.`) });
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((e) => events.push(e));
  const reports: PlaybackReport[] = [];
  const sink = new MemorySink({ realtime: opts.realtime });
  const settings = settingsFromConfig(testConfig({ mock_barge_in: opts.bargeIn }));
  const call = new MockCall(new FileSource({ wav: track.wav, realtime: opts.realtime }), sink, settings, {
    runTurn: fake.runTurn,
    bus,
    onPlayback: (r) => reports.push(r),
  });
  return { fake, events, reports, sink, call };
}

describe.skipIf(missing.length > 0)(`barge-in (skipped: missing Debian tools ${missing.join(', ')})`, () => {
  let track: CallerTrack;
  beforeAll(async () => {
    track = await buildTrack([
      { pause: 300 },
      { say: 'Can you tell me when you are open?' },
      { pause: 900 }, // ~380 ms after the cut the caller talks again, over the reply
      { say: 'Sorry, I meant on Sunday.' },
      { pause: 1000 },
    ]);
  });

  it('stops the reply once the caller speaks over it, reports what was heard, and keeps the caller words', async () => {
    const h = setup(track, { bargeIn: true });
    await h.call.open();
    const final = await h.call.run();
    expect(final.barge_in).toBe(true);

    const cut = h.call.playbacks[1];
    expect(cut).toMatchObject({ turn: 1, reply: LONG_REPLY, interrupted: true, barge_in: true, total_ms: 4000 });
    // the caller started ~380 ms into the reply and needed 200 ms of speech to cut it
    expect(cut.played_ms).toBeGreaterThan(300);
    expect(cut.played_ms).toBeLessThan(1500);
    expect(cut.heard_text.length).toBeGreaterThan(0);
    expect(cut.heard_text.length).toBeLessThan(LONG_REPLY.length);
    expect(LONG_REPLY.startsWith(cut.heard_text)).toBe(true);
    expect(h.call.turns[1].playback).toEqual(cut);
    expect(h.reports[1]).toEqual(cut);

    // the sink's record says the same: only the start of the reply was heard
    expect(h.sink.clips[1]).toMatchObject({ interrupted: true, playedMs: cut.played_ms });

    // the words spoken over the reply became the next turn, onset included
    expect(h.fake.utterances).toHaveLength(2);
    const second = h.fake.utterances[1];
    const start = locateSlice(track.audio.samples, second.samples);
    expect(start).toBeGreaterThanOrEqual(0);
    const startMs = (start / RATE) * 1000;
    const endMs = startMs + (second.samples.length / RATE) * 1000;
    expect(startMs).toBeLessThanOrEqual(track.speech[1].voicedStartMs!);
    expect(endMs).toBeGreaterThanOrEqual(track.speech[1].voicedEndMs!);

    // the console saw it: a mock.state with event barge_in carrying the playback report
    const ev = h.events.find((e) => e.type === 'mock.state' && e.data.event === 'barge_in');
    expect(ev?.data.playback).toEqual(cut);
    expect(ev?.data.last_playback).toEqual(cut);
    // replies nobody talked over are heard whole
    expect(h.call.playbacks[0]).toMatchObject({ interrupted: false, barge_in: false });
    expect(h.call.playbacks[2]).toMatchObject({ interrupted: false, barge_in: false });
  });

  it('half-duplex (default) plays every reply whole and still gets the next utterance afterwards', async () => {
    const h = setup(track, { bargeIn: false });
    await h.call.open();
    const final = await h.call.run();
    expect(final.barge_in).toBe(false);
    expect(h.call.playbacks.every((p) => !p.interrupted && p.played_ms === p.total_ms)).toBe(true);
    expect(h.call.playbacks[1].heard_text).toBe(LONG_REPLY);
    expect(h.sink.clips.every((c) => !c.interrupted)).toBe(true);
    expect(h.fake.utterances).toHaveLength(2);
    expect(h.events.some((e) => e.data.event === 'barge_in')).toBe(false);
  });

  describe.concurrent('in real time (a paced caller and a paced sink)', () => {
    let short: CallerTrack;
    beforeAll(async () => {
      short = await buildTrack([{ pause: 200 }, { say: 'When are you open?' }, { pause: 800 }, { say: 'On Sunday.' }, { pause: 600 }]);
    });

    it('barge-in cuts the playing reply on the wall clock', async () => {
      const h = setup(short, { bargeIn: true, realtime: true, replyMs: 3000 });
      await h.call.open();
      await h.call.run();
      const cut = h.call.playbacks[1];
      expect(cut.interrupted).toBe(true);
      expect(cut.barge_in).toBe(true);
      expect(cut.played_ms).toBeLessThan(3000);
      expect(h.sink.clips[1].interrupted).toBe(true);
      expect(h.fake.utterances).toHaveLength(2);
    });

    it('half-duplex drops what the caller says while the reply plays, like the phone', async () => {
      const h = setup(short, { bargeIn: false, realtime: true, replyMs: 3000 });
      await h.call.open();
      await h.call.run();
      expect(h.call.playbacks[1]).toMatchObject({ interrupted: false, played_ms: 3000 });
      // the second sentence was spoken entirely during the 3 s reply: never heard
      expect(h.fake.utterances).toHaveLength(1);
    });
  });
});
