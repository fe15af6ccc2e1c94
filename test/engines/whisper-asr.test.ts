import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type AppConfig } from '../../src-shared/config/schema';
import { encodeWav, parseWav, type PcmAudio } from '../../src-shared/audio/wav';
import { createWhisperAsr, audioCtxFor, toWhisperPcm, whisperBuildSimd } from '../../src-main/engines/embedded';
import { EngineUnavailableError } from '../../src-main/engines/types';
import { ModelManager } from '../../src-main/models/manager';
import { writeLlamaGguf, writeWhisperModel } from '../helpers/model-writers';

let dir: string;
let modelPath: string;
const cfg: AppConfig = { ...defaultConfig(), whisper_threads: 1 };
const getConfig = () => cfg;

function tone(rate: number, seconds: number): PcmAudio {
  const samples = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(Math.sin((2 * Math.PI * 220 * i) / rate) * 8000 * (1 + Math.sin(i / 900)) / 2);
  return { sampleRate: rate, samples };
}

/** A 16-bit stereo WAV (the decoder down-mixes it). */
function stereoWav(rate: number, seconds: number): Uint8Array {
  const mono = tone(rate, seconds).samples;
  const out = new Uint8Array(44 + mono.length * 4);
  const v = new DataView(out.buffer);
  const w = (o: number, s: string) => { for (let i = 0; i < s.length; i++) out[o + i] = s.charCodeAt(i); };
  w(0, 'RIFF'); v.setUint32(4, 36 + mono.length * 4, true); w(8, 'WAVE'); w(12, 'fmt ');
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 2, true); v.setUint32(24, rate, true);
  v.setUint32(28, rate * 4, true); v.setUint16(32, 4, true); v.setUint16(34, 16, true); w(36, 'data'); v.setUint32(40, mono.length * 4, true);
  for (let i = 0; i < mono.length; i++) { v.setInt16(44 + i * 4, mono[i], true); v.setInt16(46 + i * 4, mono[i], true); }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cf-whisper-'));
  modelPath = path.join(dir, 'ggml-test.bin');
  await writeWhisperModel(modelPath);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('whisper ASR (real whisper.cpp on a random-weight model)', () => {
  it('transcribes WAVs of any rate and channel count into text, segments and timing fields', async () => {
    const asr = createWhisperAsr(getConfig, { modelPath });
    try {
      for (const [rate, wav] of [[8000, encodeWav(tone(8000, 2))], [48000, stereoWav(48000, 2)], [16000, encodeWav(tone(16000, 2))]] as const) {
        const audio = parseWav(wav);
        expect(audio.sampleRate).toBe(rate);
        const r = await asr.transcribe({ wav, audio });
        expect(typeof r.text).toBe('string');
        expect(r.durationMs).toBeGreaterThan(0);
        expect(r.threads).toBe(1);
        expect(r.audioCtx).toBe(audioCtxFor(2));
        for (const s of r.segments) {
          expect(s.end).toBeGreaterThanOrEqual(s.start);
          expect(typeof s.text).toBe('string');
        }
      }
    } finally {
      await asr.close();
    }
  });

  it('resamples to 16 kHz float for whisper', () => {
    for (const rate of [8000, 22050, 44100, 48000]) {
      const pcm = toWhisperPcm(tone(rate, 1));
      expect(Math.abs(pcm.length - 16000)).toBeLessThanOrEqual(1);
      expect(Math.max(...pcm.subarray(0, 4000).map(Math.abs))).toBeLessThanOrEqual(1);
      expect(Math.max(...pcm.subarray(0, 4000).map(Math.abs))).toBeGreaterThan(0.05);
    }
  });

  it('encodes only the needed part of the window for short audio, the full window otherwise', async () => {
    expect(audioCtxFor(3)).toBe(256);
    expect(audioCtxFor(8)).toBe(512);
    expect(audioCtxFor(29.5)).toBe(0);
    const asr = createWhisperAsr(getConfig, { modelPath });
    try {
      const audio = tone(16000, 3);
      const short = await asr.transcribe({ wav: new Uint8Array(), audio });
      const full = await asr.transcribe({ wav: new Uint8Array(), audio }, { shortAudio: false });
      expect(short.audioCtx).toBe(256);
      expect(full.audioCtx).toBe(0);
    } finally {
      await asr.close();
    }
  });

  it('runs off the event loop', async () => {
    const asr = createWhisperAsr(getConfig, { modelPath });
    try {
      await asr.warmup();
      let turns = 0;
      let running = true;
      const spin = () => { if (running) { turns++; setImmediate(spin); } };
      setImmediate(spin);
      await asr.transcribe({ wav: new Uint8Array(), audio: tone(16000, 8) }, { shortAudio: false });
      running = false;
      expect(turns).toBeGreaterThan(1);
    } finally {
      await asr.close();
    }
  });

  it('rejects at once when aborted and keeps working afterwards', async () => {
    const asr = createWhisperAsr(getConfig, { modelPath });
    try {
      const pre = new AbortController();
      pre.abort();
      await expect(asr.transcribe({ wav: new Uint8Array(), audio: tone(16000, 2), signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' });
      const ac = new AbortController();
      const p = asr.transcribe({ wav: new Uint8Array(), audio: tone(16000, 8), signal: ac.signal }, { shortAudio: false });
      setTimeout(() => ac.abort(), 1);
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      const after = await asr.transcribe({ wav: new Uint8Array(), audio: tone(16000, 1) });
      expect(typeof after.text).toBe('string');
    } finally {
      await asr.close();
    }
  });

  it('reports the SIMD level of the whisper.cpp build and the model in health', async () => {
    const asr = createWhisperAsr(getConfig, { modelPath });
    const h = await asr.health();
    expect(h.ok).toBe(true);
    expect(['avx2', 'neon', 'none', 'unknown']).toContain(h.simd);
    expect(h.simd).toBe(whisperBuildSimd());
    expect(h.model).toBe('ggml-test.bin');
    await asr.close();
  });

  it('refuses a truncated model file with an error naming it, and the process stays up', async () => {
    const bad = path.join(dir, 'truncated.bin');
    await writeFile(bad, (await readFile(modelPath)).subarray(0, 500_000));
    const asr = createWhisperAsr(getConfig, { modelPath: bad });
    const err = await asr.transcribe({ wav: new Uint8Array(), audio: tone(16000, 1) }).catch((e) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect(err.message).toContain(bad);
    expect(err.message).toMatch(/truncated/);
    const h = await asr.health();
    expect(h.ok).toBe(false);
    expect(String(h.error)).toContain(bad);
  });

  it('refuses a file of the wrong format and a missing file', async () => {
    const gguf = path.join(dir, 'model.gguf');
    await writeLlamaGguf(gguf);
    const e1 = await createWhisperAsr(getConfig, { modelPath: gguf }).transcribe({ wav: new Uint8Array(), audio: tone(16000, 1) }).catch((e) => e);
    expect(e1.message).toContain(gguf);
    expect(e1.message).toMatch(/not a whisper ggml model.*GGUF/);
    const missing = path.join(dir, 'nope.bin');
    const e2 = await createWhisperAsr(getConfig, { modelPath: missing }).transcribe({ wav: new Uint8Array(), audio: tone(16000, 1) }).catch((e) => e);
    expect(e2).toBeInstanceOf(EngineUnavailableError);
    expect(e2.message).toContain(`${missing}: not found`);
  });

  it('refuses a file whose tensors do not match its header', async () => {
    const bad = path.join(dir, 'wrong-shape.bin');
    const bytes = Buffer.from(await readFile(modelPath));
    bytes.writeInt32LE(64, 4 + 4 * 2); // n_audio_state in the header no longer matches the tensors
    bytes.writeInt32LE(64, 4 + 4 * 6); // keep audio and text widths equal so the shape check is what fails
    await writeFile(bad, bytes);
    const err = await createWhisperAsr(getConfig, { modelPath: bad }).transcribe({ wav: new Uint8Array(), audio: tone(16000, 1) }).catch((e) => e);
    expect(err.message).toContain(bad);
    expect(err.message).toMatch(/has shape/);
  });

  it('with no model installed, says which model is missing and how to get it', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'cf-models-'));
    try {
      const models = new ModelManager({ dir: () => empty, machine: () => ({ cores: 2, memoryMb: 8000 }) });
      const asr = createWhisperAsr(getConfig, { models });
      const h = await asr.health();
      expect(h.ok).toBe(false);
      expect(String(h.error)).toMatch(/no speech recognition \(whisper\) model is installed/);
      expect(String(h.error)).toContain('whisper-base.en');
      expect(String(h.error)).toContain('/api/models/whisper-base.en/download');
      await expect(asr.transcribe({ wav: new Uint8Array(), audio: tone(16000, 1) })).rejects.toBeInstanceOf(EngineUnavailableError);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('once a model is installed, health no longer repeats the earlier "no model" error', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'cf-models-'));
    const local: AppConfig = { ...cfg, whisper_model: '' };
    const models = new ModelManager({ dir: () => folder, machine: () => ({ cores: 2, memoryMb: 8000 }) });
    const asr = createWhisperAsr(() => local, { models });
    try {
      await expect(asr.transcribe({ wav: new Uint8Array(), audio: tone(16000, 1) })).rejects.toBeInstanceOf(EngineUnavailableError);
      expect((await asr.health()).ok).toBe(false);
      await writeWhisperModel(path.join(folder, 'ggml-new.bin'));
      local.whisper_model = 'ggml-new.bin';
      const h = await asr.health();
      expect(h).toMatchObject({ ok: true, model: 'ggml-new.bin', loaded: false });
      expect(h.error).toBeUndefined();
    } finally {
      await asr.close();
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('switches model when the configured file changes', async () => {
    const second = path.join(dir, 'ggml-second.bin');
    await writeWhisperModel(second, { seed: 7 });
    const models = new ModelManager({ dir: () => dir });
    const local: AppConfig = { ...cfg, whisper_model: 'ggml-test.bin' };
    const asr = createWhisperAsr(() => local, { models });
    try {
      expect((await asr.transcribe({ wav: new Uint8Array(), audio: tone(16000, 1) })).model).toBe('ggml-test.bin');
      local.whisper_model = 'ggml-second.bin';
      expect((await asr.transcribe({ wav: new Uint8Array(), audio: tone(16000, 1) })).model).toBe('ggml-second.bin');
    } finally {
      await asr.close();
    }
  });
});
