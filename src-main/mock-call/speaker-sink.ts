/**
 * Playback on the computer's speakers through `speaker`, isolated in a child process (see
 * speaker-child.ts). `open()` starts the child, which probes the device; a device that makes
 * `speaker` abort costs only the child and comes back as an AudioDeviceError.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { durationMs, type PcmAudio } from '../../src-shared/audio/wav';
import { terminate, trackChild } from './child-registry';
import { AudioDeviceError, speakerHint, stderrTail } from './errors';
import { SPEAKER_CHILD_SOURCE } from './speaker-child';
import type { AudioSink, PlaybackHandle, PlaybackResult } from './types';

export interface SpeakerSinkOptions {
  /** ALSA device name; '' or undefined = the system default */
  device?: string;
  /** the Node (or Electron) binary that runs the child; default process.execPath */
  execPath?: string;
  /** resolved path of the `speaker` package; default: resolved from here */
  speakerModule?: string;
  /** time allowed for the child to start and open the device */
  openTimeoutMs?: number;
  /** time allowed for the child to confirm a stop before it is killed */
  stopTimeoutMs?: number;
}

type ChildMessage =
  | { t: 'ready' }
  | { t: 'fatal'; message: string }
  | { t: 'started'; id: number }
  | { t: 'progress'; id: number; written: number }
  | { t: 'done'; id: number; written: number; stopped: boolean; error?: string };

interface Job {
  id: number;
  totalMs: number;
  bytesPerMs: number;
  startedAt: number | null;
  writtenMs: number;
  stopRequestedAt: number | null;
  stopPosition: number | null;
  finished: boolean;
  resolveStarted: (t: number) => void;
  resolveDone: (r: PlaybackResult) => void;
  stopTimer?: NodeJS.Timeout;
}

let resolvedSpeaker: string | null = null;
function speakerModulePath(): string {
  if (!resolvedSpeaker) resolvedSpeaker = createRequire(import.meta.url).resolve('speaker');
  return resolvedSpeaker;
}

export class SpeakerSink implements AudioSink {
  readonly kind = 'speaker' as const;
  readonly label: string;
  private child: ChildProcess | null = null;
  private stderr = '';
  private job: Job | null = null;
  private nextId = 1;
  private closed = false;
  private opening: Promise<void> | null = null;

  constructor(private readonly opts: SpeakerSinkOptions = {}) {
    this.label = `speaker ${opts.device || 'default'}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  open(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('speaker sink is closed'));
    if (this.child && this.child.exitCode === null && this.child.signalCode === null && !this.opening) return Promise.resolve();
    this.opening ??= this.spawnChild().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private spawnChild(): Promise<void> {
    const device = this.opts.device || '';
    this.stderr = '';
    const child = spawn(this.opts.execPath ?? process.execPath, ['-e', SPEAKER_CHILD_SOURCE], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: {
        ...process.env,
        ELECTRON_RUN_AS_NODE: '1',
        CF_SPEAKER_MODULE: this.opts.speakerModule ?? speakerModulePath(),
        CF_SPEAKER_DEVICE: device,
      },
    });
    this.child = child;
    trackChild(child);
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-4096);
    });
    const where = device || 'the default output device';
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const err = new AudioDeviceError('no_output_device', `cannot play on ${where}: ${why}`, speakerHint());
        // reject once the child is gone, so a failed open leaves no process behind
        void terminate(child, 500).then(() => reject(err));
      };
      const timer = setTimeout(() => fail('the player process did not start in time'), this.opts.openTimeoutMs ?? 15_000);
      child.on('error', (e) => fail(e.message));
      child.on('message', (m: ChildMessage) => {
        if (m.t === 'ready' && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve();
        } else if (m.t === 'fatal') fail(`${m.message}${this.stderr ? ` (${stderrTail(this.stderr)})` : ''}`);
        else this.onMessage(m);
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        const tail = stderrTail(this.stderr);
        const how = signal === 'SIGABRT' ? 'the player process aborted' : `the player process exited (${signal ?? `code ${code}`})`;
        fail(`${how}${tail ? `: ${tail}` : ''}`);
        this.failJob(`output device lost: ${how}${tail ? `: ${tail}` : ''}`);
      });
    });
  }

  private onMessage(m: ChildMessage): void {
    const job = this.job;
    if (!job || !('id' in m) || m.id !== job.id) return;
    if (m.t === 'started') {
      job.startedAt = performance.now();
      job.resolveStarted(job.startedAt);
    } else if (m.t === 'progress') {
      job.writtenMs = m.written / job.bytesPerMs;
    } else if (m.t === 'done') {
      job.writtenMs = m.written / job.bytesPerMs;
      const played = job.stopPosition ?? (m.error ? this.position(job) : job.totalMs);
      this.settle(job, { totalMs: job.totalMs, playedMs: played, interrupted: job.stopPosition !== null || !!m.error, ...(m.error ? { error: m.error } : {}) });
    }
  }

  private position(job: Job): number {
    if (job.finished) return job.stopPosition ?? job.totalMs;
    if (job.startedAt === null) return 0;
    return Math.max(0, Math.min(job.totalMs, job.writtenMs, performance.now() - job.startedAt));
  }

  private settle(job: Job, r: PlaybackResult): void {
    if (job.finished) return;
    job.finished = true;
    if (job.stopTimer) clearTimeout(job.stopTimer);
    if (this.job === job) this.job = null;
    job.resolveStarted(job.startedAt ?? performance.now());
    job.resolveDone(r);
  }

  private failJob(error: string): void {
    const job = this.job;
    if (job) this.settle(job, { totalMs: job.totalMs, playedMs: this.position(job), interrupted: true, error });
  }

  play(audio: PcmAudio): PlaybackHandle {
    const totalMs = durationMs(audio);
    let resolveStarted!: (t: number) => void;
    let resolveDone!: (r: PlaybackResult) => void;
    const started = new Promise<number>((r) => (resolveStarted = r));
    const done = new Promise<PlaybackResult>((r) => (resolveDone = r));
    const job: Job = {
      id: this.nextId++,
      totalMs,
      bytesPerMs: (audio.sampleRate * 2) / 1000,
      startedAt: null,
      writtenMs: 0,
      stopRequestedAt: null,
      stopPosition: null,
      finished: false,
      resolveStarted,
      resolveDone,
    };
    if (this.job) this.stopJob(this.job);
    this.job = job;
    const pcm = new Uint8Array(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength);
    this.open()
      .then(() => {
        if (job.finished) return;
        if (!this.child?.connected) throw new Error('the player process is gone');
        this.child.send({ t: 'play', id: job.id, rate: audio.sampleRate, pcm });
      })
      .catch((e: Error) => {
        if (this.job === job) this.failJob(e.message);
      });
    return {
      started,
      position: () => this.position(job),
      get finished() {
        return job.finished;
      },
      done,
      stop: (playedMs?: number) => {
        if (playedMs !== undefined && !job.finished) job.stopPosition = Math.max(0, Math.min(totalMs, playedMs));
        this.stopJob(job);
      },
    };
  }

  private stopJob(job: Job): void {
    if (job.finished || job.stopRequestedAt !== null) return;
    job.stopRequestedAt = performance.now();
    job.stopPosition ??= this.position(job);
    if (!this.child?.connected) {
      this.settle(job, { totalMs: job.totalMs, playedMs: job.stopPosition, interrupted: true });
      return;
    }
    this.child.send({ t: 'stop', id: job.id });
    job.stopTimer = setTimeout(() => {
      // the child did not confirm: kill it (silence for sure); the next play starts a new one
      const c = this.child;
      this.settle(job, { totalMs: job.totalMs, playedMs: job.stopPosition ?? 0, interrupted: true });
      if (c) void terminate(c, 200);
    }, this.opts.stopTimeoutMs ?? 2000);
  }

  async close(): Promise<void> {
    this.closed = true;
    const job = this.job;
    if (job) this.settle(job, { totalMs: job.totalMs, playedMs: this.position(job), interrupted: true });
    const c = this.child;
    this.child = null;
    if (c) await terminate(c, 1000);
  }
}
