/**
 * The HTTP plumbing every OpenAI-compatible adapter shares: base-URL checks, one deadline that covers
 * the whole exchange (headers and body), the caller's AbortSignal, bounded body reads, and error
 * messages that tell a person what to fix.
 */
import { EngineUnavailableError } from '../types';

export type EngineStage = 'asr' | 'llm' | 'tts';

/** A request to an engine server failed (unreachable, timeout, non-2xx, unusable body). */
export class EngineHttpError extends Error {
  constructor(
    message: string,
    readonly stage: EngineStage,
    /** HTTP status when the server answered */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'EngineHttpError';
  }
}

/** Largest body we read from an engine server (a long TTS reply at 48 kHz float is a few MB). */
export const MAX_AUDIO_BODY_BYTES = 64 * 1024 * 1024;
export const MAX_JSON_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Validates a configured base URL and returns it without trailing slashes.
 * Throws EngineUnavailableError naming the config key when it is empty or not http(s).
 */
export function baseUrl(value: string, key: string, stage: EngineStage): string {
  const v = value.trim().replace(/\/+$/, '');
  if (!v) throw new EngineUnavailableError(stage, `${key} is not set: point it at an OpenAI-compatible server (e.g. http://127.0.0.1:8765)`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new EngineUnavailableError(stage, `${key} "${value}" is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new EngineUnavailableError(stage, `${key} "${value}" must start with http:// or https://`);
  return v;
}

export interface EngineRequest {
  stage: EngineStage;
  /** how the message names the server, e.g. "ASR server" */
  what: string;
  /** the configured base URL, as people know it */
  base: string;
  url: string;
  init: RequestInit;
  timeoutMs: number;
  signal?: AbortSignal;
}

function causeCode(err: unknown): string | undefined {
  const c = (err as { cause?: unknown })?.cause as { code?: unknown; errors?: { code?: unknown }[] } | undefined;
  if (!c) return undefined;
  if (typeof c.code === 'string') return c.code;
  const inner = c.errors?.find((e) => typeof e?.code === 'string');
  return inner ? String(inner.code) : undefined;
}

function connectionMessage(req: EngineRequest, err: unknown): string {
  const code = causeCode(err);
  switch (code) {
    case 'ECONNREFUSED':
      return `${req.what} at ${req.base} is not reachable (connection refused) — is it running?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${req.what} at ${req.base} is not reachable (host not found)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${req.what} at ${req.base} is not reachable (${code})`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return `${req.what} at ${req.base} closed the connection unexpectedly`;
    default: {
      const cause = (err as { cause?: { message?: string } })?.cause?.message;
      return `${req.what} request to ${req.url} failed: ${cause ?? (err as Error)?.message ?? String(err)}`;
    }
  }
}

/**
 * Runs one request: `fetch`, then `use(res)` to read the body, all under one deadline and the caller's
 * signal. A caller abort rethrows the caller's abort reason unchanged; everything else becomes an
 * EngineHttpError with a clear message.
 */
export async function engineRequest<T>(req: EngineRequest, use: (res: Response) => Promise<T>): Promise<T> {
  req.signal?.throwIfAborted();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error('engine timeout')), req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([deadline.signal, req.signal]) : deadline.signal;
  try {
    let res: Response;
    try {
      res = await fetch(req.url, { ...req.init, signal });
    } catch (err) {
      throw translate(req, err, deadline.signal);
    }
    try {
      return await use(res);
    } catch (err) {
      if (err instanceof EngineHttpError) throw err;
      throw translate(req, err, deadline.signal);
    } finally {
      // release the connection if `use` stopped reading early
      if (!res.bodyUsed && res.body) await res.body.cancel().catch(() => undefined);
    }
  } finally {
    clearTimeout(timer);
  }
}

function translate(req: EngineRequest, err: unknown, deadline: AbortSignal): unknown {
  if (req.signal?.aborted) return req.signal.reason;
  if (deadline.aborted) {
    return new EngineHttpError(`${req.what} at ${req.base} did not answer within ${formatSeconds(req.timeoutMs)} (engine_timeout_sec)`, req.stage);
  }
  if (err instanceof EngineHttpError || err instanceof EngineUnavailableError) return err;
  if (err instanceof TypeError && (err.message === 'fetch failed' || (err as { cause?: unknown }).cause)) {
    return new EngineHttpError(connectionMessage(req, err), req.stage);
  }
  const code = causeCode(err) ?? (err as { code?: string })?.code;
  if (code) return new EngineHttpError(connectionMessage(req, { cause: err }), req.stage);
  return err;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Reads the whole body, refusing more than `max` bytes. */
export async function readBody(res: Response, max: number, req: Pick<EngineRequest, 'what' | 'base' | 'stage'>): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new EngineHttpError(`${req.what} at ${req.base} sent more than ${Math.round(max / 1024 / 1024)} MB; refusing the response`, req.stage, res.status);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

export async function readText(res: Response, max: number, req: Pick<EngineRequest, 'what' | 'base' | 'stage'>): Promise<string> {
  return new TextDecoder().decode(await readBody(res, max, req));
}

/** A short, single-line excerpt of an error body; prefers an `error.message`/`detail` field of JSON bodies. */
export function bodySnippet(text: string, max = 200): string {
  let s = text;
  try {
    const j = JSON.parse(text) as unknown;
    const msg = errorMessageOf(j);
    if (msg) s = msg;
  } catch {
    // not JSON: use the raw text
  }
  s = s.replace(/\s+/g, ' ').trim();
  if (!s) return '(empty body)';
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function errorMessageOf(j: unknown): string | undefined {
  if (!j || typeof j !== 'object') return undefined;
  const o = j as Record<string, unknown>;
  const e = o.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && typeof (e as Record<string, unknown>).message === 'string') return (e as Record<string, string>).message;
  if (typeof o.detail === 'string') return o.detail;
  if (typeof o.message === 'string') return o.message;
  return undefined;
}

/**
 * Non-2xx → EngineHttpError "<what> at <base> answered HTTP <status>: <snippet>[ — hint]";
 * `lead` replaces the part before the colon.
 */
export async function failForStatus(res: Response, req: Pick<EngineRequest, 'what' | 'base' | 'stage'>, hint?: string, lead?: string): Promise<never> {
  const text = await readText(res, MAX_JSON_BODY_BYTES, req).catch(() => '');
  const tail = hint ? ` — ${hint}` : '';
  const head = lead ?? `${req.what} at ${req.base} answered HTTP ${res.status}`;
  throw new EngineHttpError(`${head}: ${bodySnippet(text)}${tail}`, req.stage, res.status);
}

export function parseJsonBody(text: string, req: Pick<EngineRequest, 'what' | 'base' | 'stage'>, status: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EngineHttpError(`${req.what} at ${req.base} returned a body that is not valid JSON: ${bodySnippet(text, 120)}`, req.stage, status);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Seconds from config → milliseconds, clamped to something sane. */
export function timeoutMs(seconds: number | undefined, fallbackSec = 60): number {
  const s = typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : fallbackSec;
  return Math.round(s * 1000);
}
