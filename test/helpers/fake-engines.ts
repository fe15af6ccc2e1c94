/**
 * A fake OpenAI-compatible engine server for tests: ASR, TTS, Piper, chat completions and the model
 * list on one loopback port, programmable per test, recording every request.
 *
 *   const fake = await startFakeEngines({ asr: 'hello there', llm: (msgs) => 'reply text' });
 *   cfg.mlx_audio_base = fake.baseUrl; cfg.llm_base_url = fake.llmBaseUrl; cfg.piper_base = fake.piperUrl;
 *   // or: Object.assign(cfg, fake.config)
 *   fake.requests; fake.requestsFor('asr')[0].fields.model; await fake.close();
 *
 * Routes: POST /v1/audio/transcriptions (asr), POST /v1/audio/speech (tts), POST /piper and POST /
 * (piper), POST /v1/chat/completions and /chat/completions (llm), GET /v1/models and /models (models).
 * Faults (`fake.fault(route, {...})`): HTTP errors, raw/malformed bodies, delays, hanging requests,
 * dropped connections — consumed in order, each for `times` requests (default: every request).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultConfig, type AppConfig } from '../../src-shared/config/schema';

export type FakeRoute = 'asr' | 'tts' | 'piper' | 'llm' | 'models';

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  /** raw bytes of the part body */
  data: Buffer;
  /** `data` decoded as UTF-8 */
  value: string;
}

export interface RecordedRequest {
  route: FakeRoute | 'unknown';
  method: string;
  /** path and query as received */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** the parsed body when it was JSON */
  json?: unknown;
  /** multipart parts in the order received */
  parts?: MultipartPart[];
  /** multipart text fields (parts without a filename), by name */
  fields?: Record<string, string>;
  /** the first multipart part with a filename */
  file?: MultipartPart;
  /** 'completed' when the whole response was written; 'aborted' when the client went away first */
  outcome: Promise<'completed' | 'aborted'>;
}

export interface AsrCall {
  file: Buffer;
  filename?: string;
  contentType?: string;
  fields: Record<string, string>;
  request: RecordedRequest;
}
/** A string becomes `{"text": s}`; an object is sent verbatim as the JSON body. */
export type AsrReply = string | Record<string, unknown>;
export type AsrScript = AsrReply | AsrReply[] | ((file: Buffer, call: AsrCall) => AsrReply | Promise<AsrReply>);

export interface FakeChatMessage {
  role: string;
  content: unknown;
}
export interface LlmCall {
  messages: FakeChatMessage[];
  body: Record<string, unknown>;
  request: RecordedRequest;
}
export type LlmScript = string | string[] | ((messages: FakeChatMessage[], call: LlmCall) => string | Promise<string>);

export interface ToneOptions {
  sampleRate?: number;
  format?: 'pcm16' | 'float32';
  channels?: number;
  /** duration per character of input text (default 50 ms), at least `minMs` (default 100 ms) */
  msPerChar?: number;
  minMs?: number;
  frequency?: number;
}

export interface FakeEnginesOptions {
  /** transcripts: fixed, a queue (one per request; exhausted → HTTP 500), or a function of the upload */
  asr?: AsrScript;
  /** WAV the speech endpoint answers with (default 24 kHz 16-bit mono) */
  tts?: ToneOptions;
  /** WAV the Piper endpoint answers with (default 22.05 kHz 16-bit mono) */
  piper?: ToneOptions;
  /** replies: fixed, a queue (exhausted → HTTP 500), or a function of the messages */
  llm?: LlmScript;
  /** delay between streamed tokens (default 0) */
  llmTokenDelayMs?: number;
  /** how `stream: true` is answered: SSE (default), HTTP 400 (server without streaming), or plain JSON */
  llmStream?: 'sse' | 'reject' | 'json';
  /** shape of non-streamed replies: `message.content` string (default), a list of parts, or legacy `text` */
  llmShape?: 'string' | 'parts' | 'text';
  /** ids listed by GET /v1/models */
  models?: string[];
}

export interface Fault {
  /** answer with this status instead of the normal reply (body defaults to a JSON error) */
  status?: number;
  /** answer with this raw body (string/Buffer) or JSON (object); status defaults to 200 */
  body?: string | Buffer | Record<string, unknown> | unknown[];
  contentType?: string;
  /** wait this long before answering (normally or with the fault) */
  delayMs?: number;
  /** never answer; the request stays open until the client aborts or the server closes */
  hang?: boolean;
  /** drop the connection without an answer */
  destroy?: boolean;
  /** how many requests this fault applies to (default: all following requests) */
  times?: number;
}

export interface FakeEngines {
  /** http://127.0.0.1:<port> — use as mlx_audio_base */
  readonly baseUrl: string;
  /** <baseUrl>/v1 — use as llm_base_url */
  readonly llmBaseUrl: string;
  /** <baseUrl>/piper — use as piper_base */
  readonly piperUrl: string;
  /** the three config keys pointing at this server */
  readonly config: { mlx_audio_base: string; llm_base_url: string; piper_base: string };
  readonly port: number;
  /** every request received, in arrival order (recorded once its body has been read) */
  readonly requests: RecordedRequest[];
  requestsFor(route: FakeRoute): RecordedRequest[];
  /** resolves when at least `count` requests for `route` have been recorded in total */
  waitForRequests(route: FakeRoute, count: number): Promise<RecordedRequest[]>;
  /** resolves with the next request for `route` that arrives after this call */
  nextRequest(route: FakeRoute): Promise<RecordedRequest>;
  /** reprogram behaviour (merged into the current options; queues restart) */
  set(opts: Partial<FakeEnginesOptions>): void;
  fault(route: FakeRoute, fault: Fault): void;
  clearFaults(route?: FakeRoute): void;
  clearRequests(): void;
  close(): Promise<void>;
}

/** A sine tone WAV (16-bit PCM or 32-bit float, any rate/channels). */
export function toneWav(ms: number, opts: ToneOptions = {}): Buffer {
  const rate = opts.sampleRate ?? 24000;
  const channels = opts.channels ?? 1;
  const float = opts.format === 'float32';
  const bytesPerSample = float ? 4 : 2;
  const frames = Math.max(1, Math.round((rate * ms) / 1000));
  const dataBytes = frames * channels * bytesPerSample;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(float ? 3 : 1, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * channels * bytesPerSample, 28);
  buf.writeUInt16LE(channels * bytesPerSample, 32);
  buf.writeUInt16LE(bytesPerSample * 8, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  const freq = opts.frequency ?? 440;
  let off = 44;
  for (let i = 0; i < frames; i++) {
    const v = 0.3 * Math.sin((2 * Math.PI * freq * i) / rate);
    for (let c = 0; c < channels; c++) {
      if (float) buf.writeFloatLE(v, off);
      else buf.writeInt16LE(Math.round(v * 32767), off);
      off += bytesPerSample;
    }
  }
  return buf;
}

/** Duration of the fake's speech for `text` (what the TTS and Piper routes return). */
export function fakeSpeechMs(text: string, opts: ToneOptions = {}): number {
  return Math.max(opts.minMs ?? 100, text.length * (opts.msPerChar ?? 50));
}

/** Splits a multipart/form-data body. */
export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  if (!m) throw new Error('multipart body without a boundary');
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // closing delimiter
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new Error('multipart body is not terminated');
    const end = body.subarray(next - 2, next).toString() === '\r\n' ? next - 2 : next;
    const raw = body.subarray(start, end);
    const headEnd = raw.indexOf('\r\n\r\n');
    if (headEnd < 0) throw new Error('multipart part without headers');
    const headers = raw.subarray(0, headEnd).toString('latin1');
    const data = Buffer.from(raw.subarray(headEnd + 4));
    const disp = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disp)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim();
    parts.push({ name, filename, contentType: type, data, value: data.toString('utf8') });
    pos = next;
  }
  return parts;
}

const ROUTES: { method: string; path: RegExp; route: FakeRoute }[] = [
  { method: 'POST', path: /^\/v1\/audio\/transcriptions\/?$/, route: 'asr' },
  { method: 'POST', path: /^\/v1\/audio\/speech\/?$/, route: 'tts' },
  { method: 'POST', path: /^\/(piper\/?)?$/, route: 'piper' },
  { method: 'POST', path: /^(\/v1)?\/chat\/completions\/?$/, route: 'llm' },
  { method: 'GET', path: /^(\/v1)?\/models\/?$/, route: 'models' },
];

class HttpReply extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startFakeEngines(initial: FakeEnginesOptions = {}): Promise<FakeEngines> {
  let opts: FakeEnginesOptions = { ...initial };
  let asrQueue: AsrReply[] | undefined;
  let llmQueue: string[] | undefined;
  const resetQueues = () => {
    asrQueue = Array.isArray(opts.asr) ? [...opts.asr] : undefined;
    llmQueue = Array.isArray(opts.llm) ? [...opts.llm] : undefined;
  };
  resetQueues();

  const requests: RecordedRequest[] = [];
  const faults = new Map<FakeRoute, Fault[]>();
  const waiters: { route: FakeRoute; count: number; resolve: (r: RecordedRequest[]) => void }[] = [];
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  let completionId = 0;

  const forRoute = (route: FakeRoute) => requests.filter((r) => r.route === route);

  const notify = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      const list = forRoute(w.route);
      if (list.length >= w.count) {
        waiters.splice(i, 1);
        w.resolve(list);
      }
    }
  };

  const waitForRequests = (route: FakeRoute, count: number) =>
    new Promise<RecordedRequest[]>((resolve) => {
      waiters.push({ route, count, resolve });
      notify();
    });

  const takeFault = (route: FakeRoute): Fault | undefined => {
    const list = faults.get(route);
    const f = list?.[0];
    if (!f) return undefined;
    if (f.times !== undefined) {
      f.times -= 1;
      if (f.times <= 0) list.shift();
    }
    return f;
  };

  const pause = async (ms: number) => {
    if (ms > 0) await sleep(ms, undefined, { signal: closing.signal });
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const sendWav = (res: ServerResponse, wav: Buffer) => {
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
    res.end(wav);
  };

  const sendFault = (res: ServerResponse, f: Fault) => {
    if (res.destroyed) return;
    const status = f.status ?? 200;
    let body: Buffer;
    let type = f.contentType;
    if (f.body === undefined) {
      body = Buffer.from(JSON.stringify({ error: { message: `fake engine error ${status}` } }));
      type ??= 'application/json';
    } else if (typeof f.body === 'string') body = Buffer.from(f.body);
    else if (Buffer.isBuffer(f.body)) body = f.body;
    else {
      body = Buffer.from(JSON.stringify(f.body));
      type ??= 'application/json';
    }
    const headers: Record<string, string | number> = { 'content-length': body.length };
    if (type) headers['content-type'] = type;
    res.writeHead(status, headers);
    res.end(body);
  };

  const handleAsr = async (rec: RecordedRequest, res: ServerResponse) => {
    const file = rec.file;
    if (!file) throw new HttpReply(400, 'multipart field "file" is required');
    const call: AsrCall = { file: file.data, filename: file.filename, contentType: file.contentType, fields: rec.fields ?? {}, request: rec };
    const script = opts.asr ?? 'hello';
    let reply: AsrReply;
    if (typeof script === 'function') reply = await script(file.data, call);
    else if (Array.isArray(script)) {
      const next = asrQueue?.shift();
      if (next === undefined) throw new HttpReply(500, 'fake ASR script exhausted');
      reply = next;
    } else reply = script;
    sendJson(res, 200, typeof reply === 'string' ? { text: reply } : reply);
  };

  const handleSpeech = (rec: RecordedRequest, res: ServerResponse, tone: ToneOptions, textKey: 'input' | 'text') => {
    const body = rec.json as Record<string, unknown> | undefined;
    const text = body?.[textKey];
    if (typeof text !== 'string') throw new HttpReply(400, `JSON field "${textKey}" is required`);
    sendWav(res, toneWav(fakeSpeechMs(text, tone), tone));
  };

  const llmReply = async (call: LlmCall): Promise<string> => {
    const script = opts.llm ?? 'OK.';
    if (typeof script === 'function') return script(call.messages, call);
    if (Array.isArray(script)) {
      const next = llmQueue?.shift();
      if (next === undefined) throw new HttpReply(500, 'fake LLM script exhausted');
      return next;
    }
    return script;
  };

  const handleLlm = async (rec: RecordedRequest, res: ServerResponse) => {
    const body = rec.json;
    if (!body || typeof body !== 'object' || !Array.isArray((body as Record<string, unknown>).messages)) {
      throw new HttpReply(400, 'body must be JSON with a "messages" array');
    }
    const b = body as Record<string, unknown>;
    const stream = b.stream === true;
    if (stream && opts.llmStream === 'reject') throw new HttpReply(400, 'stream is not supported by this server');
    const text = await llmReply({ messages: b.messages as FakeChatMessage[], body: b, request: rec });
    const id = `chatcmpl-fake-${++completionId}`;
    const model = typeof b.model === 'string' ? b.model : 'fake';
    const created = Math.floor(Date.now() / 1000);
    const pieces = text.match(/\s*\S+/g) ?? [];
    if (stream && opts.llmStream !== 'json') {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta: Record<string, unknown>, finish: string | null) =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }, null));
      for (const piece of pieces) {
        await pause(opts.llmTokenDelayMs ?? 0);
        if (res.destroyed) return;
        res.write(chunk({ content: piece }, null));
      }
      if (res.destroyed) return;
      res.write(chunk({}, 'stop'));
      res.end('data: [DONE]\n\n');
      return;
    }
    const shape = opts.llmShape ?? 'string';
    const choice =
      shape === 'text'
        ? { index: 0, text, finish_reason: 'stop' }
        : { index: 0, message: { role: 'assistant', content: shape === 'parts' ? pieces.map((p) => ({ type: 'text', text: p.trim() })) : text }, finish_reason: 'stop' };
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [choice],
      usage: { prompt_tokens: 1, completion_tokens: pieces.length, total_tokens: pieces.length + 1 },
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const pathname = path.split('?')[0];
    const route = ROUTES.find((r) => r.method === req.method && r.path.test(pathname))?.route ?? 'unknown';
    let settle: (v: 'completed' | 'aborted') => void = () => undefined;
    const outcome = new Promise<'completed' | 'aborted'>((resolve) => (settle = resolve));
    res.on('close', () => settle(res.writableFinished ? 'completed' : 'aborted'));
    const rec: RecordedRequest = { route, method: req.method ?? '', path, headers: req.headers, body, outcome };
    const type = req.headers['content-type'] ?? '';
    try {
      if (type.includes('application/json')) rec.json = JSON.parse(body.toString('utf8'));
    } catch {
      rec.json = undefined;
    }
    if (type.startsWith('multipart/form-data')) {
      try {
        rec.parts = parseMultipart(body, type);
        rec.fields = Object.fromEntries(rec.parts.filter((p) => p.filename === undefined).map((p) => [p.name, p.value]));
        rec.file = rec.parts.find((p) => p.filename !== undefined);
      } catch {
        rec.parts = undefined;
      }
    }
    requests.push(rec);
    notify();

    if (route === 'unknown') return sendJson(res, 404, { detail: 'Not Found' });
    const f = takeFault(route);
    if (f?.destroy) {
      req.socket.destroy();
      return;
    }
    if (f?.delayMs) await pause(f.delayMs);
    if (f?.hang) return; // left open: the client's abort or close() ends it
    if (f && (f.status !== undefined || f.body !== undefined)) return sendFault(res, f);
    if (type.includes('application/json') && rec.json === undefined && body.length > 0) throw new HttpReply(400, 'body is not valid JSON');

    switch (route) {
      case 'asr':
        return handleAsr(rec, res);
      case 'tts':
        return handleSpeech(rec, res, { sampleRate: 24000, ...opts.tts }, 'input');
      case 'piper':
        return handleSpeech(rec, res, { sampleRate: 22050, ...opts.piper }, 'text');
      case 'llm':
        return handleLlm(rec, res);
      case 'models':
        return sendJson(res, 200, { object: 'list', data: (opts.models ?? ['fake-asr', 'fake-tts']).map((id) => ({ id, object: 'model', owned_by: 'fake' })) });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (closing.signal.aborted || res.destroyed) return;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = err instanceof HttpReply ? err.status : 500;
      sendJson(res, status, { detail: err instanceof Error ? err.message : String(err) });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    llmBaseUrl: `${baseUrl}/v1`,
    piperUrl: `${baseUrl}/piper`,
    config: { mlx_audio_base: baseUrl, llm_base_url: `${baseUrl}/v1`, piper_base: `${baseUrl}/piper` },
    port,
    requests,
    requestsFor: forRoute,
    waitForRequests,
    async nextRequest(route) {
      const list = await waitForRequests(route, forRoute(route).length + 1);
      return list[list.length - 1];
    },
    set(patch) {
      opts = { ...opts, ...patch };
      resetQueues();
    },
    fault(route, fault) {
      const list = faults.get(route) ?? [];
      list.push({ ...fault });
      faults.set(route, list);
    },
    clearFaults(route) {
      if (route) faults.delete(route);
      else faults.clear();
    },
    clearRequests() {
      requests.length = 0;
    },
    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** A full default config whose engine URLs point at the fake server. */
export function fakeEngineConfig(fake: FakeEngines, patch: Partial<AppConfig> = {}): AppConfig {
  return { ...defaultConfig(), ...fake.config, ...patch };
}

/** A loopback port nobody listens on (bound, then released): connections to it are refused. */
export async function unusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
