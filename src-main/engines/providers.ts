/**
 * The engine implementations available to `EngineSet`, per stage and kind. Each factory builds its
 * engine once and hands out the same instance on every (re)selection.
 */
import type { AppConfig } from '../../src-shared/config/schema';
import type { ModelResolver } from '../models/manager';
import { createEspeakTts, createLlamaLlm, createPiperTts, createWhisperAsr } from './embedded';
import { createOpenAiEngines } from './openai';
import type { EngineProviders } from './select';

function once<T>(f: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= f());
}

export function defaultProviders(config: () => AppConfig, deps: { models?: ModelResolver } = {}): EngineProviders {
  const openai = once(() => createOpenAiEngines(config));
  const whisper = once(() => createWhisperAsr(config, { models: deps.models }));
  const llama = once(() => createLlamaLlm(config, { models: deps.models }));
  const espeak = once(() => createEspeakTts(config));
  // local Piper voices phonemise through the espeak child process (GPL stays out of our process)
  const localPiper = once(() => createPiperTts(config, { models: deps.models, phonemizer: espeak().process() }));
  return {
    asr: { openai: () => openai().asr, whisper },
    tts: { openai: () => openai().speech, piper: () => (config().piper_backend === 'local' ? localPiper() : openai().piper), espeak },
    llm: { openai: () => openai().llm, llama },
  };
}
