/**
 * Mock-call keys (ours). Owned by the mock-call capability.
 *
 * Endpointing defaults mirror the phone's compile-time constants (phone spec §2.2) so a mock call
 * cuts utterances the way a real call does: 1.2 s pre-roll, 180 ms minimum speech, 520 ms of
 * silence ends an utterance, 8 s hard cut. Unlike the phone, silence must be continuous.
 */
import { z } from 'zod';

/** ALSA/sox device names: `default`, `plughw:CARD=PCH,DEV=0`, `sysdefault:CARD=USB`; '' = system default. */
export const AUDIO_DEVICE_ID = /^(?:[A-Za-z0-9_][A-Za-z0-9_:,.=@-]{0,127})?$/;

export const mockCallKeys = {
  /**
   * Let the caller talk over the reply: playback stops at once and only the heard part of the reply
   * counts. There is no echo cancellation: with loudspeakers the reply itself can trigger it — use
   * headphones (or raise the minimum speech below).
   */
  mock_barge_in: z.boolean().default(false),
  /** Speech needed over a playing reply before it is cut (guards against clicks and speaker echo). */
  mock_barge_in_min_speech_ms: z.number().int().min(32).max(3000).default(200),
  /** `silero` (bundled Silero VAD v5 model); falls back to `energy` when the model cannot load. */
  mock_vad_engine: z.enum(['silero', 'energy']).default('silero'),
  /** Silero speech probability that starts speech; speech continues down to this value − 0.15. */
  mock_vad_threshold: z.number().min(0.05).max(0.95).default(0.5),
  /** Energy fallback: a 32 ms frame with RMS at or above this (int16 units) counts as speech. */
  mock_vad_energy_threshold: z.number().int().min(1).max(32767).default(300),
  /** Audio kept from before speech onset and prepended to the utterance (phone: 1,200 ms). */
  mock_vad_pre_roll_ms: z.number().int().min(0).max(5000).default(1200),
  /** Shorter speech is discarded (phone: 180 ms). */
  mock_vad_min_speech_ms: z.number().int().min(32).max(5000).default(180),
  /** Continuous non-speech that ends an utterance (phone: 520 ms). */
  mock_vad_end_silence_ms: z.number().int().min(96).max(10_000).default(520),
  /** Hard cut of one utterance, pre-roll included (phone: 8,000 ms). */
  mock_vad_max_utterance_ms: z.number().int().min(500).max(60_000).default(8000),
  /** Capture device (see GET /api/mock-call/devices); '' = system default. */
  mock_input_device: z.string().regex(AUDIO_DEVICE_ID, 'invalid audio device name').default(''),
  /** Playback device; '' = system default. */
  mock_output_device: z.string().regex(AUDIO_DEVICE_ID, 'invalid audio device name').default(''),
  /** Recorder binary for the microphone: `auto` = arecord on Linux when present, else sox. */
  mock_recorder: z.enum(['auto', 'arecord', 'sox', 'rec']).default('auto'),
  /** Interval of `mock.level` events. */
  mock_level_interval_ms: z.number().int().min(32).max(2000).default(100),
};
