/** Per-frame speech scoring for endpointing: Silero VAD, or an energy threshold as fallback. */

/** Samples per frame at 16 kHz: Silero v5's window (32 ms). */
export const FRAME_SAMPLES = 512;
export const FRAME_MS = 32;

export type VadEngine = 'silero' | 'energy';

export interface FrameClassifier {
  readonly engine: VadEngine;
  /** Speech probability (0..1) of one FRAME_SAMPLES frame of 16 kHz audio. Frames must be fed in order. */
  classify(frame: Int16Array): Promise<number>;
  /** Forget the stream's history (after a gap in the audio). */
  reset(): void;
}
