import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type AppConfig } from '../../src-shared/config/schema';
import { createLlamaLlm, type LlamaLlm } from '../../src-main/engines/embedded';
import { EngineUnavailableError, type ChatMessage } from '../../src-main/engines/types';
import { ModelManager } from '../../src-main/models/manager';
import { LLAMA_DIMS, writeLlamaGguf, writeWhisperModel } from '../helpers/model-writers';

let dir: string;
let modelPath: string;
let llm: LlamaLlm;
const cfg: AppConfig = { ...defaultConfig(), llama_threads: 1 };
const params = { maxTokens: 12, temperature: 0.2 };
const system: ChatMessage = { role: 'system', content: 'You are a concise, friendly assistant on a phone call. Answer in one short sentence.' };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cf-llama-'));
  modelPath = path.join(dir, 'tiny-chat.gguf');
  await writeLlamaGguf(modelPath, LLAMA_DIMS.test);
  llm = createLlamaLlm(() => cfg, { modelPath });
});

afterAll(async () => {
  await llm?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('llama.cpp LLM (real node-llama-cpp on a random-weight GGUF)', () => {
  it('streams tokens and reports timing and token counts', async () => {
    const pieces: string[] = [];
    const r = await llm.complete({ messages: [system, { role: 'user', content: 'Hello, who are you?' }], params, sessionKey: 'call-1', onToken: (p) => pieces.push(p) });
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces.join('')).toBe(r.text);
    expect(r.tokens).toBeGreaterThan(0);
    expect(r.tokens).toBeLessThanOrEqual(params.maxTokens);
    expect(r.ttftMs).toBeGreaterThan(0);
    expect(r.totalMs).toBeGreaterThanOrEqual(r.ttftMs!);
  });

  it('names itself after the model file and reports the context window it uses', async () => {
    expect(llm.label()).toBe('local/tiny-chat.gguf');
    expect(llm.contextWindow()).toBe(2048); // the model's 2048 < the default 4096
    const h = await llm.health();
    expect(h).toMatchObject({ ok: true, backend: 'llama.cpp', loaded: true, model: 'local/tiny-chat.gguf', threads: 1, context_size: 2048 });
  });

  it('a changed llama_context_size applies on the next reply (settings change live)', async () => {
    cfg.llama_context_size = 512;
    try {
      await llm.complete({ messages: [system, { role: 'user', content: 'Hi.' }], params: { maxTokens: 2, temperature: 0 }, sessionKey: 'ctx' });
      expect(llm.contextWindow()).toBe(512);
      expect((await llm.health()).context_size).toBe(512);
    } finally {
      cfg.llama_context_size = 0;
      llm.releaseSession('ctx');
    }
    await llm.complete({ messages: [system, { role: 'user', content: 'Hi.' }], params: { maxTokens: 2, temperature: 0 }, sessionKey: 'ctx' });
    expect(llm.contextWindow()).toBe(2048);
    llm.releaseSession('ctx');
  });

  it('keeps one conversation per call in its own context sequence', async () => {
    const a1 = await llm.complete({ messages: [system, { role: 'user', content: 'First call, first turn.' }], params, sessionKey: 'A' });
    const b1 = await llm.complete({ messages: [system, { role: 'user', content: 'Second call here.' }], params, sessionKey: 'B' });
    const a2 = await llm.complete({
      messages: [system, { role: 'user', content: 'First call, first turn.' }, { role: 'assistant', content: a1.text }, { role: 'user', content: 'And the second turn.' }],
      params, sessionKey: 'A',
    });
    // call A's context holds both of its turns; call B's only its own
    expect(a2.contextTokens!).toBeGreaterThan(a1.contextTokens!);
    expect(b1.contextTokens!).toBeLessThan(a2.contextTokens!);
    llm.releaseSession('A');
    llm.releaseSession('B');
    expect((await llm.health()).sessions).toBe(0);
  });

  it('evaluates only the new turn when the conversation so far is cached (prefix reuse)', async () => {
    const user1: ChatMessage = { role: 'user', content: 'I would like to book a table for four people tomorrow evening.' };
    const t1 = await llm.complete({ messages: [system, user1], params: { maxTokens: 1, temperature: 0 }, sessionKey: 'reuse' });
    const promptLen1 = t1.contextTokens! - t1.tokens!;
    expect(t1.promptTokensEvaluated!).toBeGreaterThan(0); // (a pooled context may already hold the system prompt)
    expect(t1.promptTokensEvaluated!).toBeLessThanOrEqual(promptLen1);
    const t2 = await llm.complete({ messages: [system, user1, { role: 'assistant', content: t1.text }, { role: 'user', content: 'Is there parking nearby?' }], params: { maxTokens: 1, temperature: 0 }, sessionKey: 'reuse' });
    const promptLen2 = t2.contextTokens! - t2.tokens!;
    expect(t2.promptTokensEvaluated!).toBeGreaterThan(0);
    expect(t2.promptTokensEvaluated!).toBeLessThanOrEqual(promptLen2 - promptLen1 + 2);
    llm.releaseSession('reuse');
    // a new call takes the released context: the shared system prompt is not evaluated again
    const t3 = await llm.complete({ messages: [system, { role: 'user', content: 'Hello there.' }], params: { maxTokens: 1, temperature: 0 }, sessionKey: 'next-call' });
    expect(t3.promptTokensEvaluated!).toBeLessThan(t3.contextTokens! - t3.tokens! - 10);
    llm.releaseSession('next-call');
  });

  it('generates off the event loop', async () => {
    let turns = 0;
    let running = true;
    const spin = () => { if (running) { turns++; setImmediate(spin); } };
    setImmediate(spin);
    await llm.complete({ messages: [system, { role: 'user', content: 'Tell me about your day.' }], params: { maxTokens: 30, temperature: 0.5 }, sessionKey: 'loop' });
    running = false;
    llm.releaseSession('loop');
    expect(turns).toBeGreaterThan(5);
  });

  it('evicts the least recently used call beyond llama_max_sessions', async () => {
    const local: AppConfig = { ...cfg, llama_max_sessions: 1 };
    const one = createLlamaLlm(() => local, { modelPath });
    try {
      await one.complete({ messages: [system, { role: 'user', content: 'x' }], params, sessionKey: 'A' });
      await one.complete({ messages: [system, { role: 'user', content: 'y' }], params, sessionKey: 'B' });
      expect((await one.health()).sessions).toBe(1);
    } finally {
      await one.close();
    }
  });

  it('stops when aborted and stays usable', async () => {
    const ac = new AbortController();
    let n = 0;
    const p = llm.complete({
      messages: [system, { role: 'user', content: 'Tell me a long story.' }], params: { maxTokens: 400, temperature: 0.8 }, sessionKey: 'abort',
      signal: ac.signal, onToken: () => { if (++n === 3) ac.abort(); },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(n).toBeLessThan(400);
    const ok = await llm.complete({ messages: [system, { role: 'user', content: 'Hi.' }], params, sessionKey: 'abort' });
    expect(ok.tokens).toBeGreaterThan(0);
    llm.releaseSession('abort');
  });

  it('applies max tokens and sampling switches', async () => {
    const r = await llm.complete({ messages: [system, { role: 'user', content: 'Hi.' }], params: { maxTokens: 3, temperature: 0.7, topK: 20, topP: 0.9, repeatPenalty: 1.1, stop: ['\n\n'] } });
    expect(r.tokens).toBeLessThanOrEqual(3);
  });

  it('refuses a whisper file, a truncated GGUF and a missing file with errors naming them', async () => {
    const whisper = path.join(dir, 'ggml-x.bin');
    await writeWhisperModel(whisper);
    const e1 = await createLlamaLlm(() => cfg, { modelPath: whisper }).complete({ messages: [{ role: 'user', content: 'hi' }], params }).catch((e) => e);
    expect(e1).toBeInstanceOf(EngineUnavailableError);
    expect(e1.message).toContain(whisper);
    expect(e1.message).toMatch(/not a GGUF language model \(this is a whisper ggml model/);

    const cut = path.join(dir, 'cut.gguf');
    await writeFile(cut, (await readFile(modelPath)).subarray(0, 60_000));
    const bad = createLlamaLlm(() => cfg, { modelPath: cut });
    const e2 = await bad.complete({ messages: [{ role: 'user', content: 'hi' }], params }).catch((e) => e);
    expect(e2).toBeInstanceOf(EngineUnavailableError);
    expect(e2.message).toContain(cut);
    expect(e2.message).toMatch(/llama\.cpp could not load it/);
    expect((await bad.health()).ok).toBe(false);
    await bad.close();

    const missing = path.join(dir, 'missing.gguf');
    const e3 = await createLlamaLlm(() => cfg, { modelPath: missing }).complete({ messages: [{ role: 'user', content: 'hi' }], params }).catch((e) => e);
    expect(e3.message).toContain(`${missing}: not found`);
  });

  it('with no model installed, says which model is missing and how to get it', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'cf-models-'));
    try {
      const models = new ModelManager({ dir: () => empty, machine: () => ({ cores: 2, memoryMb: 4000 }) });
      const h = await createLlamaLlm(() => cfg, { models }).health();
      expect(h.ok).toBe(false);
      expect(String(h.error)).toMatch(/no language model \(GGUF\) model is installed/);
      expect(String(h.error)).toContain('/api/models/qwen2.5-0.5b-instruct/download');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('warms up by evaluating the system prompt', async () => {
    const fresh = createLlamaLlm(() => cfg, { modelPath });
    try {
      await fresh.warmup();
      const h = await fresh.health();
      expect(h.loaded).toBe(true);
      expect(h.sessions).toBe(0);
    } finally {
      await fresh.close();
    }
  });
});
