/**
 * Factories of the embedded engines. Each reads config through the getter on every call, so a change of
 * model, threads, voice or rate applies to the next turn. Engines load lazily; call `warmup()` at start.
 */
import type { ModelResolver } from '../../models/manager';
import type { GetConfig } from './common';
import { EspeakTts, type EspeakTtsOptions } from './espeak-tts';
import { LlamaLlm, type LlamaLlmOptions } from './llama-llm';
import { PiperTts, type PiperTtsOptions } from './piper-tts';
import { WhisperAsr } from './whisper-asr';

export interface EmbeddedOptions {
  /** the model manager (resolves `whisper_model` / `llama_model`, verifies checksums) */
  models?: ModelResolver;
  /** a fixed model file instead (tests, benchmarks) */
  modelPath?: string;
}

export function createWhisperAsr(getConfig: GetConfig, opts: EmbeddedOptions = {}): WhisperAsr {
  return new WhisperAsr(getConfig, opts);
}

export function createLlamaLlm(getConfig: GetConfig, opts: EmbeddedOptions & Pick<LlamaLlmOptions, 'log'> = {}): LlamaLlm {
  return new LlamaLlm(getConfig, opts);
}

export function createEspeakTts(getConfig: GetConfig, opts: EspeakTtsOptions = {}): EspeakTts {
  return new EspeakTts(getConfig, opts);
}

/** A downloaded Piper voice (tts_engine "piper" with piper_backend "local"). Pass `phonemizer` to share espeak's process. */
export function createPiperTts(getConfig: GetConfig, opts: EmbeddedOptions & Pick<PiperTtsOptions, 'phonemizer'> = {}): PiperTts {
  return new PiperTts(getConfig, opts);
}

export { WhisperAsr, whisperBuildSimd, audioCtxFor, toWhisperPcm } from './whisper-asr';
export type { WhisperResult, WhisperSegment } from './whisper-asr';
export { LlamaLlm } from './llama-llm';
export type { LlamaResult } from './llama-llm';
export { EspeakTts, ESPEAK_RATE } from './espeak-tts';
export { PiperTts, phonemeIds } from './piper-tts';
export { EspeakProcess } from './espeak-process';
export { inspectWhisperModel, ModelFileError } from './whisper-format';
