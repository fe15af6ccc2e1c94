/**
 * Embedded speech recognition: whisper.cpp through smart-whisper, in-process but off the event loop
 * (the binding runs whisper_full on libuv's thread pool). The model stays loaded across turns; for a
 * short utterance only the needed part of whisper's 30 s window is encoded (`audio_ctx`), which is the
 * biggest latency win on short phone turns (see bench/engines.bench.ts).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { resampleToFloat32 } from '../../../src-shared/audio/resample';
import type { PcmAudio } from '../../../src-shared/audio/wav';
import { safeText } from '../../../src-shared/text/sanitize';
import { ModelMissingError } from '../../models/manager';
import { EngineUnavailableError, type Asr, type AsrInput, type AsrResult, type AsrSegment, type EngineHealth } from '../types';
import { abortError, cores, errorMessage, Mutex, raceAbort, resolveModel, type GetConfig, type ModelSource } from './common';
import { inspectWhisperModel, ModelFileError, type WhisperModelInfo } from './whisper-format';

const SAMPLE_RATE = 16000;
/** encoder frames per second of audio (whisper: 100 mel frames/s, conv stride 2) */
const CTX_PER_SEC = 50;
const FULL_CTX = 1500;

// ---- the native binding (CommonJS) ----

interface NativeSegment { from: number; to: number; text: string; confidence?: number }
interface NativeModel { readonly handle: unknown; readonly freed: boolean; free(): Promise<void> }
interface Binding {
  transcribe(handle: unknown, pcm: Float32Array, params: Record<string, unknown>, finish: (r: NativeSegment[] | Error) => void, progress: (s: NativeSegment) => void): void;
  WhisperModel: { load(file: string, gpu: boolean): Promise<NativeModel> };
}

const require = createRequire(import.meta.url);
let bindingCache: Binding | undefined;

function binding(): Binding {
  if (!bindingCache) {
    // The binding silences whisper.cpp's own log only under NODE_ENV=production, read once at load.
    const prev = process.env.NODE_ENV;
    if (!process.env.CLAWFINGER_WHISPER_LOG) process.env.NODE_ENV = 'production';
    try {
      const mod = require('smart-whisper') as { binding: Binding };
      bindingCache = mod.binding;
    } finally {
      if (prev === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = prev;
    }
  }
  return bindingCache;
}

/** The SIMD level the installed whisper.cpp was compiled with (recorded by scripts/build-whisper-simd.mjs). */
export function whisperBuildSimd(): string {
  try {
    const dir = path.dirname(require.resolve('smart-whisper/package.json'));
    const bin = path.join(dir, 'build', 'Release', 'smart-whisper.node');
    const marker = JSON.parse(fs.readFileSync(path.join(dir, 'build', 'Release', 'clawfinger-build.json'), 'utf8')) as { simd?: string; size?: number; mtimeMs?: number };
    const st = fs.statSync(bin);
    return marker.size === st.size && marker.mtimeMs === st.mtimeMs && marker.simd ? marker.simd : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The `audio_ctx` that covers `seconds` of audio with a little slack; 0 = the full 30 s window. */
export function audioCtxFor(seconds: number): number {
  if (seconds >= 29) return 0;
  const ctx = Math.ceil((seconds + 1) * CTX_PER_SEC / 64) * 64;
  return Math.min(FULL_CTX, Math.max(128, ctx));
}

export interface WhisperSegment extends AsrSegment { confidence?: number }
export interface WhisperResult extends AsrResult {
  segments: WhisperSegment[];
  /** wall time of the native transcription, ms */
  durationMs: number;
  audioCtx: number;
  threads: number;
  model: string;
}

export interface WhisperTranscribeOptions {
  /** override config `whisper_short_audio` (benchmarks) */
  shortAudio?: boolean;
}

/** whisper's non-speech annotations: "[BLANK_AUDIO]", "(silence)", "[Music]" … */
const NON_SPEECH = /^\s*[[(][^\])]*[\])]\s*$/;

interface Loaded { path: string; mtimeMs: number; model: NativeModel; info: WhisperModelInfo; name: string }

export class WhisperAsr implements Asr {
  readonly kind = 'whisper';
  private loaded: Loaded | null = null;
  private loading: Promise<Loaded> | null = null;
  private readonly lock = new Mutex();
  private lastError: string | null = null;
  /** the model file the last error was about ('' = none was installed): a different file clears it */
  private lastErrorPath: string | null = null;

  constructor(private readonly getConfig: GetConfig, private readonly source: ModelSource = {}) {}

  /** Default: the free cores. whisper.cpp's threads spin-wait, so one more thread than free cores crawls. */
  threads(): number {
    return this.getConfig().whisper_threads || Math.max(1, cores() - 1);
  }

  /** Load (or switch to) the configured model; the same file stays loaded. */
  private async model(): Promise<Loaded> {
    const resolved = await resolveModel(this.source, 'whisper', this.getConfig().whisper_model);
    let st: fs.Stats;
    try {
      st = fs.statSync(resolved.path);
    } catch {
      throw new ModelFileError(resolved.path, 'not found');
    }
    const cur = this.loaded;
    if (cur && cur.path === resolved.path && cur.mtimeMs === st.mtimeMs && !cur.model.freed) return cur;
    if (this.loading) return this.loading;
    this.loading = (async () => {
      // validate first: whisper.cpp can take the process down on a file it rejects
      const info = await inspectWhisperModel(resolved.path);
      let model: NativeModel;
      try {
        model = await binding().WhisperModel.load(resolved.path, false);
      } catch (e) {
        throw new ModelFileError(resolved.path, `whisper.cpp could not load it (${errorMessage(e)})`);
      }
      const old = this.loaded;
      this.loaded = { path: resolved.path, mtimeMs: st.mtimeMs, model, info, name: resolved.id ?? resolved.name };
      if (old && old.model !== model) await this.lock.run(() => old.model.free());
      return this.loaded;
    })();
    try {
      return await this.loading;
    } finally {
      this.loading = null;
    }
  }

  async transcribe(input: AsrInput, opts: WhisperTranscribeOptions = {}): Promise<WhisperResult> {
    if (input.signal?.aborted) throw abortError(input.signal);
    let m: Loaded;
    try {
      m = await raceAbort(this.model(), input.signal);
      this.lastError = null;
    } catch (e) {
      if (e instanceof ModelMissingError || e instanceof ModelFileError) {
        this.lastError = e.message;
        this.lastErrorPath = e instanceof ModelFileError ? e.file : '';
        throw new EngineUnavailableError('asr', e.message);
      }
      throw e;
    }
    const pcm = toWhisperPcm(input.audio);
    const cfg = this.getConfig();
    const threads = this.threads();
    const seconds = pcm.length / SAMPLE_RATE;
    const audioCtx = (opts.shortAudio ?? cfg.whisper_short_audio) ? audioCtxFor(seconds) : 0;
    if (pcm.length < SAMPLE_RATE / 10) return { text: '', segments: [], durationMs: 0, audioCtx, threads, model: m.name };
    let language = (input.language ?? cfg.stt_language ?? 'en').trim().toLowerCase() || 'en';
    if (!m.info.multilingual) language = 'en';
    const params: Record<string, unknown> = {
      language,
      n_threads: threads,
      strategy: 0, // greedy
      audio_ctx: audioCtx,
      max_tokens: cfg.whisper_max_tokens,
      temperature: 0,
      temperature_inc: 0, // no fallback re-decoding: predictable latency on a call
      suppress_blank: true,
      suppress_non_speech_tokens: true,
      no_timestamps: false,
      format: 'detail',
    };
    return this.lock.run(async () => {
      if (input.signal?.aborted) throw abortError(input.signal);
      const t0 = performance.now();
      const native = new Promise<NativeSegment[]>((resolve, reject) => {
        binding().transcribe(m.model.handle, pcm, params, (r) => (r instanceof Error || !Array.isArray(r) ? reject(new Error(`whisper.cpp failed: ${errorMessage(r)}`)) : resolve(r)), () => undefined);
      });
      // on abort we stop waiting; the native job finishes in the background and holds the lock until then
      const segs = await raceAbort(native, input.signal).catch(async (e) => {
        native.catch(() => undefined);
        throw e;
      });
      const durationMs = performance.now() - t0;
      const segments: WhisperSegment[] = segs
        .map((s) => ({ start: s.from / 1000, end: s.to / 1000, text: safeText(s.text), confidence: s.confidence }))
        .filter((s) => s.text && !NON_SPEECH.test(s.text));
      return { text: safeText(segments.map((s) => s.text).join(' ')), segments, durationMs, audioCtx, threads, model: m.name };
    });
  }

  async health(): Promise<EngineHealth> {
    const base = { backend: 'whisper.cpp', simd: whisperBuildSimd(), threads: this.threads(), short_audio: this.getConfig().whisper_short_audio };
    try {
      const resolved = await resolveModel(this.source, 'whisper', this.getConfig().whisper_model);
      const loaded = this.loaded?.path === resolved.path;
      if (this.lastError && !loaded && this.lastErrorPath === resolved.path) return { ok: false, ...base, model: resolved.id ?? resolved.name, loaded: false, error: this.lastError };
      return { ok: true, ...base, model: resolved.id ?? resolved.name, path: resolved.path, loaded };
    } catch (e) {
      return { ok: false, ...base, model: null, loaded: false, error: errorMessage(e) };
    }
  }

  /** Load the model and run one short transcription so the first real turn pays for nothing. */
  async warmup(): Promise<void> {
    const samples = new Int16Array(SAMPLE_RATE);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(Math.sin(i / 7) * 300);
    const audio = { sampleRate: SAMPLE_RATE, samples };
    await this.transcribe({ wav: new Uint8Array(), audio });
  }

  async close(): Promise<void> {
    const m = this.loaded;
    this.loaded = null;
    if (m) await this.lock.run(() => m.model.free());
  }
}

/** Mono PCM at any rate → 16 kHz float in [-1, 1]. */
export function toWhisperPcm(audio: PcmAudio): Float32Array {
  return resampleToFloat32(audio, SAMPLE_RATE);
}
