/**
 * Test doubles for mock calls: a fake RunTurn (the lead's pipeline stands in at integration) that
 * records what it was sent and answers like /api/turn with a generated WAV, and temporary HOMEs
 * whose ALSA config makes files act as microphone and speaker.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunTurn, TurnInput, TurnResponse } from '../../src-main/calls/types';
import { encodeWav, parseWav, type PcmAudio } from '../../src-shared/audio/wav';
import { defaultConfig, type AppConfig } from '../../src-shared/config/schema';

export const REPLY_RATE = 24000;

/** A sine tone; each reply gets its own frequency so the played audio identifies the turn. */
export function tone(ms: number, freq: number, rate = REPLY_RATE, amplitude = 8000): PcmAudio {
  const n = Math.round((rate * ms) / 1000);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return { sampleRate: rate, samples };
}

export interface FakeTurnOptions {
  /** reply audio length per turn index (0 = greeting); default 600 ms */
  replyMs?: (index: number) => number;
  /** reply text per turn index */
  replyText?: (index: number, input: TurnInput) => string;
  /** this turn never answers until aborted */
  hangOn?: (index: number, input: TurnInput) => boolean;
  /** the full response for a turn, instead of the default */
  respond?: (index: number, input: TurnInput) => TurnResponse | undefined;
}

export interface FakeTurn {
  runTurn: RunTurn;
  inputs: TurnInput[];
  /** decoded caller audio of the non-greeting turns */
  utterances: PcmAudio[];
  /** the reply WAVs sent back, by turn index */
  replies: PcmAudio[];
  /** turn indexes whose AbortSignal fired */
  aborted: number[];
  /** resolves when the turn with this index arrives */
  arrived(index: number): Promise<TurnInput>;
  /** resolves once `count` caller utterances (non-greeting turns) have arrived */
  utterancesArrived(count: number): Promise<void>;
}

export const SESSION_ID = 'mock-session-1';

export function fakeRunTurn(opts: FakeTurnOptions = {}): FakeTurn {
  const inputs: TurnInput[] = [];
  const utterances: PcmAudio[] = [];
  const replies: PcmAudio[] = [];
  const aborted: number[] = [];
  const waiters = new Map<number, (i: TurnInput) => void>();
  const waits = new Map<number, Promise<TurnInput>>();
  const arrived = (index: number) => {
    let p = waits.get(index);
    if (!p) {
      p = new Promise((r) => waiters.set(index, r));
      waits.set(index, p);
    }
    return p;
  };
  const counted: { count: number; resolve: () => void }[] = [];
  const utterancesArrived = (count: number) =>
    utterances.length >= count ? Promise.resolve() : new Promise<void>((resolve) => counted.push({ count, resolve }));
  const runTurn: RunTurn = async (input) => {
    const index = inputs.length;
    inputs.push(input);
    if (!input.resetSession) utterances.push(parseWav(input.audio));
    arrived(index);
    waiters.get(index)?.(input);
    for (const c of counted.filter((c) => utterances.length >= c.count)) c.resolve();
    if (opts.hangOn?.(index, input)) {
      await new Promise<never>((_, reject) => {
        const fail = () => {
          aborted.push(index);
          reject(new DOMException('turn aborted', 'AbortError'));
        };
        if (input.signal?.aborted) fail();
        else input.signal?.addEventListener('abort', fail, { once: true });
      });
    }
    const custom = opts.respond?.(index, input);
    if (custom) return custom;
    const audio = tone(opts.replyMs?.(index) ?? 600, 300 + 100 * index);
    replies[index] = audio;
    const reply = opts.replyText?.(index, input) ?? (input.forcedReply || `Reply number ${index} to what you said.`);
    return {
      status: 200,
      body: {
        ok: true,
        session_id: SESSION_ID,
        transcript: input.resetSession ? '' : `utterance ${index}`,
        reply,
        audio_base64: Buffer.from(encodeWav(audio)).toString('base64'),
      },
    };
  };
  return { runTurn, inputs, utterances, replies, aborted, arrived, utterancesArrived };
}

export function testConfig(patch: Partial<AppConfig> = {}): AppConfig {
  return { ...defaultConfig(), ...patch };
}

export interface AlsaHome {
  home: string;
  /** raw s16le the capture device reads */
  captureFile: string;
  /** raw s16le every playback is appended to */
  playbackFile: string;
  readPlayback(): Promise<Uint8Array>;
  /** points HOME (and so ALSA, for every child started later) at this directory; cleanup() restores it */
  activate(): void;
  cleanup(): Promise<void>;
}

function assertPlainPath(p: string): string {
  if (!/^[A-Za-z0-9/._-]+$/.test(p)) throw new Error(`unexpected characters in temp path ${p}`);
  return p;
}

/**
 * A HOME whose `.asoundrc` makes the default capture device read `capture` (raw 16-bit) and the
 * default playback device append to a raw file. Both are unpaced. `noDevice`: ALSA's default points
 * at a sound card that does not exist (no audio device at all).
 */
export async function alsaHome(opts: { capture?: Uint8Array; noDevice?: boolean } = {}): Promise<AlsaHome> {
  const home = assertPlainPath(await mkdtemp(join(tmpdir(), 'cf-alsa-')));
  const captureFile = join(home, 'capture.raw');
  const playbackFile = join(home, 'playback.raw');
  await writeFile(captureFile, opts.capture ?? new Uint8Array(0));
  await writeFile(playbackFile, new Uint8Array(0));
  const rc = opts.noDevice
    ? 'pcm.!default {\n  type hw\n  card 31\n}\nctl.!default {\n  type hw\n  card 31\n}\n'
    : [
        'pcm.cfmic {',
        '  type file',
        '  slave.pcm "null"',
        '  file "/dev/null"',
        `  infile "${captureFile}"`,
        '  format "raw"',
        '}',
        'pcm.cfout {',
        '  type file',
        '  slave.pcm "null"',
        `  file "|cat >> ${playbackFile}"`,
        '  format "raw"',
        '}',
        'pcm.!default {',
        '  type asym',
        '  playback.pcm "cfout"',
        '  capture.pcm "cfmic"',
        '}',
        '',
      ].join('\n');
  await writeFile(join(home, '.asoundrc'), rc);
  let previous: string | undefined;
  return {
    home,
    captureFile,
    playbackFile,
    readPlayback: async () => new Uint8Array(await readFile(playbackFile)),
    activate: () => {
      previous = process.env.HOME;
      process.env.HOME = home;
    },
    cleanup: async () => {
      if (process.env.HOME === home) process.env.HOME = previous;
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** true while a process with this pid exists */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `part` (an utterance cut from the caller track) starts inside `whole`, in samples; -1 if
 * it is not a contiguous slice. Matches on the loudest 512-sample window, then verifies all of it.
 */
export function locateSlice(whole: Int16Array, part: Int16Array): number {
  const W = 512;
  if (part.length < W) return -1;
  let best = 0;
  let bestE = -1;
  for (let i = 0; i + W <= part.length; i += W) {
    let e = 0;
    for (let k = i; k < i + W; k++) e += Math.abs(part[k]);
    if (e > bestE) {
      bestE = e;
      best = i;
    }
  }
  outer: for (let s = best; s + W <= whole.length; s++) {
    for (let k = 0; k < W; k++) if (whole[s + k] !== part[best + k]) continue outer;
    const start = s - best;
    if (start < 0 || start + part.length > whole.length) continue;
    let same = true;
    for (let k = 0; k < part.length && same; k++) same = whole[start + k] === part[k];
    if (same) return start;
  }
  return -1;
}
