/**
 * The engine implementations available to `EngineSet`, per stage and kind. Each factory builds its
 * engine once and hands out the same instance on every (re)selection.
 */
import type { AppConfig } from '../../src-shared/config/schema';
import { createOpenAiEngines } from './openai';
import type { EngineProviders } from './select';

function once<T>(f: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= f());
}

export function defaultProviders(config: () => AppConfig): EngineProviders {
  const openai = once(() => createOpenAiEngines(config));
  return {
    asr: { openai: () => openai().asr },
    tts: { openai: () => openai().speech, piper: () => openai().piper },
    llm: { openai: () => openai().llm },
  };
}
