/**
 * The real device paths: node-record-lpcm16 (arecord, sox) capturing and `speaker` (in its child
 * process) playing, through ALSA `file` devices declared in a temporary HOME's .asoundrc — the
 * capture device reads a raw speech file, the playback device appends to a raw file. These devices
 * are unpaced, so capture is bounded by bytes. Also: no audio device at all, no recorder binary.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { liveChildPids } from '../../src-main/mock-call/child-registry';
import { listAudioDevices, parseAlsaList } from '../../src-main/mock-call/devices';
import { AudioDeviceError } from '../../src-main/mock-call/errors';
import { MockCallManager } from '../../src-main/mock-call/manager';
import { MicrophoneSource } from '../../src-main/mock-call/microphone-source';
import { SpeakerSink } from '../../src-main/mock-call/speaker-sink';
import { resample } from '../../src-shared/audio/resample';
import type { PcmAudio } from '../../src-shared/audio/wav';
import { buildTrack, hasBinary, missingSpeechTools, toRawS16, type CallerTrack } from '../helpers/speech-fixtures';
import { alsaHome, fakeRunTurn, pidAlive, testConfig, tone, type AlsaHome } from './helpers';

const missing = [...missingSpeechTools(), ...['arecord', 'aplay'].filter((b) => !hasBinary(b))];
const reason = `skipped: missing Debian tools ${missing.join(', ')}`;

/** What a device opened at 48 kHz stereo must deliver for `audio` to come out of sox at 16 kHz mono. */
function stereo48k(audio: PcmAudio): Uint8Array {
  const up = resample(audio, 48000).samples;
  const out = new Int16Array(up.length * 2);
  for (let i = 0; i < up.length; i++) out[2 * i] = out[2 * i + 1] = up[i];
  return new Uint8Array(out.buffer);
}

function bytesOf(a: { samples: Int16Array }): Buffer {
  return Buffer.from(a.samples.buffer, a.samples.byteOffset, a.samples.byteLength);
}

describe.skipIf(missing.length > 0)(`microphone and speaker through ALSA file devices (${reason})`, () => {
  let track: CallerTrack;
  let raw: Uint8Array;
  const homes: AlsaHome[] = [];
  const useHome = async (opts: Parameters<typeof alsaHome>[0]) => {
    const h = await alsaHome(opts);
    homes.push(h);
    h.activate();
    return h;
  };

  beforeAll(async () => {
    track = await buildTrack([{ pause: 300 }, { say: 'Hello, is this the bakery?' }, { pause: 1000 }, { say: 'I would like two loaves.' }, { pause: 1000 }]);
    raw = toRawS16(track.audio);
  });
  afterEach(async () => {
    for (const h of homes.splice(0).reverse()) await h.cleanup();
  });

  it.each(['arecord', 'sox'] as const)('a mock call hears the caller through node-record-lpcm16 (%s) and plays replies through speaker', async (recorder) => {
    // sox opens the device at its default 48 kHz stereo and converts to 16 kHz mono itself
    const home = await useHome({ capture: recorder === 'sox' ? stereo48k(track.audio) : raw });
    const fake = fakeRunTurn({ replyMs: (i) => 400 + 100 * i });
    const endSession = vi.fn();
    const m = new MockCallManager({ runTurn: fake.runTurn, getConfig: () => testConfig(), endSession });
    const snap = await m.start({
      source: { kind: 'microphone', recorder, unpaced: { maxBytes: raw.length } },
      sink: { kind: 'speaker' },
    });
    expect(snap.source).toMatchObject({ kind: 'microphone', live: false });
    const call = m.get(snap.id)!;
    const micPid = (call.source as MicrophoneSource).pid;
    expect(pidAlive(micPid)).toBe(true);
    const final = await call.run();

    expect(final.end_reason).toBe('source_ended');
    expect(final.error).toBeNull();
    expect(fake.utterances).toHaveLength(2);
    expect(call.turns.slice(1).every((t) => t.cut === 'silence')).toBe(true);
    // every reply went out through speaker → ALSA → the playback file, in order
    const played = Buffer.from(await home.readPlayback());
    let at = 0;
    for (const reply of fake.replies) {
      const pos = played.indexOf(bytesOf(reply), at);
      expect(pos).toBeGreaterThanOrEqual(at);
      at = pos + reply.samples.length * 2;
    }
    expect(endSession).toHaveBeenCalledWith('mock-session-1', 'mock_stopped');
    // nothing left behind
    expect(pidAlive(micPid)).toBe(false);
    expect(liveChildPids()).toEqual([]);
  });

  it('stop mid-turn leaves no recorder or player process behind', async () => {
    await useHome({ capture: raw });
    const fake = fakeRunTurn({ hangOn: (i) => i === 1 });
    const endSession = vi.fn();
    const m = new MockCallManager({ runTurn: fake.runTurn, getConfig: () => testConfig(), endSession });
    // more bytes than the file holds: the capture keeps delivering silence until stopped
    const snap = await m.start({ source: { kind: 'microphone', recorder: 'arecord', unpaced: { maxBytes: raw.length * 4 } }, sink: { kind: 'speaker' } });
    const call = m.get(snap.id)!;
    const micPid = (call.source as MicrophoneSource).pid;
    const speakerPid = (call.sink as SpeakerSink).pid;
    await fake.arrived(1);
    expect(pidAlive(micPid)).toBe(true);
    expect(pidAlive(speakerPid)).toBe(true);
    const [stopped] = await m.stop(snap.id);
    expect(stopped).toMatchObject({ state: 'ended', end_reason: 'stopped' });
    expect(fake.aborted).toEqual([1]);
    expect(endSession).toHaveBeenCalledWith('mock-session-1', 'mock_stopped');
    expect(pidAlive(micPid)).toBe(false);
    expect(pidAlive(speakerPid)).toBe(false);
    expect(liveChildPids()).toEqual([]);
  });

  it('the speaker sink plays several clips on one player process and can stop one', async () => {
    const home = await useHome({ capture: new Uint8Array(0) });
    const sink = new SpeakerSink();
    await sink.open();
    const a = tone(300, 440);
    const r1 = await sink.play(a).done;
    expect(r1).toMatchObject({ interrupted: false, playedMs: r1.totalMs });
    const b = tone(200, 880, 16000);
    const h2 = sink.play(b);
    expect(await h2.started).toBeGreaterThan(0);
    await h2.done;
    const h3 = sink.play(tone(5000, 660));
    h3.stop();
    const r3 = await h3.done;
    expect(r3.interrupted).toBe(true);
    expect(r3.playedMs).toBeLessThan(5000);
    const pid = sink.pid;
    await sink.close();
    expect(pidAlive(pid)).toBe(false);
    const played = Buffer.from(await home.readPlayback());
    expect(played.indexOf(bytesOf(a))).toBeGreaterThanOrEqual(0);
    expect(played.indexOf(bytesOf(b))).toBeGreaterThan(played.indexOf(bytesOf(a)));
  });

  it('lists the ALSA devices the OS tools report', async () => {
    await useHome({ capture: new Uint8Array(0) });
    const list = await listAudioDevices();
    expect(list.tool).toBe('alsa');
    expect(list.inputs.map((d) => d.id)).toEqual(expect.arrayContaining(['cfmic', 'default']));
    expect(list.outputs.map((d) => d.id)).toEqual(expect.arrayContaining(['cfout', 'default']));
  });

  describe('no audio device at all', () => {
    it('the microphone reports a clear error with what to do, and no recorder is left running', async () => {
      await useHome({ noDevice: true });
      const mic = new MicrophoneSource({ recorder: 'arecord', firstAudioTimeoutMs: 15_000 });
      const err = await mic.start().catch((e) => e);
      expect(err).toBeInstanceOf(AudioDeviceError);
      expect(err.code).toBe('no_microphone');
      expect(err.message).toMatch(/arecord could not record from the default capture device: .*audio open error/);
      expect(err.hint).toMatch(/arecord -l/);
      expect(pidAlive(mic.pid)).toBe(false);
      expect(liveChildPids()).toEqual([]);
    });

    it('speaker aborting on the missing device costs only the player process', async () => {
      await useHome({ noDevice: true });
      const sink = new SpeakerSink();
      const err = await sink.open().catch((e) => e);
      expect(err).toBeInstanceOf(AudioDeviceError);
      expect(err.code).toBe('no_output_device');
      expect(err.message).toMatch(/the player process aborted/);
      expect(err.hint).toMatch(/aplay -l/);
      expect(liveChildPids()).toEqual([]);
      // this process (the gateway's) lives on and plays as soon as a device is there
      await useHome({ capture: new Uint8Array(0) });
      const good = new SpeakerSink();
      await good.open();
      expect(await good.play(tone(100, 440)).done).toMatchObject({ interrupted: false });
      await good.close();
    });

    it('a named device that does not exist is a clear error too', async () => {
      await useHome({ capture: new Uint8Array(0) });
      const err = await new SpeakerSink({ device: 'nosuchdevice' }).open().catch((e) => e);
      expect(err).toMatchObject({ code: 'no_output_device' });
      expect(err.message).toMatch(/cannot play on nosuchdevice/);
      expect(liveChildPids()).toEqual([]);
    });

    it('the manager refuses to start and leaves nothing running', async () => {
      await useHome({ noDevice: true });
      const fake = fakeRunTurn();
      const m = new MockCallManager({ runTurn: fake.runTurn, getConfig: () => testConfig({ mock_recorder: 'arecord' }) });
      await expect(m.start({ source: { kind: 'microphone' }, sink: { kind: 'none' } })).rejects.toMatchObject({ code: 'no_microphone' });
      await expect(m.start({ source: { kind: 'buffer', wav: track.wav }, sink: { kind: 'speaker' } })).rejects.toMatchObject({ code: 'no_output_device' });
      expect(fake.inputs).toHaveLength(0);
      expect(m.list().active).toEqual([]);
      expect(liveChildPids()).toEqual([]);
    });
  });
});

describe('recorder binaries', () => {
  let empty: string;
  beforeAll(async () => {
    empty = await mkdtemp(join(tmpdir(), 'cf-nopath-'));
  });
  afterAll(async () => {
    await rm(empty, { recursive: true, force: true });
  });

  it('no recorder on PATH → a clear error naming what to install', async () => {
    const mic = new MicrophoneSource({ searchPath: empty });
    const err = await mic.start().catch((e) => e);
    expect(err).toBeInstanceOf(AudioDeviceError);
    expect(err.code).toBe('no_recorder');
    expect(err.message).toMatch(/No audio recorder found on PATH/);
    expect(err.hint).toMatch(/apt install alsa-utils|brew install sox|SoX/);
    expect(liveChildPids()).toEqual([]);
  });

  it('parses arecord -L / aplay -L listings', () => {
    const text = ['null', '    Discard all samples (playback) or generate zero samples (capture)', 'default', 'sysdefault:CARD=PCH', '    HDA Intel PCH, ALC257 Analog', '    Default Audio Device', ''].join('\n');
    expect(parseAlsaList(text)).toEqual([
      { id: 'null', description: 'Discard all samples (playback) or generate zero samples (capture)' },
      { id: 'default', description: '' },
      { id: 'sysdefault:CARD=PCH', description: 'HDA Intel PCH, ALC257 Analog — Default Audio Device' },
    ]);
  });
});
