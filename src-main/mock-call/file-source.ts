/**
 * "Replay this WAV as the caller": a WAV file or buffer as the call's audio source. Unpaced by
 * default (the call runs on audio time, as fast as the pipeline allows); `realtime` paces it like
 * a person talking into a microphone.
 */
import { readFile, stat } from 'node:fs/promises';
import { resample } from '../../src-shared/audio/resample';
import { parseWav, type PcmAudio } from '../../src-shared/audio/wav';
import { ChunkQueue } from './chunk-queue';
import { AudioDeviceError } from './errors';
import { SOURCE_RATE, type AudioSource } from './types';

export const MAX_REPLAY_FILE_BYTES = 64 * 1024 * 1024;
const CHUNK = 1024;
const TICK_MS = 20;

export interface FileSourceOptions {
  /** WAV file path, or the WAV bytes */
  wav: string | Uint8Array;
  /** pace delivery at real time (a live source) */
  realtime?: boolean;
  label?: string;
}

export class FileSource implements AudioSource {
  readonly kind = 'file' as const;
  readonly live: boolean;
  readonly label: string;
  readonly error = null;
  private audio: PcmAudio | null = null;
  private pos = 0;
  private stopped = false;
  private queue: ChunkQueue | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: FileSourceOptions) {
    this.live = !!opts.realtime;
    this.label = opts.label ?? (typeof opts.wav === 'string' ? `file ${opts.wav}` : 'WAV buffer');
  }

  /** Duration of the loaded audio in ms (after start). */
  get durationMs(): number {
    return this.audio ? (this.audio.samples.length / SOURCE_RATE) * 1000 : 0;
  }

  async start(): Promise<void> {
    this.audio = await loadReplayWav(this.opts.wav);
    if (!this.live) return;
    this.queue = new ChunkQueue(SOURCE_RATE * 30);
    const t0 = performance.now();
    const pump = () => {
      const audio = this.audio!;
      const due = Math.min(audio.samples.length, Math.floor(((performance.now() - t0) / 1000) * SOURCE_RATE));
      while (this.pos < due) {
        const end = Math.min(due, this.pos + CHUNK);
        this.queue!.push(audio.samples.slice(this.pos, end));
        this.pos = end;
      }
      if (this.pos >= audio.samples.length) {
        this.queue!.end();
        this.clearTimer();
      }
    };
    this.timer = setInterval(pump, TICK_MS);
  }

  read(): Promise<Int16Array | null> {
    if (this.queue) return this.queue.read();
    const audio = this.audio;
    if (!audio || this.stopped || this.pos >= audio.samples.length) return Promise.resolve(null);
    const end = Math.min(audio.samples.length, this.pos + CHUNK);
    const chunk = audio.samples.subarray(this.pos, end);
    this.pos = end;
    return Promise.resolve(chunk);
  }

  flush(): void {
    this.queue?.flush();
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    this.queue?.close();
  }
}

/** Read and decode a WAV to replay; resampled to 16 kHz mono. Errors are AudioDeviceError('bad_audio_file'). */
export async function loadReplayWav(wav: string | Uint8Array): Promise<PcmAudio> {
  let bytes: Uint8Array;
  if (typeof wav === 'string') {
    let size: number;
    try {
      const st = await stat(wav);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (e) {
      throw new AudioDeviceError('bad_audio_file', `cannot read ${wav}: ${(e as Error).message}`, 'Give the absolute path of an existing .wav file.');
    }
    if (size > MAX_REPLAY_FILE_BYTES) {
      throw new AudioDeviceError('bad_audio_file', `${wav} is ${size} bytes; the limit is ${MAX_REPLAY_FILE_BYTES}`, 'Use a shorter recording.');
    }
    bytes = new Uint8Array(await readFile(wav));
  } else {
    bytes = wav;
  }
  try {
    const pcm = parseWav(bytes);
    if (pcm.samples.length === 0) throw new Error('the WAV holds no audio');
    return resample(pcm, SOURCE_RATE);
  } catch (e) {
    throw new AudioDeviceError('bad_audio_file', `not a playable WAV: ${(e as Error).message}`, 'Use a PCM WAV file (any rate, mono or stereo).');
  }
}
