/**
 * Engine interfaces. Every stage has an OpenAI-compatible HTTP implementation (engines/openai) and an
 * embedded in-process one (engines/embedded); the composition root picks per stage from config.
 * All of them must be cancellable (AbortSignal) and must not block the event loop.
 */
import type { PcmAudio } from '../../src-shared/audio/wav';

export interface EngineHealth {
  ok: boolean;
  /** what a person should do when not ok */
  error?: string;
  [k: string]: unknown;
}

export interface AsrInput {
  /** the uploaded file bytes (a WAV) */
  wav: Uint8Array;
  /** decoded mono audio at its own rate; embedded engines resample */
  audio: PcmAudio;
  language?: string;
  signal?: AbortSignal;
}

export interface AsrSegment { start: number; end: number; text: string; noSpeechProb?: number }
export interface AsrResult {
  text: string;
  segments?: AsrSegment[];
  noSpeechProb?: number;
}

export interface Asr {
  readonly kind: string; // 'openai' | 'whisper' …
  transcribe(input: AsrInput): Promise<AsrResult>;
  health(): Promise<EngineHealth>;
  /** load weights / open connections ahead of the first call */
  warmup?(): Promise<void>;
  close?(): Promise<void>;
}

export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string }

export interface LlmParams {
  maxTokens: number;
  temperature: number;
  /** only set when enabled and < 1 */
  topP?: number;
  /** only set when enabled and > 0 */
  topK?: number;
  /** only set when != 1 */
  repeatPenalty?: number;
  stop?: string[];
}

export interface LlmRequest {
  messages: ChatMessage[];
  params: LlmParams;
  signal?: AbortSignal;
  /** stable key per call so an engine can keep that conversation's KV cache (prefix reuse) */
  sessionKey?: string;
  /** called with each text piece as it is generated */
  onToken?: (piece: string) => void;
}

export interface LlmResult {
  text: string;
  /** time to first token, ms, when streamed */
  ttftMs?: number;
  tokens?: number;
}

export interface Llm {
  readonly kind: string; // 'openai' | 'llama'
  /** the `metrics.llm_model` label (upstream: "local/<model>" or "<model>") */
  label(): string;
  complete(req: LlmRequest): Promise<LlmResult>;
  /** context window in tokens; 0 if unknown */
  contextWindow(): number;
  /** forget per-session state (KV cache) when a call ends */
  releaseSession?(sessionKey: string): void;
  health(): Promise<EngineHealth>;
  warmup?(): Promise<void>;
  close?(): Promise<void>;
}

export interface TtsOptions { voice?: string; speed?: number; signal?: AbortSignal }

export interface Tts {
  readonly kind: string; // 'openai' | 'piper' | 'espeak' …
  /** mono PCM at the engine's rate; the gateway resamples and encodes the canonical WAV */
  synthesize(text: string, opts?: TtsOptions): Promise<PcmAudio>;
  health(): Promise<EngineHealth>;
  warmup?(): Promise<void>;
  close?(): Promise<void>;
}

export interface Engines {
  asr: Asr;
  llm: Llm;
  tts: Tts;
}

/** An engine that is not available; every call fails with a message saying how to fix it. */
export class EngineUnavailableError extends Error {
  constructor(readonly stage: 'asr' | 'llm' | 'tts', message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}
