/**
 * Parent side of espeak-child.mjs: spawns it, frames requests and responses, restarts it after a crash,
 * and gives up with a clear error when it dies repeatedly (instead of a restart loop).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { abortError } from './common';

export const ESPEAK_CHILD = fileURLToPath(new URL('./espeak-child.mjs', import.meta.url));

const T_AUDIO = 1;
const T_DONE = 2;
const T_ERROR = 3;
const T_READY = 4;
const T_RESULT = 5;

export interface SynthRequest { text: string; voice: string; rate: number; pitch: number }
export interface SynthResult { sampleRate: number; samples: Int16Array; ms: number }
export interface EspeakVoice { id: string; name: string; languages: string[] }

interface Pending {
  id: number;
  line: string;
  chunks: Buffer[];
  resolve(v: unknown): void;
  reject(e: Error): void;
  kind: 'synth' | 'result';
  onChunk?: (samples: Int16Array) => void;
  signal?: AbortSignal;
  sent: boolean;
}

export interface EspeakProcessOptions {
  /** crashes within `crashWindowMs` after which it stops restarting */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** how long to wait for the child to start */
  startTimeoutMs?: number;
  childPath?: string;
}

export class EspeakProcess {
  private child: ChildProcessWithoutNullStreams | null = null;
  private ready: Promise<number> | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly queue: Pending[] = [];
  private inflight: Pending | null = null;
  private crashes: number[] = [];
  private failed: string | null = null;
  private closed = false;
  sampleRate = 22050;
  restarts = 0;

  constructor(private readonly opts: EspeakProcessOptions = {}) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Why it stopped restarting, if it did. */
  get failure(): string | null {
    return this.failed;
  }

  private start(): Promise<number> {
    if (this.ready) return this.ready;
    this.ready = new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [this.opts.childPath ?? ESPEAK_CHILD], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '', ELECTRON_RUN_AS_NODE: '1', NODE_OPTIONS: '' },
        windowsHide: true,
      });
      this.child = child;
      this.buf = Buffer.alloc(0);
      let stderr = '';
      const timer = setTimeout(() => { reject(new Error('espeak-ng process did not start in time')); child.kill('SIGKILL'); }, this.opts.startTimeoutMs ?? 20_000);
      child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
      child.stdin.on('error', () => undefined); // EPIPE after a crash is reported by 'exit'
      child.stdout.on('data', (d: Buffer) => this.onData(d, (rate) => { clearTimeout(timer); this.sampleRate = rate; resolve(rate); }));
      child.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot start the espeak-ng process: ${e.message}`)); });
      child.on('exit', (code, sig) => {
        clearTimeout(timer);
        if (this.child === child) this.child = null;
        this.ready = null;
        const why = `espeak-ng process exited (${sig ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`;
        reject(new Error(why));
        if (this.closed) return;
        const now = Date.now();
        this.crashes = [...this.crashes.filter((t) => now - t < (this.opts.crashWindowMs ?? 60_000)), now];
        if (this.crashes.length >= (this.opts.maxCrashes ?? 3)) {
          this.failed = `the espeak-ng voice process crashed ${this.crashes.length} times in a row (last: ${why}); speech is disabled until the TTS settings change or the app restarts`;
        }
        const lost = this.inflight;
        this.inflight = null;
        if (lost) lost.reject(new Error(why));
        if (this.failed) {
          for (const p of this.queue.splice(0)) p.reject(new Error(this.failed));
        } else {
          this.restarts++;
          this.pump();
        }
      });
    });
    this.ready.catch(() => undefined);
    return this.ready;
  }

  private onData(d: Buffer, onReady: (rate: number) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + len) break;
      const type = this.buf.readUInt8(4);
      const id = this.buf.readUInt32LE(5);
      const payload = this.buf.subarray(9, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      if (type === T_READY) { onReady((JSON.parse(payload.toString('utf8')) as { sampleRate: number }).sampleRate); continue; }
      const p = this.inflight;
      if (!p || p.id !== id) continue; // a reply to an abandoned request
      if (type === T_AUDIO) {
        const copy = Buffer.from(payload); // own, aligned memory
        p.chunks.push(copy);
        p.onChunk?.(new Int16Array(copy.buffer, copy.byteOffset, copy.length / 2));
        continue;
      }
      this.inflight = null;
      if (type === T_DONE) {
        const info = JSON.parse(payload.toString('utf8')) as { sampleRate: number; ms: number };
        const all = Buffer.concat(p.chunks);
        const samples = new Int16Array(all.length / 2);
        new Uint8Array(samples.buffer).set(all);
        p.resolve({ sampleRate: info.sampleRate, samples, ms: info.ms } satisfies SynthResult);
      } else if (type === T_RESULT) {
        p.resolve(JSON.parse(payload.toString('utf8')));
      } else if (type === T_ERROR) {
        p.reject(new Error(`espeak-ng: ${(JSON.parse(payload.toString('utf8')) as { message: string }).message}`));
      }
      this.pump();
    }
  }

  private pump(): void {
    if (this.inflight || this.closed) return;
    let next = this.queue.shift();
    while (next?.signal?.aborted) {
      next.reject(abortError(next.signal));
      next = this.queue.shift();
    }
    if (!next) return;
    this.inflight = next;
    this.start().then(() => {
      if (this.inflight !== next || !this.child) return;
      next.sent = true;
      this.child.stdin.write(next.line + '\n');
    }, (e: Error) => {
      if (this.inflight === next) { this.inflight = null; next.reject(e); this.pump(); }
    });
  }

  private request<T>(body: Record<string, unknown>, kind: Pending['kind'], signal?: AbortSignal, onChunk?: (s: Int16Array) => void): Promise<T> {
    if (this.closed) return Promise.reject(new Error('espeak-ng process is closed'));
    if (this.failed) return Promise.reject(new Error(this.failed));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { id, line: JSON.stringify({ id, ...body }), chunks: [], resolve: resolve as (v: unknown) => void, reject, kind, onChunk, signal, sent: false };
      signal?.addEventListener('abort', () => {
        const i = this.queue.indexOf(p);
        if (i >= 0) this.queue.splice(i, 1);
        // an in-flight sentence takes milliseconds: let it finish, drop its reply
        if (this.inflight === p) p.resolve = () => undefined;
        reject(abortError(signal));
      }, { once: true });
      this.queue.push(p);
      this.pump();
    });
  }

  synth(req: SynthRequest, signal?: AbortSignal, onChunk?: (samples: Int16Array) => void): Promise<SynthResult> {
    return this.request<SynthResult>({ op: 'synth', ...req }, 'synth', signal, onChunk);
  }

  /** IPA phonemes of `text` for a Piper voice (clauses keep their punctuation). */
  async phonemes(text: string, voice: string, signal?: AbortSignal): Promise<string> {
    return (await this.request<{ phonemes: string }>({ op: 'phonemes', text, voice }, 'result', signal)).phonemes;
  }

  voices(): Promise<EspeakVoice[]> {
    return this.request<EspeakVoice[]>({ op: 'voices' }, 'result');
  }

  /** Tests: make the child exit as if it crashed. */
  crashForTest(): Promise<unknown> {
    return this.request({ op: 'crash' }, 'result').catch((e: Error) => e);
  }

  /** Start the process now (warm-up). */
  async ensureStarted(): Promise<void> {
    if (this.failed) throw new Error(this.failed);
    await this.start();
  }

  /** Clear a give-up state (after a settings change). */
  reset(): void {
    this.failed = null;
    this.crashes = [];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('espeak-ng process is closed'));
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { child.kill('SIGKILL'); }, 2000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
      child.stdin.end();
    });
  }
}
