/**
 * Embedded language model: llama.cpp through node-llama-cpp (ESM-only, loaded with a dynamic import;
 * its prebuilt CPU binary comes from npm). Each call (sessionKey) keeps its own context sequence, so the
 * system prompt and earlier turns stay in the KV cache and only the new tokens are evaluated per turn.
 * A released call's context goes back to a pool with its tokens kept: the next call shares the same
 * system prompt, so even its first turn starts from a warm prefix.
 */
import { open, stat } from 'node:fs/promises';
import { DEFAULT_SYSTEM_PROMPT } from '../../../src-shared/config/schema';
import { ModelMissingError } from '../../models/manager';
import { EngineUnavailableError, type EngineHealth, type Llm, type LlmRequest, type LlmResult } from '../types';
import { abortError, cores, errorMessage, Mutex, resolveModel, type GetConfig, type ModelSource } from './common';
import { ModelFileError } from './whisper-format';

type NLC = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NLC['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type LlamaContext = Awaited<ReturnType<LlamaModel['createContext']>>;
type LlamaChat = InstanceType<NLC['LlamaChat']>;
type LlamaSequence = ReturnType<LlamaContext['getSequence']>;
type ChatHistoryItem = import('node-llama-cpp').ChatHistoryItem;

interface Slot { context: LlamaContext; sequence: LlamaSequence }
interface Session extends Slot { key: string; chat: LlamaChat; lastUsed: number }
interface Loaded { path: string; mtimeMs: number; name: string; model: LlamaModel; contextSize: number; threads: number; /** llama_context_size it was loaded for */ wantContext: number }

const DEFAULT_KEY = '\u0000default';
const DEFAULT_CONTEXT = 4096;

let nlcPromise: Promise<NLC> | null = null;
const loadNlc = () => (nlcPromise ??= import('node-llama-cpp'));

/** One llama.cpp runtime per thread count for the whole process (loading the binding takes about a second). */
const runtimes = new Map<number, Promise<Llama>>();
let logSink: ((level: string, message: string) => void) | undefined;
function runtime(threads: number): Promise<Llama> {
  let r = runtimes.get(threads);
  if (!r) {
    r = loadNlc().then((nlc) => nlc.getLlama({
      gpu: false,
      build: 'never',
      maxThreads: threads,
      logLevel: nlc.LlamaLogLevel.error,
      logger: (level, message) => logSink?.(String(level), message),
    }));
    r.catch(() => runtimes.delete(threads));
    runtimes.set(threads, r);
  }
  return r;
}

export interface LlamaLlmOptions extends ModelSource {
  /** log sink for llama.cpp warnings */
  log?: (level: string, message: string) => void;
}

export interface LlamaResult extends LlmResult {
  /** tokens in the context after the turn */
  contextTokens?: number;
  /** prompt tokens evaluated for this turn; the rest of the prompt came from the KV cache */
  promptTokensEvaluated?: number;
  totalMs: number;
}

async function checkGguf(file: string): Promise<void> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new ModelFileError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `cannot be opened (${errorMessage(e)})`);
  }
  try {
    const b = Buffer.alloc(8);
    const { bytesRead } = await fh.read(b, 0, 8, 0);
    if (bytesRead < 8 || b.subarray(0, 4).toString('latin1') !== 'GGUF') {
      const hint = b.readUInt32LE(0) === 0x67676d6c ? ' (this is a whisper ggml model, not a language model)' : '';
      throw new ModelFileError(file, `not a GGUF language model${hint}`);
    }
    const v = b.readUInt32LE(4);
    if (v < 2 || v > 3) throw new ModelFileError(file, `unsupported GGUF version ${v}`);
  } finally {
    await fh.close();
  }
}

export class LlamaLlm implements Llm {
  readonly kind = 'llama';
  private llama: Llama | null = null;
  private llamaThreads = 0;
  private loaded: Loaded | null = null;
  private loading: Promise<Loaded> | null = null;
  private readonly sessions = new Map<string, Session>();
  private readonly pool: Slot[] = [];
  private readonly lock = new Mutex();
  private lastError: string | null = null;

  constructor(private readonly getConfig: GetConfig, private readonly opts: LlamaLlmOptions = {}) {}

  private preference(): string {
    const cfg = this.getConfig();
    if (cfg.llama_model) return cfg.llama_model;
    return /\.gguf$/i.test(cfg.llm_model.trim()) ? cfg.llm_model.trim() : '';
  }

  /**
   * 0 = automatic: every core on a machine of 1 or 2 cores (bench:engines on 2 cores: the first token
   * after a reused prefix 161–178 ms instead of 344 ms with one thread, tokens/s unchanged, and the
   * pipelined turn's first audio earlier even with espeak-ng competing); the free cores (cores − 1)
   * above that, leaving one to the gateway and speech.
   */
  threads(): number {
    const n = cores();
    return this.getConfig().llama_threads || (n <= 2 ? n : n - 1);
  }

  label(): string {
    return `local/${this.loaded?.name ?? (this.preference() || this.getConfig().llm_model || 'llama')}`;
  }

  contextWindow(): number {
    return this.loaded?.contextSize ?? 0;
  }

  private async getLlamaInstance(threads: number): Promise<Llama> {
    if (this.llama && this.llamaThreads === threads) return this.llama;
    if (this.opts.log) logSink = this.opts.log;
    if (this.llama) await this.disposeAll();
    this.llama = await runtime(threads);
    this.llamaThreads = threads;
    return this.llama;
  }

  private async model(): Promise<Loaded> {
    const resolved = await resolveModel(this.opts, 'llm', this.preference());
    const st = await stat(resolved.path).catch(() => null);
    if (!st) throw new ModelFileError(resolved.path, 'not found');
    const threads = this.threads();
    const wantContext = this.getConfig().llama_context_size;
    const cur = this.loaded;
    if (cur && cur.path === resolved.path && cur.mtimeMs === st.mtimeMs && cur.threads === threads && cur.wantContext === wantContext) return cur;
    if (this.loading) return this.loading;
    this.loading = (async () => {
      await checkGguf(resolved.path);
      const llama = await this.getLlamaInstance(threads);
      await this.disposeAll();
      let model: LlamaModel;
      try {
        model = await llama.loadModel({ modelPath: resolved.path });
      } catch (e) {
        throw new ModelFileError(resolved.path, `llama.cpp could not load it (${errorMessage(e)})`);
      }
      const want = wantContext || DEFAULT_CONTEXT;
      const contextSize = Math.max(256, Math.min(want, model.trainContextSize || want));
      this.loaded = { path: resolved.path, mtimeMs: st.mtimeMs, name: resolved.id ?? resolved.name, model, contextSize, threads, wantContext };
      return this.loaded;
    })();
    try {
      return await this.loading;
    } finally {
      this.loading = null;
    }
  }

  private async newSlot(m: Loaded): Promise<Slot> {
    const pooled = this.pool.pop();
    if (pooled) return pooled;
    const context = await m.model.createContext({ contextSize: m.contextSize, sequences: 1, threads: m.threads });
    return { context, sequence: context.getSequence() };
  }

  /** The session for a key, evicting the least recently used beyond `llama_max_sessions`. */
  private async session(m: Loaded, key: string): Promise<Session> {
    const nlc = await loadNlc();
    const existing = this.sessions.get(key);
    if (existing) { existing.lastUsed = Date.now(); return existing; }
    const max = this.getConfig().llama_max_sessions;
    while (this.sessions.size >= max) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0];
      this.releaseSession(oldest.key === DEFAULT_KEY ? DEFAULT_KEY : oldest.key);
    }
    const slot = await this.newSlot(m);
    const chat = new nlc.LlamaChat({ contextSequence: slot.sequence, autoDisposeSequence: false });
    const s: Session = { key, ...slot, chat, lastUsed: Date.now() };
    this.sessions.set(key, s);
    return s;
  }

  async complete(req: LlmRequest): Promise<LlamaResult> {
    if (req.signal?.aborted) throw abortError(req.signal);
    // one generation at a time; a model switch (config change) happens between generations, never under one
    return this.lock.run(async () => {
      if (req.signal?.aborted) throw abortError(req.signal);
      let m: Loaded;
      try {
        m = await this.model();
        this.lastError = null;
      } catch (e) {
        if (e instanceof ModelMissingError || e instanceof ModelFileError) {
          this.lastError = e.message;
          throw new EngineUnavailableError('llm', e.message);
        }
        throw e;
      }
      const s = await this.session(m, req.sessionKey || DEFAULT_KEY);
      const history = toHistory(req.messages);
      const seq = s.sequence;
      const meter = seq.tokenMeter.getState();
      const p = req.params;
      const t0 = performance.now();
      let ttft: number | undefined;
      let tokens = 0;
      try {
        const res = await s.chat.generateResponse(history, {
          maxTokens: p.maxTokens,
          temperature: p.temperature,
          topP: p.topP,
          topK: p.topK,
          repeatPenalty: p.repeatPenalty !== undefined && p.repeatPenalty !== 1 ? { penalty: p.repeatPenalty } : undefined,
          customStopTriggers: p.stop?.length ? p.stop : undefined,
          signal: req.signal,
          stopOnAbortSignal: false,
          onToken: (t) => { tokens += t.length; },
          onTextChunk: (piece) => {
            if (ttft === undefined) ttft = performance.now() - t0;
            req.onToken?.(piece);
          },
        });
        const after = seq.contextTokens.length;
        const used = seq.tokenMeter.diff(meter);
        return {
          text: res.response,
          ttftMs: ttft,
          tokens,
          totalMs: performance.now() - t0,
          contextTokens: after,
          promptTokensEvaluated: used.usedInputTokens,
        };
      } catch (e) {
        if (req.signal?.aborted) throw abortError(req.signal);
        throw new Error(`llama.cpp generation failed: ${errorMessage(e)}`);
      }
    });
  }

  releaseSession(sessionKey: string): void {
    const s = this.sessions.get(sessionKey);
    if (!s) return;
    this.sessions.delete(sessionKey);
    s.chat.dispose();
    // keep the context (and its cached tokens: the shared system prompt) for the next call
    if (this.pool.length < 1) this.pool.push({ context: s.context, sequence: s.sequence });
    else void s.context.dispose();
  }

  /** Free the model and every context (the shared runtime stays for the process). */
  private async disposeAll(): Promise<void> {
    for (const key of [...this.sessions.keys()]) this.releaseSession(key);
    for (const c of this.pool.splice(0)) await c.context.dispose().catch(() => undefined);
    if (this.loaded) { await this.loaded.model.dispose().catch(() => undefined); this.loaded = null; }
  }

  async health(): Promise<EngineHealth> {
    const base = { backend: 'llama.cpp', threads: this.threads(), sessions: this.sessions.size };
    try {
      const resolved = await resolveModel(this.opts, 'llm', this.preference());
      const loaded = this.loaded?.path === resolved.path;
      const model = `local/${resolved.id ?? resolved.name}`;
      if (this.lastError && !loaded) return { ok: false, ...base, model, loaded: false, error: this.lastError };
      return { ok: true, ...base, model, loaded, context_size: loaded ? this.loaded?.contextSize : undefined };
    } catch (e) {
      return { ok: false, ...base, model: null, loaded: false, error: errorMessage(e) };
    }
  }

  /** Load the model and evaluate the configured system prompt into a pooled context. */
  async warmup(): Promise<void> {
    const cfg = this.getConfig();
    const system = cfg.llm_system_prompt || DEFAULT_SYSTEM_PROMPT;
    const key = '\u0000warmup';
    await this.complete({ messages: [{ role: 'system', content: system }, { role: 'user', content: 'Hello.' }], params: { maxTokens: 1, temperature: 0 }, sessionKey: key });
    this.releaseSession(key);
  }

  async close(): Promise<void> {
    await this.lock.run(() => this.disposeAll());
  }
}

export function toHistory(messages: LlmRequest['messages']): ChatHistoryItem[] {
  const out: ChatHistoryItem[] = [];
  for (const m of messages) {
    if (m.role === 'system') out.push({ type: 'system', text: m.content });
    else if (m.role === 'user') out.push({ type: 'user', text: m.content });
    else out.push({ type: 'model', response: [m.content] });
  }
  out.push({ type: 'model', response: [] });
  return out;
}
