import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type AppConfig } from '../../src-shared/config/schema';
import { durationMs, encodeWav, parseWav, rms } from '../../src-shared/audio/wav';
import { createEspeakTts, createPiperTts, phonemeIds } from '../../src-main/engines/embedded';
import { EngineUnavailableError } from '../../src-main/engines/types';
import type { CatalogueEntry } from '../../src-main/models/catalogue';
import { ModelManager } from '../../src-main/models/manager';
import { FAKE_PIPER_SAMPLES_PER_ID, writeFakePiperVoice, writeWhisperModel } from '../helpers/model-writers';

let dir: string;
let voice: string;
const closers: (() => Promise<void>)[] = [];
const cfg: AppConfig = { ...defaultConfig(), piper_threads: 1, piper_sentence_silence: 0.1 };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cf-piper-'));
  voice = path.join(dir, 'en_US-test-medium.onnx');
  await writeFakePiperVoice(voice);
});

afterAll(async () => {
  for (const c of closers) await c();
  await rm(dir, { recursive: true, force: true });
});

function make(over: Partial<AppConfig> = {}, modelPath = voice) {
  const c: AppConfig = { ...cfg, ...over };
  const tts = createPiperTts(() => c, { modelPath });
  closers.push(() => tts.close());
  return { tts, c };
}

describe('Piper voice through onnxruntime (real ONNX model with Piper\'s interface)', () => {
  it('maps phonemes to ids the way Piper does', () => {
    const map = { _: [0], '^': [1], $: [2], ' ': [3], h: [20], 'ə': [59], l: [31], 'ˈ': [112], o: [34], 'ʊ': [100], ',': [8] };
    expect(phonemeIds('həlˈoʊ,', map)).toEqual([1, 20, 0, 59, 0, 31, 0, 112, 0, 34, 0, 100, 0, 8, 0, 2]);
    expect(phonemeIds('h?x', map)).toEqual([1, 20, 0, 2]); // unknown symbols are skipped
  });

  it('phonemizes with espeak-ng in the voice process and speaks at the voice\'s sample rate', async () => {
    const { tts } = make();
    const ids = await tts.ids('Hello, how are you?');
    expect(ids[0]).toBe(1); // BOS
    expect(ids.at(-1)).toBe(2); // EOS
    expect(ids.filter((_, i) => i % 2 === 0 && i > 0 && i < ids.length - 1).every((x) => x === 0)).toBe(true); // PAD after each phoneme
    expect(ids).toContain(8); // the comma survives phonemization
    const a = await tts.synthesize('Hello, how are you?');
    expect(a.sampleRate).toBe(22050);
    expect(a.samples.length).toBe(ids.length * FAKE_PIPER_SAMPLES_PER_ID);
    expect(rms(a.samples)).toBeGreaterThan(1000);
    const back = parseWav(encodeWav(a));
    expect(back.samples.length).toBe(a.samples.length);
  });

  it('speaks sentence by sentence with the configured pause between them', async () => {
    const { tts } = make();
    const one = await tts.synthesize('Good morning.');
    const two = await tts.synthesize('Good morning. Good morning.');
    expect(durationMs(two)).toBeCloseTo(durationMs(one) * 2 + 100, 0);
  });

  it('uses the voice\'s espeak language for phonemes', async () => {
    const de = path.join(dir, 'de_DE-test-medium.onnx');
    await writeFakePiperVoice(de, { espeakVoice: 'de', sampleRate: 16000 });
    const { tts } = make({}, de);
    const a = await tts.synthesize('Guten Tag, wie geht es Ihnen?');
    expect(a.sampleRate).toBe(16000);
    expect(a.samples.length).toBeGreaterThan(20 * FAKE_PIPER_SAMPLES_PER_ID);
  });

  it('shares the espeak TTS voice process when given one', async () => {
    const espeak = createEspeakTts(() => cfg);
    closers.push(() => espeak.close());
    const tts = createPiperTts(() => cfg, { modelPath: voice, phonemizer: espeak.process() });
    const a = await tts.synthesize('Shared process.');
    expect(a.samples.length).toBeGreaterThan(0);
    await tts.close(); // does not close the shared process
    expect((await espeak.synthesize('Still speaking.')).samples.length).toBeGreaterThan(0);
  });

  it('refuses a voice without its JSON, a broken JSON and a file that is not ONNX, naming the file', async () => {
    const lone = path.join(dir, 'lone.onnx');
    await writeFile(lone, 'x');
    const e1 = await make({}, lone).tts.synthesize('Hi.').catch((e) => e);
    expect(e1).toBeInstanceOf(EngineUnavailableError);
    expect(e1.message).toContain(`${lone}.json: not found`);

    const badJson = path.join(dir, 'badjson.onnx');
    await writeFakePiperVoice(badJson);
    await writeFile(`${badJson}.json`, '{"audio": {}}');
    const e2 = await make({}, badJson).tts.synthesize('Hi.').catch((e) => e);
    expect(e2.message).toContain(`${badJson}.json: not a Piper voice config`);

    const notOnnx = path.join(dir, 'whisper.onnx');
    await writeWhisperModel(notOnnx);
    await writeFile(`${notOnnx}.json`, JSON.stringify({ audio: { sample_rate: 22050 }, espeak: { voice: 'en-us' }, phoneme_id_map: { _: [0] } }));
    const { tts } = make({}, notOnnx);
    const e3 = await tts.synthesize('Hi.').catch((e) => e);
    expect(e3.message).toContain(`${notOnnx}: onnxruntime could not load it`);
    expect((await tts.health()).ok).toBe(false);
  });

  it('with no voice installed, names a voice for the language and how to get it', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'cf-models-'));
    try {
      const models = new ModelManager({ dir: () => empty });
      const c: AppConfig = { ...cfg, tts_lang: 'de' };
      const h = await createPiperTts(() => c, { models }).health();
      expect(h.ok).toBe(false);
      expect(String(h.error)).toMatch(/no Piper voice model for language 'de' is installed/);
      expect(String(h.error)).toContain('piper-de_DE-thorsten-medium');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('picks an installed voice of the configured language through the model manager', async () => {
    const models = path.join(dir, 'models');
    const catalogue: CatalogueEntry[] = [
      { id: 'piper-en', kind: 'piper', title: 'en', description: '', license: '', languages: ['en'], memoryMb: 1, files: [{ name: 'en.onnx', url: 'http://127.0.0.1:9/en.onnx' }, { name: 'en.onnx.json', url: 'http://127.0.0.1:9/en.onnx.json' }] },
      { id: 'piper-de', kind: 'piper', title: 'de', description: '', license: '', languages: ['de'], memoryMb: 1, files: [{ name: 'de.onnx', url: 'http://127.0.0.1:9/de.onnx' }, { name: 'de.onnx.json', url: 'http://127.0.0.1:9/de.onnx.json' }] },
    ];
    await import('node:fs/promises').then((f) => f.mkdir(models, { recursive: true }));
    await writeFakePiperVoice(path.join(models, 'en.onnx'));
    await writeFakePiperVoice(path.join(models, 'de.onnx'), { espeakVoice: 'de', sampleRate: 16000 });
    const manager = new ModelManager({ dir: () => models, catalogue });
    const c: AppConfig = { ...cfg, tts_lang: 'de' };
    const tts = createPiperTts(() => c, { models: manager });
    closers.push(() => tts.close());
    expect((await tts.synthesize('Hallo.')).sampleRate).toBe(16000);
    expect((await tts.health()).voice).toBe('piper-de');
    c.tts_lang = 'en';
    expect((await tts.synthesize('Hello.')).sampleRate).toBe(22050);
  });

  it('follows upstream\'s piper_voice name when that voice is installed', async () => {
    const models = path.join(dir, 'models-upstream');
    await import('node:fs/promises').then((f) => f.mkdir(models, { recursive: true }));
    const entry = (id: string): CatalogueEntry => ({ id: `piper-de_DE-${id}`, kind: 'piper', title: id, description: '', license: '', languages: ['de'], memoryMb: 1, files: [{ name: `${id}.onnx`, url: 'http://127.0.0.1:9/x' }, { name: `${id}.onnx.json`, url: 'http://127.0.0.1:9/y' }] });
    await writeFakePiperVoice(path.join(models, 'thorsten-high.onnx'), { espeakVoice: 'de' });
    await writeFakePiperVoice(path.join(models, 'kerstin-low.onnx'), { espeakVoice: 'de', sampleRate: 16000 });
    const manager = new ModelManager({ dir: () => models, catalogue: [entry('thorsten-high'), entry('kerstin-low')] });
    const c: AppConfig = { ...cfg, tts_lang: 'de', piper_voice: 'kerstin-low' };
    const tts = createPiperTts(() => c, { models: manager });
    closers.push(() => tts.close());
    expect((await tts.health()).voice).toBe('piper-de_DE-kerstin-low');
    expect((await tts.synthesize('Hallo.')).sampleRate).toBe(16000);
    c.piper_voice = 'thorsten-high';
    expect((await tts.synthesize('Hallo.')).sampleRate).toBe(22050);
  });
});
