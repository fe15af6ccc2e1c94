/**
 * Audio plumbing of mock calls: where the caller's voice comes from and where the reply goes.
 * Sources deliver 16 kHz mono int16 PCM; sinks play mono int16 PCM at any rate.
 */
import type { PcmAudio } from '../../src-shared/audio/wav';

export const SOURCE_RATE = 16000;

export type SourceKind = 'microphone' | 'file';
export type SinkKind = 'speaker' | 'file' | 'memory' | 'none';

export interface AudioSource {
  readonly kind: SourceKind;
  /**
   * true: captures in real time whether or not it is read (a microphone, a paced file), so audio
   * captured while the call is busy is stale and flushed. false: delivers audio only as fast as it
   * is read (a file replayed unpaced, an unpaced test device): the call runs on audio time.
   */
  readonly live: boolean;
  /** human-readable description for state snapshots (device name, file name) */
  readonly label: string;
  /** why the source ended on its own (device lost), or null */
  readonly error: string | null;
  /** Opens the device. Rejects with an AudioDeviceError when it cannot deliver audio. */
  start(): Promise<void>;
  /** Next chunk of 16 kHz samples (any length > 0); null once the source has ended or was stopped. */
  read(): Promise<Int16Array | null>;
  /** Drop everything captured but not read yet (live sources). */
  flush(): void;
  /** Stops capture and releases the device; pending reads resolve null. Idempotent. */
  stop(): Promise<void>;
}

export interface PlaybackResult {
  totalMs: number;
  /** how much of the reply the listener heard */
  playedMs: number;
  /** stopped before the end (barge-in, call stopped) */
  interrupted: boolean;
  /** playback failed (device lost); playedMs is what was played before */
  error?: string;
}

export interface PlaybackHandle {
  /** resolves with performance.now() when the first sample reached the device */
  readonly started: Promise<number>;
  /** ms of the reply played so far (wall clock, clamped to what the device accepted) */
  position(): number;
  /** true once playback ended by itself or was stopped */
  readonly finished: boolean;
  readonly done: Promise<PlaybackResult>;
  /**
   * Stops playback at once. `playedMs`: how much the listener heard when the call runs on audio
   * time (unpaced sources); sinks that keep a record truncate it to that, even after they finished.
   * Without it the sink's own position counts.
   */
  stop(playedMs?: number): void;
}

export interface AudioSink {
  readonly kind: SinkKind;
  readonly label: string;
  /** Opens/probes the output. Rejects with an AudioDeviceError when it cannot play. */
  open(): Promise<void>;
  play(audio: PcmAudio): PlaybackHandle;
  /** Stops any playback and releases the device. Idempotent. */
  close(): Promise<void>;
}
