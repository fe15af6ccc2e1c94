import { describe, expect, it } from 'vitest';
import { missingModelKinds } from './FirstRunBanner';

describe('first run: which engines have no model', () => {
  it('names every embedded engine whose health reports no model or voice', () => {
    const status = { engines: { health: {
      asr: { ok: false, backend: 'whisper.cpp', model: null, error: 'no whisper model installed' },
      llm: { ok: false, backend: 'llama.cpp', model: null, error: 'no GGUF model' },
      tts: { ok: false, backend: 'piper-onnxruntime', voice: null, error: 'no Piper voice' },
    } } };
    expect(missingModelKinds(status)).toEqual(['whisper', 'llm', 'piper']);
  });

  it('ignores engines that are ready, and failures that are not a missing model', () => {
    const status = { engines: { health: {
      asr: { ok: true, model: 'whisper-base.en' },
      llm: { ok: false, error: 'connection refused' },
      tts: { ok: false, voice: 'de_DE-thorsten', error: 'phonemizer crashed' },
    } } };
    expect(missingModelKinds(status)).toEqual([]);
    expect(missingModelKinds(null)).toEqual([]);
    expect(missingModelKinds({})).toEqual([]);
  });
});
