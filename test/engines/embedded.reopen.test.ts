import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type AppConfig } from '../../src-shared/config/schema';
import { createEspeakTts, createLlamaLlm, createPiperTts, createWhisperAsr } from '../../src-main/engines/embedded';
import { writeFakePiperVoice, writeLlamaGguf, writeWhisperModel } from '../helpers/model-writers';

// The gateway closes an engine when config selects another one, and may select it again later.
let dir: string;
const cfg: AppConfig = { ...defaultConfig(), whisper_threads: 1, llama_threads: 1, piper_threads: 1 };
const tone = () => {
  const samples = new Int16Array(16000);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(Math.sin(i / 9) * 4000);
  return { sampleRate: 16000, samples };
};

beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'cf-reopen-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('embedded engines after close()', () => {
  it('whisper loads its model again', async () => {
    const file = path.join(dir, 'w.bin');
    await writeWhisperModel(file);
    const asr = createWhisperAsr(() => cfg, { modelPath: file });
    await asr.transcribe({ wav: new Uint8Array(), audio: tone() });
    await asr.close();
    expect((await asr.health()).loaded).toBe(false);
    expect(typeof (await asr.transcribe({ wav: new Uint8Array(), audio: tone() })).text).toBe('string');
    await asr.close();
  });

  it('espeak and Piper start a new voice process', async () => {
    const voice = path.join(dir, 'v.onnx');
    await writeFakePiperVoice(voice);
    const espeak = createEspeakTts(() => cfg);
    const piper = createPiperTts(() => cfg, { modelPath: voice });
    for (const tts of [espeak, piper]) {
      expect((await tts.synthesize('One.')).samples.length).toBeGreaterThan(0);
      await tts.close();
      expect((await tts.synthesize('Two.')).samples.length).toBeGreaterThan(0);
      await tts.close();
    }
  });

  it('llama loads its model again', async () => {
    const file = path.join(dir, 'm.gguf');
    await writeLlamaGguf(file);
    const llm = createLlamaLlm(() => cfg, { modelPath: file });
    const params = { maxTokens: 2, temperature: 0 };
    await llm.complete({ messages: [{ role: 'user', content: 'hi' }], params, sessionKey: 'a' });
    await llm.close();
    expect(llm.contextWindow()).toBe(0);
    expect((await llm.complete({ messages: [{ role: 'user', content: 'hi' }], params, sessionKey: 'a' })).tokens).toBeGreaterThan(0);
    await llm.close();
  });
});
