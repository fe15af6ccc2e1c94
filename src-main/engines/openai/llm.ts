/**
 * LLM through an OpenAI-compatible chat-completions endpoint (spec §10.2): Ollama, LM Studio,
 * llama.cpp server, vLLM, hosted APIs. Streams tokens when the caller wants them (`onToken`), and
 * falls back to a plain JSON reply when the server will not stream.
 *
 * Returns the raw text: the pipeline applies trimForTts and the empty-reply fallback.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { AppConfig } from '../../../src-shared/config/schema';
import type { EngineHealth, Llm, LlmRequest, LlmResult } from '../types';
import { HealthCache } from './health-cache';
import {
  baseUrl,
  bodySnippet,
  engineRequest,
  EngineHttpError,
  errorText,
  failForStatus,
  MAX_JSON_BODY_BYTES,
  parseJsonBody,
  readText,
  timeoutMs,
} from './http';
import { EngineServerAdapter } from './probe';
import { looksLikeSse, sseData, sseDataOfText } from './sse';

const contentPart = z.union([z.string(), z.object({ text: z.unknown().optional(), content: z.unknown().optional() }).loose()]);
const choiceSchema = z
  .object({
    message: z.object({ content: z.unknown().optional() }).loose().nullish(),
    delta: z.object({ content: z.unknown().optional() }).loose().nullish(),
    text: z.unknown().optional(),
  })
  .loose();
const completionSchema = z
  .object({
    choices: z.array(choiceSchema).optional(),
    usage: z.object({ completion_tokens: z.number().optional() }).loose().nullish(),
    error: z.unknown().optional(),
  })
  .loose();

/** `choices[0].message.content` if a string; a list of parts joined with spaces; else `choices[0].text`. */
export function completionText(body: unknown): string | undefined {
  const parsed = completionSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const choice = parsed.data.choices?.[0];
  if (!choice) return undefined;
  const content = choice.message?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts: string[] = [];
    for (const p of content) {
      const part = contentPart.safeParse(p);
      if (!part.success) continue;
      if (typeof part.data === 'string') parts.push(part.data);
      else if (typeof part.data.text === 'string') parts.push(part.data.text);
      else if (typeof part.data.content === 'string') parts.push(part.data.content);
    }
    return parts.join(' ');
  }
  return typeof choice.text === 'string' ? choice.text : '';
}

/** The text piece of one streamed chunk: `choices[0].delta.content` (or `choices[0].text`). */
function chunkPiece(chunk: z.infer<typeof completionSchema>): string {
  const choice = chunk.choices?.[0];
  if (!choice) return '';
  const c = choice.delta?.content;
  if (typeof c === 'string') return c;
  return typeof choice.text === 'string' ? choice.text : '';
}

/** Statuses with which servers refuse `stream: true` (or a parameter of it); retried without streaming. */
const STREAM_REJECTED = new Set([400, 415, 422, 501]);
const REJECTED = Symbol('stream rejected');

export class OpenAiLlm extends EngineServerAdapter implements Llm {
  readonly kind = 'openai';
  label(): string {
    return this.config().llm_model;
  }

  contextWindow(): number {
    return 0;
  }

  async complete(req: LlmRequest): Promise<LlmResult> {
    const cfg = this.config();
    const base = baseUrl(cfg.llm_base_url, 'llm_base_url', 'llm');
    const t0 = performance.now();
    if (req.onToken) {
      const streamed = await this.send(cfg, base, req, true, t0);
      if (streamed !== REJECTED) return streamed;
    }
    const plain = await this.send(cfg, base, req, false, t0);
    if (plain === REJECTED) throw new Error('unreachable: a non-streaming request is never retried');
    return plain;
  }

  private body(cfg: AppConfig, req: LlmRequest, stream: boolean): string {
    const p = req.params;
    const body: Record<string, unknown> = {
      model: cfg.llm_model,
      messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
      max_tokens: p.maxTokens,
      temperature: p.temperature,
      stream,
    };
    if (p.topP !== undefined) body.top_p = p.topP;
    // upstream maps the local repetition penalty onto OpenAI's frequency_penalty; round off float noise (1.1-1)
    if (p.repeatPenalty !== undefined) body.frequency_penalty = Math.round((p.repeatPenalty - 1) * 1e6) / 1e6;
    if (p.stop && p.stop.length > 0) body.stop = p.stop;
    return JSON.stringify(body);
  }

  private send(cfg: AppConfig, base: string, req: LlmRequest, stream: boolean, t0: number): Promise<LlmResult | typeof REJECTED> {
    const what = { stage: 'llm' as const, what: 'LLM server', base };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (stream) headers.accept = 'text/event-stream, application/json';
    if (cfg.llm_api_key) headers.authorization = `Bearer ${cfg.llm_api_key}`;
    return engineRequest(
      {
        ...what,
        url: `${base}/chat/completions`,
        init: { method: 'POST', headers, body: this.body(cfg, req, stream) },
        timeoutMs: timeoutMs(cfg.engine_timeout_sec),
        signal: req.signal,
      },
      async (res): Promise<LlmResult | typeof REJECTED> => {
        if (!res.ok) {
          if (stream && STREAM_REJECTED.has(res.status)) return REJECTED;
          return failLlm(res, what, cfg);
        }
        const type = res.headers.get('content-type') ?? '';
        if (type.includes('text/event-stream') && res.body) return readStream(sseData(res.body), req, t0, what);
        const text = await readText(res, MAX_JSON_BODY_BYTES, what);
        if (looksLikeSse(text)) return readStream(sseDataOfText(text), req, t0, what);
        const json = parseJsonBody(text, what, res.status);
        const out = completionText(json);
        if (out === undefined) {
          throw new EngineHttpError(`LLM server at ${base} returned no choices: ${bodySnippet(text)}`, 'llm', res.status);
        }
        const result: LlmResult = { text: out };
        const usage = completionSchema.safeParse(json);
        if (usage.success && usage.data.usage?.completion_tokens !== undefined) result.tokens = usage.data.usage.completion_tokens;
        if (req.onToken && out) {
          result.ttftMs = performance.now() - t0;
          req.onToken(out);
        }
        return result;
      },
    );
  }

  /**
   * `{backend, base_url, model, configured, ok}` (spec §10.5 plus `ok`). The probe is a cached
   * `GET {base}/models`: any answer but an auth failure or a 5xx means the server is there.
   */
  async health(): Promise<EngineHealth> {
    const cfg = this.config();
    const info = { backend: 'openai_remote', base_url: cfg.llm_base_url, model: cfg.llm_model, configured: cfg.llm_base_url.trim() !== '' };
    let base: string;
    try {
      base = baseUrl(cfg.llm_base_url, 'llm_base_url', 'llm');
    } catch (err) {
      return { ...info, ok: false, error: errorText(err) };
    }
    const keyTag = cfg.llm_api_key ? createHash('sha256').update(cfg.llm_api_key).digest('hex').slice(0, 12) : '-';
    const h = await this.healthCache.get(`llm ${base} ${keyTag}`, () => this.probe(cfg, base));
    return { ...info, ok: h.ok, ...(h.error ? { error: h.error } : {}) };
  }

  private async probe(cfg: AppConfig, base: string): Promise<EngineHealth> {
    const what = { stage: 'llm' as const, what: 'LLM server', base };
    const headers: Record<string, string> = {};
    if (cfg.llm_api_key) headers.authorization = `Bearer ${cfg.llm_api_key}`;
    try {
      return await engineRequest({ ...what, url: `${base}/models`, init: { method: 'GET', headers }, timeoutMs: this.probeTimeoutMs }, async (res) => {
        if (res.status === 401 || res.status === 403 || res.status >= 500) return failLlm(res, what, cfg);
        return { ok: true };
      });
    } catch (err) {
      return { ok: false, error: errorText(err) };
    }
  }
}

async function readStream(
  events: AsyncIterable<string> | Iterable<string>,
  req: LlmRequest,
  t0: number,
  what: { stage: 'llm'; what: string; base: string },
): Promise<LlmResult> {
  const pieces: string[] = [];
  let ttftMs: number | undefined;
  let tokens: number | undefined;
  let chunks = 0;
  for await (const data of events) {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw new EngineHttpError(`LLM server at ${what.base} streamed a chunk that is not valid JSON: ${bodySnippet(data, 120)}`, 'llm');
    }
    const chunk = completionSchema.safeParse(json);
    if (!chunk.success) continue;
    if (chunk.data.error !== undefined && chunk.data.error !== null) {
      throw new EngineHttpError(`LLM server at ${what.base} reported an error while streaming: ${bodySnippet(data)}`, 'llm');
    }
    if (chunk.data.usage?.completion_tokens !== undefined) tokens = chunk.data.usage.completion_tokens;
    const piece = chunkPiece(chunk.data);
    if (!piece) continue;
    // chunks already buffered must not reach the caller after it gave up
    req.signal?.throwIfAborted();
    chunks++;
    ttftMs ??= performance.now() - t0;
    pieces.push(piece);
    req.onToken?.(piece);
  }
  const result: LlmResult = { text: pieces.join(''), tokens: tokens ?? chunks };
  if (ttftMs !== undefined) result.ttftMs = ttftMs;
  return result;
}

function failLlm(res: Response, what: { stage: 'llm'; what: string; base: string }, cfg: AppConfig): Promise<never> {
  if (res.status === 401 || res.status === 403) {
    const hint = cfg.llm_api_key ? 'check llm_api_key' : 'llm_api_key is empty; this server needs one';
    return failForStatus(res, what, hint, `LLM server rejected the API key (HTTP ${res.status} from ${what.base})`);
  }
  if (res.status === 404) return failForStatus(res, what, 'check llm_base_url (it usually ends in /v1) and llm_model');
  return failForStatus(res, what);
}
