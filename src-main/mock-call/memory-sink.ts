/**
 * Sinks without a device: memory (tests, benchmarks), a WAV file of the whole call, and none.
 * They accept a reply at once; with `realtime` the memory sink takes as long as the audio lasts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { resample } from '../../src-shared/audio/resample';
import { concatPcm, durationMs, encodeWav, type PcmAudio } from '../../src-shared/audio/wav';
import type { AudioSink, PlaybackHandle, PlaybackResult, SinkKind } from './types';

export interface PlayedClip {
  audio: PcmAudio;
  totalMs: number;
  playedMs: number;
  interrupted: boolean;
}

/** The part of a clip that was heard. */
export function heardAudio(clip: PlayedClip): PcmAudio {
  const n = Math.min(clip.audio.samples.length, Math.round((clip.playedMs / 1000) * clip.audio.sampleRate));
  return { sampleRate: clip.audio.sampleRate, samples: clip.audio.samples.subarray(0, n) };
}

export interface MemorySinkOptions {
  /** take as long as the audio lasts (wall clock) instead of finishing at once */
  realtime?: boolean;
  /** keep the clips (false: a `none` sink) */
  keep?: boolean;
}

export class MemorySink implements AudioSink {
  readonly kind: SinkKind = 'memory';
  readonly label: string = 'memory';
  readonly clips: PlayedClip[] = [];
  private readonly active = new Set<() => void>();
  private closed = false;

  constructor(protected readonly opts: MemorySinkOptions = {}) {}

  async open(): Promise<void> {}

  play(audio: PcmAudio): PlaybackHandle {
    const totalMs = durationMs(audio);
    const clip: PlayedClip = { audio, totalMs, playedMs: 0, interrupted: false };
    if (this.opts.keep !== false) this.clips.push(clip);
    const t0 = performance.now();
    let finished = false;
    let resolveDone!: (r: PlaybackResult) => void;
    const done = new Promise<PlaybackResult>((r) => (resolveDone = r));
    const finish = (playedMs: number, interrupted: boolean) => {
      clip.playedMs = playedMs;
      clip.interrupted = interrupted;
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.active.delete(stopNow);
      resolveDone({ totalMs, playedMs, interrupted });
    };
    const position = () => (finished ? clip.playedMs : Math.min(totalMs, this.opts.realtime ? performance.now() - t0 : totalMs));
    const stopNow = () => finish(position(), position() < totalMs);
    let timer: NodeJS.Timeout | undefined;
    if (this.closed) finish(0, true);
    else if (this.opts.realtime) {
      this.active.add(stopNow);
      timer = setTimeout(() => finish(totalMs, false), totalMs);
    } else finish(totalMs, false);
    return {
      started: Promise.resolve(t0),
      position,
      get finished() {
        return finished;
      },
      done,
      stop: (playedMs?: number) => {
        if (playedMs !== undefined) {
          const p = Math.max(0, Math.min(totalMs, playedMs));
          finish(p, p < totalMs);
        } else if (!finished) stopNow();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stop of [...this.active]) stop();
  }
}

/** Plays into nothing (the reply is only in the transcript/history). */
export class NullSink extends MemorySink {
  override readonly kind: SinkKind = 'none';
  override readonly label = 'none';
  constructor() {
    super({ keep: false });
  }
}

/** Writes what the caller heard, all replies in order, to one WAV when the call closes. */
export class FileSink extends MemorySink {
  override readonly kind: SinkKind = 'file';
  override readonly label: string;
  private written = false;
  private opened = false;

  constructor(readonly path: string) {
    super({ keep: true });
    this.label = `file ${path}`;
  }

  override async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.opened = true;
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.written || !this.opened) return;
    this.written = true;
    const rate = this.clips[0]?.audio.sampleRate ?? 24000;
    const parts = this.clips.map((c) => resample(heardAudio(c), rate));
    await writeFile(this.path, encodeWav(concatPcm(parts, rate)));
  }
}
