import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src-shared/config/schema';
import { completionText, HealthCache, OpenAiLlm } from '../../src-main/engines/openai';
import { EngineUnavailableError, type ChatMessage, type LlmParams } from '../../src-main/engines/types';
import { fakeEngineConfig, startFakeEngines, unusedPort, rejectionOf, type FakeEngines } from '../helpers/fake-engines';

let fake: FakeEngines;
let cfg: AppConfig;
let llm: OpenAiLlm;

const messages: ChatMessage[] = [
  { role: 'system', content: 'You are brief.' },
  { role: 'user', content: 'What time do you open?' },
];
const params: LlmParams = { maxTokens: 400, temperature: 0.2 };
const REPLY = 'We open at nine in the morning, every day except Sunday.';

beforeEach(async () => {
  fake = await startFakeEngines({ llm: REPLY });
  cfg = fakeEngineConfig(fake, { llm_model: 'qwen2.5:1.5b' });
  llm = new OpenAiLlm(() => cfg);
});
afterEach(async () => {
  await fake.close();
});

describe('OpenAiLlm request', () => {
  it('posts {model, messages, max_tokens, temperature, stream:false} to <base>/chat/completions', async () => {
    const out = await llm.complete({ messages, params });
    expect(out.text).toBe(REPLY);
    const [req] = fake.requestsFor('llm');
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBeUndefined();
    expect(JSON.parse(req.body.toString('utf8'))).toEqual({ model: 'qwen2.5:1.5b', messages, max_tokens: 400, temperature: 0.2, stream: false });
  });

  it('sends the bearer API key when one is set', async () => {
    cfg.llm_api_key = 'sk-test-123';
    await llm.complete({ messages, params });
    expect(fake.requestsFor('llm')[0].headers.authorization).toBe('Bearer sk-test-123');
  });

  it('adds top_p, frequency_penalty = repeatPenalty - 1 and stop only when given, and never top_k', async () => {
    await llm.complete({ messages, params: { ...params, topP: 0.9, topK: 40, repeatPenalty: 1.1, stop: ['\nUser:', '###'] } });
    await llm.complete({ messages, params: { ...params, topK: 40, repeatPenalty: 0.8, stop: [] } });
    const [a, b] = fake.requestsFor('llm').map((r) => r.json as Record<string, unknown>);
    expect(a).toEqual({ model: 'qwen2.5:1.5b', messages, max_tokens: 400, temperature: 0.2, stream: false, top_p: 0.9, frequency_penalty: 0.1, stop: ['\nUser:', '###'] });
    expect(b).toEqual({ model: 'qwen2.5:1.5b', messages, max_tokens: 400, temperature: 0.2, stream: false, frequency_penalty: -0.2 });
    expect(Object.keys(a)).not.toContain('top_k');
  });

  it('strips trailing slashes of llm_base_url and follows a live change of it', async () => {
    cfg.llm_base_url = `${fake.baseUrl}/v1/`;
    await llm.complete({ messages, params });
    cfg = { ...cfg, llm_base_url: fake.baseUrl, llm_model: 'other' };
    await llm.complete({ messages, params });
    expect(fake.requestsFor('llm').map((r) => [r.path, (r.json as { model: string }).model])).toEqual([
      ['/v1/chat/completions', 'qwen2.5:1.5b'],
      ['/chat/completions', 'other'],
    ]);
  });

  it('hands the conversation to a scripted model', async () => {
    fake.set({ llm: (msgs) => `you said: ${String(msgs[msgs.length - 1].content)}` });
    expect((await llm.complete({ messages, params })).text).toBe('you said: What time do you open?');
  });

  it('labels itself with llm_model and reports an unknown context window', () => {
    expect(llm.label()).toBe('qwen2.5:1.5b');
    cfg.llm_model = 'gpt-4o-mini';
    expect(llm.label()).toBe('gpt-4o-mini');
    expect(llm.contextWindow()).toBe(0);
    expect(llm.kind).toBe('openai');
  });
});

describe('OpenAiLlm non-streamed replies', () => {
  it('returns the raw text (no trimming for speech here) and the completion token count', async () => {
    fake.set({ llm: '  **Sure** — at 9.  ' });
    const out = await llm.complete({ messages, params });
    expect(out).toEqual({ text: '  **Sure** — at 9.  ', tokens: 4 });
  });

  it('joins a list of content parts with spaces', async () => {
    fake.set({ llm: 'one two three', llmShape: 'parts' });
    expect((await llm.complete({ messages, params })).text).toBe('one two three');
  });

  it('falls back to choices[0].text', async () => {
    fake.set({ llmShape: 'text' });
    expect((await llm.complete({ messages, params })).text).toBe(REPLY);
  });

  it('returns an empty text for an empty reply (the pipeline supplies the fallback)', async () => {
    fake.set({ llm: '' });
    expect((await llm.complete({ messages, params })).text).toBe('');
  });

  it('extracts text the way §10.2 describes for each content shape', () => {
    expect(completionText({ choices: [{ message: { content: 'plain' } }] })).toBe('plain');
    expect(completionText({ choices: [{ message: { content: [{ type: 'text', text: 'a' }, { content: 'b' }, 'c', { type: 'image' }, 7] } }] })).toBe('a b c');
    expect(completionText({ choices: [{ message: { content: null }, text: 'legacy' }] })).toBe('legacy');
    expect(completionText({ choices: [{ message: { role: 'assistant' } }] })).toBe('');
    expect(completionText({ choices: [] })).toBeUndefined();
    expect(completionText({ object: 'error' })).toBeUndefined();
    expect(completionText('text')).toBeUndefined();
  });

  it('rejects a reply without choices, showing what came back', async () => {
    fake.fault('llm', { body: { object: 'list', data: [] }, times: 1 });
    await expect(llm.complete({ messages, params })).rejects.toThrow(/^LLM server at http:\/\/127\.0\.0\.1:\d+\/v1 returned no choices: \{"object":"list","data":\[\]\}$/);
  });

  it('rejects malformed JSON, and the next call works', async () => {
    fake.fault('llm', { body: '{"choices": [', contentType: 'application/json', times: 1 });
    await expect(llm.complete({ messages, params })).rejects.toThrow(/LLM server at .* returned a body that is not valid JSON: \{"choices": \[/);
    expect((await llm.complete({ messages, params })).text).toBe(REPLY);
  });
});

describe('OpenAiLlm streaming', () => {
  it('asks for a stream, calls onToken with each piece in order and reports time to first token', async () => {
    fake.set({ llmTokenDelayMs: 5 });
    const pieces: string[] = [];
    const t0 = performance.now();
    const out = await llm.complete({ messages, params, onToken: (p) => pieces.push(p) });
    const elapsed = performance.now() - t0;
    expect(pieces).toEqual(REPLY.match(/\s*\S+/g));
    expect(pieces.join('')).toBe(REPLY);
    expect(out.text).toBe(REPLY);
    expect(out.tokens).toBe(pieces.length);
    expect(out.ttftMs).toBeGreaterThanOrEqual(0);
    expect(out.ttftMs).toBeLessThanOrEqual(elapsed);
    const [req] = fake.requestsFor('llm');
    expect((req.json as { stream: boolean }).stream).toBe(true);
    expect(req.headers.accept).toContain('text/event-stream');
  });

  it('parses SSE split at odd places, with CRLF, comments and no [DONE]', async () => {
    const chunk = (c: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: c } }] })}`;
    const body = [': keep-alive', chunk('Hel'), 'event: message', chunk('lo'), '', chunk(' wörld'), ''].join('\r\n');
    fake.fault('llm', { body, contentType: 'text/event-stream' });
    const pieces: string[] = [];
    const out = await llm.complete({ messages, params, onToken: (p) => pieces.push(p) });
    expect(pieces).toEqual(['Hel', 'lo', ' wörld']);
    expect(out.text).toBe('Hello wörld');
  });

  it('stops at [DONE] and ignores anything after it', async () => {
    const chunk = (c: string) => `data: ${JSON.stringify({ choices: [{ delta: { content: c } }] })}\n\n`;
    fake.fault('llm', { body: `${chunk('done here')}data: [DONE]\n\n${chunk(' ignored')}`, contentType: 'text/event-stream' });
    expect((await llm.complete({ messages, params, onToken: () => undefined })).text).toBe('done here');
  });

  it('reads SSE sent with a wrong content type', async () => {
    const chunk = (c: string) => `data: ${JSON.stringify({ choices: [{ delta: { content: c } }] })}\n\n`;
    fake.fault('llm', { body: `${chunk('A')}${chunk('B')}data: [DONE]\n\n`, contentType: 'application/json' });
    const pieces: string[] = [];
    expect((await llm.complete({ messages, params, onToken: (p) => pieces.push(p) })).text).toBe('AB');
    expect(pieces).toEqual(['A', 'B']);
  });

  it('falls back to a plain request when the server rejects streaming', async () => {
    fake.set({ llmStream: 'reject' });
    const pieces: string[] = [];
    const out = await llm.complete({ messages, params, onToken: (p) => pieces.push(p) });
    expect(out.text).toBe(REPLY);
    expect(pieces).toEqual([REPLY]);
    expect(out.ttftMs).toBeGreaterThanOrEqual(0);
    expect(fake.requestsFor('llm').map((r) => (r.json as { stream: boolean }).stream)).toEqual([true, false]);
  });

  it('accepts a JSON reply to a streaming request', async () => {
    fake.set({ llmStream: 'json' });
    const pieces: string[] = [];
    const out = await llm.complete({ messages, params, onToken: (p) => pieces.push(p) });
    expect(out.text).toBe(REPLY);
    expect(pieces).toEqual([REPLY]);
    expect(fake.requestsFor('llm')).toHaveLength(1);
  });

  it('does not retry a 401 as a streaming problem', async () => {
    fake.fault('llm', { status: 401, body: { error: { message: 'Invalid API key' } } });
    await expect(llm.complete({ messages, params, onToken: () => undefined })).rejects.toThrow(/LLM server rejected the API key/);
    expect(fake.requestsFor('llm')).toHaveLength(1);
  });

  it('rejects a chunk that is not JSON', async () => {
    fake.fault('llm', { body: 'data: {"choices": [{"delta": {"content": "ok"}}]}\n\ndata: {oops\n\n', contentType: 'text/event-stream' });
    await expect(llm.complete({ messages, params, onToken: () => undefined })).rejects.toThrow(/LLM server at .* streamed a chunk that is not valid JSON: \{oops/);
  });

  it('surfaces an error object sent mid-stream', async () => {
    const ok = `data: ${JSON.stringify({ choices: [{ delta: { content: 'Hi' } }] })}\n\n`;
    fake.fault('llm', { body: `${ok}data: ${JSON.stringify({ error: { message: 'context length exceeded' } })}\n\n`, contentType: 'text/event-stream' });
    await expect(llm.complete({ messages, params, onToken: () => undefined })).rejects.toThrow(/reported an error while streaming: context length exceeded/);
  });

  it('stops mid-stream when the signal aborts: no more tokens, the server sees the request cancelled', async () => {
    fake.set({ llm: Array.from({ length: 200 }, (_, i) => `w${i}`).join(' '), llmTokenDelayMs: 20 });
    const ac = new AbortController();
    const pieces: string[] = [];
    const pending = llm.complete({
      messages,
      params,
      signal: ac.signal,
      onToken: (p) => {
        pieces.push(p);
        if (pieces.length === 3) ac.abort();
      },
    });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(pieces).toEqual(['w0', ' w1', ' w2']);
    expect(await fake.requestsFor('llm')[0].outcome).toBe('aborted');
  });

  it('an exception in onToken ends the request and reaches the caller', async () => {
    fake.set({ llm: Array.from({ length: 200 }, (_, i) => `w${i}`).join(' '), llmTokenDelayMs: 10 });
    const pending = llm.complete({
      messages,
      params,
      onToken: () => {
        throw new Error('consumer failed');
      },
    });
    await expect(pending).rejects.toThrow('consumer failed');
    expect(await fake.requestsFor('llm')[0].outcome).toBe('aborted');
  });

  it('gives up a stalled stream after engine_timeout_sec', async () => {
    cfg.engine_timeout_sec = 0.5;
    fake.set({ llm: 'slow words here and more', llmTokenDelayMs: 10_000 });
    const pieces: string[] = [];
    await expect(llm.complete({ messages, params, onToken: (p) => pieces.push(p) })).rejects.toThrow(/LLM server at .* did not answer within 0\.5 s \(engine_timeout_sec\)/);
    expect(pieces).toEqual([]);
  });
});

describe('OpenAiLlm failures', () => {
  it('explains a rejected API key (and an empty one)', async () => {
    fake.fault('llm', { status: 401, body: { error: { message: 'Incorrect API key provided' } } });
    await expect(llm.complete({ messages, params })).rejects.toThrow(
      /^LLM server rejected the API key \(HTTP 401 from http:\/\/127\.0\.0\.1:\d+\/v1\): Incorrect API key provided — llm_api_key is empty; this server needs one$/,
    );
    cfg.llm_api_key = 'sk-wrong';
    const err = await rejectionOf(llm.complete({ messages, params }));
    expect(err.message).toMatch(/check llm_api_key$/);
    expect(err.message).not.toContain('sk-wrong');
  });

  it('hints at llm_base_url and llm_model on 404', async () => {
    fake.fault('llm', { status: 404, body: { error: "model 'nope' not found" } });
    await expect(llm.complete({ messages, params })).rejects.toThrow(/answered HTTP 404: model 'nope' not found — check llm_base_url \(it usually ends in \/v1\) and llm_model/);
  });

  it('reports other statuses with a snippet, and the next call works', async () => {
    fake.fault('llm', { status: 500, body: 'CUDA out of memory', contentType: 'text/plain', times: 1 });
    await expect(llm.complete({ messages, params })).rejects.toThrow(/^LLM server at .* answered HTTP 500: CUDA out of memory$/);
    expect((await llm.complete({ messages, params })).text).toBe(REPLY);
  });

  it('says the server is not reachable', async () => {
    cfg.llm_base_url = `http://127.0.0.1:${await unusedPort()}/v1`;
    await expect(llm.complete({ messages, params })).rejects.toThrow(`LLM server at ${cfg.llm_base_url} is not reachable (connection refused)`);
  });

  it('times out a server that never answers', async () => {
    cfg.engine_timeout_sec = 0.3;
    fake.fault('llm', { hang: true });
    await expect(llm.complete({ messages, params })).rejects.toThrow(/did not answer within 0\.3 s/);
    expect(await fake.requestsFor('llm')[0].outcome).toBe('aborted');
  });

  it('needs llm_base_url', async () => {
    cfg.llm_base_url = '';
    await expect(llm.complete({ messages, params })).rejects.toBeInstanceOf(EngineUnavailableError);
  });
});

describe('OpenAiLlm health', () => {
  it('is {backend, base_url, model, configured, ok} and probes <base>/models with the key', async () => {
    cfg.llm_api_key = 'sk-1';
    expect(await llm.health()).toEqual({ backend: 'openai_remote', base_url: fake.llmBaseUrl, model: 'qwen2.5:1.5b', configured: true, ok: true });
    const [probe] = fake.requestsFor('models');
    expect(probe.path).toBe('/v1/models');
    expect(probe.headers.authorization).toBe('Bearer sk-1');
  });

  it('is not configured without llm_base_url', async () => {
    cfg.llm_base_url = '';
    expect(await llm.health()).toEqual({ backend: 'openai_remote', base_url: '', model: 'qwen2.5:1.5b', configured: false, ok: false, error: expect.stringMatching(/llm_base_url is not set/) });
    expect(fake.requests).toHaveLength(0);
  });

  it('counts a server without a model list as up, but not a rejected key or a broken server', async () => {
    fake.fault('models', { status: 404, body: 'not found', times: 1 });
    expect((await new OpenAiLlm(() => cfg).health()).ok).toBe(true);
    fake.fault('models', { status: 401, body: 'bad key', times: 1 });
    expect(await new OpenAiLlm(() => cfg).health()).toMatchObject({ ok: false, error: expect.stringMatching(/rejected the API key/) });
    fake.fault('models', { status: 502, body: 'bad gateway', times: 1 });
    expect(await new OpenAiLlm(() => cfg).health()).toMatchObject({ ok: false, error: expect.stringMatching(/HTTP 502/) });
  });

  it('is a quick not-ok for a hanging or absent server', async () => {
    fake.fault('models', { hang: true });
    expect(await new OpenAiLlm(() => cfg, { probeTimeoutMs: 200 }).health()).toMatchObject({ configured: true, ok: false, error: expect.stringMatching(/did not answer within 0\.2 s/) });
    cfg.llm_base_url = `http://127.0.0.1:${await unusedPort()}/v1`;
    expect(await llm.health()).toMatchObject({ ok: false, error: expect.stringMatching(/not reachable/) });
  });

  it('is cached, and probed again when the API key changes', async () => {
    let now = 0;
    const cached = new OpenAiLlm(() => cfg, { healthCache: new HealthCache({ ttlMs: 5000, now: () => now }) });
    await cached.health();
    await cached.health();
    expect(fake.requestsFor('models')).toHaveLength(1);
    cfg.llm_api_key = 'sk-new';
    await cached.health();
    expect(fake.requestsFor('models')).toHaveLength(2);
    now += 5001;
    await cached.health();
    expect(fake.requestsFor('models')).toHaveLength(3);
  });
});
