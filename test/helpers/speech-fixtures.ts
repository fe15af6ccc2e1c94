/**
 * Test audio with known content, made with Debian's `espeak-ng` and `sox` (no downloads):
 * spoken sentences, pauses and noise, glued into a caller track whose timeline is returned so tests
 * can assert where speech really is. Everything is 16 kHz mono 16-bit.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { concatPcm, durationMs, encodeWav, parseWav, rms, silence, type PcmAudio } from '../../src-shared/audio/wav';

export const FIXTURE_RATE = 16000;

/** True when `name` is an executable on PATH (no shell). */
export function hasBinary(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), fsConstants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/** Debian tools the speech fixtures need and that are missing here ([] = all present). */
export function missingSpeechTools(): string[] {
  return ['espeak-ng', 'sox'].filter((t) => !hasBinary(t));
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message} ${stderr}`));
      else resolve();
    });
  });
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'cf-speech-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function soxTo16k(dir: string, inputArgs: string[], effects: string[] = []): Promise<PcmAudio> {
  const out = join(dir, 'out.wav');
  await run('sox', [...inputArgs, '-r', String(FIXTURE_RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', out, ...effects]);
  return parseWav(new Uint8Array(await readFile(out)));
}

const spoken = new Map<string, Promise<PcmAudio>>();

export interface SpeakOptions {
  /** espeak-ng voice, default `en-us` */
  voice?: string;
  /** words per minute, default 160 */
  wpm?: number;
}

/** `text` spoken by espeak-ng, resampled to 16 kHz mono. Cached per process. */
export function speak(text: string, opts: SpeakOptions = {}): Promise<PcmAudio> {
  const voice = opts.voice ?? 'en-us';
  const wpm = opts.wpm ?? 160;
  const key = `${voice}|${wpm}|${text}`;
  let p = spoken.get(key);
  if (!p) {
    p = withTemp(async (dir) => {
      const raw = join(dir, 'espeak.wav');
      await run('espeak-ng', ['-v', voice, '-s', String(wpm), '-w', raw, '--', text]);
      return soxTo16k(dir, [raw]);
    });
    spoken.set(key, p);
  }
  return p;
}

export interface NoiseOptions {
  color?: 'white' | 'pink' | 'brown';
  /** sox `vol` gain, 0..1 of full scale; default 0.01 (quiet room) */
  level?: number;
}

/** Noise from sox's `synth`; `-R` makes it the same on every run. */
export function noise(ms: number, opts: NoiseOptions = {}): Promise<PcmAudio> {
  const seconds = (ms / 1000).toFixed(3);
  return withTemp((dir) =>
    soxTo16k(dir, ['-R', '-n'], ['synth', seconds, `${opts.color ?? 'pink'}noise`, 'vol', String(opts.level ?? 0.01)]),
  );
}

export function pause(ms: number): PcmAudio {
  return silence(FIXTURE_RATE, ms);
}

/** Start/end (ms) of the voiced part of a clip: the first/last 10 ms window louder than `floor`. */
export function voicedSpan(audio: PcmAudio, floor = 200): { startMs: number; endMs: number } {
  const win = Math.round(audio.sampleRate / 100);
  let first = -1;
  let last = -1;
  for (let i = 0; i + win <= audio.samples.length; i += win) {
    if (rms(audio.samples, i, i + win) >= floor) {
      if (first < 0) first = i;
      last = i + win;
    }
  }
  if (first < 0) return { startMs: 0, endMs: 0 };
  return { startMs: (first / audio.sampleRate) * 1000, endMs: (last / audio.sampleRate) * 1000 };
}

export type TrackPart = { say: string; voice?: string; wpm?: number } | { pause: number } | ({ noise: number } & NoiseOptions);

export interface TrackSegment {
  kind: 'speech' | 'pause' | 'noise';
  text?: string;
  /** clip bounds on the track timeline */
  startMs: number;
  endMs: number;
  /** for speech: the voiced part on the track timeline */
  voicedStartMs?: number;
  voicedEndMs?: number;
}

export interface CallerTrack {
  audio: PcmAudio;
  wav: Uint8Array;
  segments: TrackSegment[];
  speech: TrackSegment[];
}

/** Glue sentences, pauses and noise into one caller track and report where each part lies. */
export async function buildTrack(parts: TrackPart[]): Promise<CallerTrack> {
  const clips: PcmAudio[] = [];
  const segments: TrackSegment[] = [];
  let at = 0;
  for (const part of parts) {
    let clip: PcmAudio;
    let seg: TrackSegment;
    if ('say' in part) {
      clip = await speak(part.say, part);
      const v = voicedSpan(clip);
      seg = { kind: 'speech', text: part.say, startMs: at, endMs: 0, voicedStartMs: at + v.startMs, voicedEndMs: at + v.endMs };
    } else if ('pause' in part) {
      clip = pause(part.pause);
      seg = { kind: 'pause', startMs: at, endMs: 0 };
    } else {
      clip = await noise(part.noise, part);
      seg = { kind: 'noise', startMs: at, endMs: 0 };
    }
    at += durationMs(clip);
    seg.endMs = at;
    clips.push(clip);
    segments.push(seg);
  }
  const audio = concatPcm(clips, FIXTURE_RATE);
  return { audio, wav: encodeWav(audio), segments, speech: segments.filter((s) => s.kind === 'speech') };
}

/** Raw signed 16-bit little-endian samples (what an ALSA `file` capture device reads). */
export function toRawS16(audio: PcmAudio): Uint8Array {
  const out = new Uint8Array(audio.samples.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < audio.samples.length; i++) v.setInt16(i * 2, audio.samples[i], true);
  return out;
}

export function fromRawS16(bytes: Uint8Array, sampleRate: number): PcmAudio {
  const n = Math.floor(bytes.length / 2);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = v.getInt16(i * 2, true);
  return { sampleRate, samples };
}

export async function writeWavFile(path: string, audio: PcmAudio): Promise<void> {
  await writeFile(path, encodeWav(audio));
}
