/**
 * The computer's microphone through node-record-lpcm16 (arecord, sox or rec as a child process),
 * 16 kHz mono signed 16-bit. The recorder is registered so it never outlives the gateway.
 */
import recorderLib, { type Recording } from 'node-record-lpcm16';
import { resolveRecorder, type RecorderChoice, type RecorderName } from './binaries';
import { ChunkQueue } from './chunk-queue';
import { trackChild, terminate } from './child-registry';
import { AudioDeviceError, microphoneHint, stderrTail } from './errors';
import { SOURCE_RATE, type AudioSource } from './types';

export interface MicrophoneOptions {
  /** ALSA/sox device name; '' or undefined = the system default */
  device?: string;
  recorder?: RecorderChoice;
  /** PATH used to look for the recorder (tests) */
  searchPath?: string;
  /**
   * The capture device is not real time (an ALSA `file` device reading a file): read it with
   * back-pressure, run the call on audio time, and end after `maxBytes`.
   */
  unpaced?: { maxBytes: number };
  /** no audio within this time → the microphone is reported dead */
  firstAudioTimeoutMs?: number;
  /** most audio kept while nobody reads (live) */
  maxQueueMs?: number;
}

export class MicrophoneSource implements AudioSource {
  readonly kind = 'microphone' as const;
  readonly live: boolean;
  readonly label: string;
  private recording: Recording | null = null;
  private queue: ChunkQueue;
  private stderr = '';
  private carry: number | null = null;
  private bytes = 0;
  private stopped = false;
  /** we asked the recorder to exit (stop, byte limit): its exit is not a failure */
  private expectExit = false;
  private failure: string | null = null;
  private recorderName: RecorderName | null = null;

  constructor(private readonly opts: MicrophoneOptions = {}) {
    this.live = !opts.unpaced;
    this.label = `microphone ${opts.device || 'default'}`;
    const maxMs = opts.unpaced ? 2000 : (opts.maxQueueMs ?? 30_000);
    this.queue = new ChunkQueue(Math.round((SOURCE_RATE * maxMs) / 1000), opts.unpaced ? () => this.resumeStream() : undefined);
  }

  /** Why the source ended on its own (recorder died), or null. */
  get error(): string | null {
    return this.failure;
  }

  get recorder(): RecorderName | null {
    return this.recorderName;
  }

  get pid(): number | undefined {
    return this.recording?.process.pid;
  }

  async start(): Promise<void> {
    if (this.recording) throw new Error('microphone already started');
    const name = resolveRecorder(this.opts.recorder ?? 'auto', this.opts.searchPath);
    this.recorderName = name;
    const rec = recorderLib.record({
      sampleRate: SOURCE_RATE,
      channels: 1,
      audioType: 'raw',
      recorder: name,
      device: this.opts.device || null,
    });
    this.recording = rec;
    const child = rec.process;
    trackChild(child);
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-4096);
    });
    const stream = rec.stream();
    const device = this.opts.device || 'the default capture device';

    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new AudioDeviceError('no_microphone', `${name} could not record from ${device}: ${why}`, microphoneHint()));
      };
      const timer = setTimeout(() => fail('no audio arrived'), this.opts.firstAudioTimeoutMs ?? 5000);
      child.on('error', (e) => {
        this.failure = `${name} failed: ${e.message}`;
        fail(e.message);
        this.queue.end();
      });
      child.on('exit', (code, signal) => {
        const why = stderrTail(this.stderr) || `exited with ${signal ?? `code ${code}`}`;
        if (!settled) fail(why);
        else if (!this.expectExit) this.failure = `${name} stopped: ${why}`;
        this.queue.end();
      });
      // node-record-lpcm16 reports a non-zero exit as a string 'error' on the stream
      stream.on('error', () => undefined);
      stream.on('end', () => this.queue.end());
      stream.on('data', (buf: Buffer) => {
        this.onData(buf);
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve();
        }
      });
    }).catch(async (e) => {
      await this.stop();
      throw e;
    });
  }

  private onData(buf: Buffer): void {
    if (this.stopped || this.queue.isEnded) return;
    let data: Uint8Array = buf;
    const max = this.opts.unpaced?.maxBytes;
    if (max !== undefined && this.bytes + data.length >= max) data = data.subarray(0, Math.max(0, max - this.bytes));
    this.bytes += data.length;
    this.queue.push(this.toSamples(data));
    if (max !== undefined && this.bytes >= max) {
      this.queue.end();
      void this.killRecorder();
      return;
    }
    if (this.opts.unpaced && !this.queue.hasRoom) this.recording?.stream().pause();
  }

  /** Little-endian int16 from a byte stream that may split samples across chunks. */
  private toSamples(data: Uint8Array): Int16Array {
    const lead = this.carry === null ? 0 : 1;
    const total = lead + data.length;
    const n = total >> 1;
    const out = new Int16Array(n);
    let i = 0;
    let k = 0;
    if (this.carry !== null && data.length > 0) {
      out[k++] = (this.carry | (data[0] << 8)) << 16 >> 16;
      i = 1;
      this.carry = null;
    }
    for (; i + 1 < data.length; i += 2) out[k++] = (data[i] | (data[i + 1] << 8)) << 16 >> 16;
    if (i < data.length) this.carry = data[i];
    return k === n ? out : out.subarray(0, k);
  }

  private resumeStream(): void {
    const rec = this.recording;
    if (rec && !this.stopped && rec.stream().isPaused()) rec.stream().resume();
  }

  read(): Promise<Int16Array | null> {
    return this.queue.read();
  }

  flush(): void {
    this.carry = null;
    this.queue.flush();
  }

  private async killRecorder(): Promise<void> {
    const rec = this.recording;
    if (!rec) return;
    this.expectExit = true;
    rec.stream().resume(); // a paused pipe must not keep the recorder blocked in write()
    await terminate(rec.process);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.close();
    await this.killRecorder();
  }
}
