/**
 * Piper neural voices (VITS, ONNX) run in-process with onnxruntime-node (native, off the event loop).
 * Text → IPA phonemes comes from espeak-ng in the separate voice process (GPL code stays out of this
 * process), phonemes → ids from the voice's `.onnx.json` `phoneme_id_map` the way Piper does it
 * (BOS, each phoneme followed by PAD, EOS), ids → audio from the model; output normalised like Piper.
 */
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { concatPcm, silence, type PcmAudio } from '../../../src-shared/audio/wav';
import { splitSentences, trimForTts } from '../../../src-shared/text/sanitize';
import { ModelMissingError } from '../../models/manager';
import { EngineUnavailableError, type EngineHealth, type Tts, type TtsOptions } from '../types';
import { abortError, cores, errorMessage, Mutex, resolveModel, type GetConfig, type ModelSource } from './common';
import { EspeakProcess, type EspeakProcessOptions } from './espeak-process';
import { ModelFileError } from './whisper-format';

const voiceConfigSchema = z.object({
  audio: z.object({ sample_rate: z.number().int().min(8000).max(48000) }),
  espeak: z.object({ voice: z.string().min(1).max(64) }),
  inference: z.object({ noise_scale: z.number(), length_scale: z.number(), noise_w: z.number() }).partial().optional(),
  phoneme_type: z.string().optional(),
  phoneme_id_map: z.record(z.string(), z.array(z.number().int().min(0))),
  num_speakers: z.number().int().min(1).default(1),
}).loose();
export type PiperVoiceConfig = z.infer<typeof voiceConfigSchema>;

type Ort = typeof import('onnxruntime-node');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

const require = createRequire(import.meta.url);
let ortCache: Ort | undefined;
const ort = (): Ort => (ortCache ??= require('onnxruntime-node') as Ort);

interface Loaded { path: string; mtimeMs: number; name: string; config: PiperVoiceConfig; session: Session; threads: number }

/** Piper's phoneme → id mapping: BOS, every phoneme followed by PAD, EOS; unknown symbols are skipped. */
export function phonemeIds(phonemes: string, map: Record<string, number[]>): number[] {
  const ids = [...(map['^'] ?? [])];
  const pad = map._ ?? [];
  for (const p of Array.from(phonemes.normalize('NFD'))) {
    const id = map[p];
    if (!id) continue;
    ids.push(...id, ...pad);
  }
  ids.push(...(map.$ ?? []));
  return ids;
}

export interface PiperTtsOptions extends ModelSource {
  /** the espeak-ng voice process used for phonemes (shared with the espeak TTS if given) */
  phonemizer?: EspeakProcess;
  process?: EspeakProcessOptions;
}

export class PiperTts implements Tts {
  readonly kind = 'piper-local';
  private loaded: Loaded | null = null;
  private loading: Promise<Loaded> | null = null;
  private readonly lock = new Mutex();
  private own: EspeakProcess | null = null;
  private lastError: string | null = null;

  constructor(private readonly getConfig: GetConfig, private readonly opts: PiperTtsOptions = {}) {}

  /** The shared espeak-ng process if one was given, else our own (created again after close()). */
  private get phonemizer(): EspeakProcess {
    if (this.opts.phonemizer) return this.opts.phonemizer;
    return (this.own ??= new EspeakProcess(this.opts.process));
  }

  threads(): number {
    return this.getConfig().piper_threads || Math.max(1, cores() - 1);
  }

  /** `piper_local_voice`, else upstream's `piper_voice` name ("thorsten-high") when such a voice is installed. */
  private async preference(): Promise<string> {
    const cfg = this.getConfig();
    if (cfg.piper_local_voice || !this.opts.models || !cfg.piper_voice) return cfg.piper_local_voice;
    const id = `piper-${cfg.tts_lang === 'de' ? 'de_DE' : cfg.tts_lang}-${cfg.piper_voice}`;
    try {
      await this.opts.models.resolve('piper', id);
      return id;
    } catch {
      return '';
    }
  }

  private async voice(): Promise<Loaded> {
    const cfg = this.getConfig();
    const resolved = await resolveModel(this.opts, 'piper', await this.preference(), { lang: cfg.tts_lang });
    const st = await stat(resolved.path).catch(() => null);
    if (!st) throw new ModelFileError(resolved.path, 'not found');
    const threads = this.threads();
    const cur = this.loaded;
    if (cur && cur.path === resolved.path && cur.mtimeMs === st.mtimeMs && cur.threads === threads) return cur;
    if (this.loading) return this.loading;
    this.loading = (async () => {
      let config: PiperVoiceConfig;
      const jsonPath = `${resolved.path}.json`;
      try {
        config = voiceConfigSchema.parse(JSON.parse(await readFile(jsonPath, 'utf8')));
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (a Piper voice needs its .onnx.json beside the .onnx)' : `not a Piper voice config (${errorMessage(e).slice(0, 200)})`;
        throw new ModelFileError(jsonPath, why);
      }
      if (config.phoneme_type && config.phoneme_type !== 'espeak') throw new ModelFileError(jsonPath, `phoneme type '${config.phoneme_type}' is not supported (only espeak)`);
      let session: Session;
      try {
        session = await ort().InferenceSession.create(resolved.path, { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
      } catch (e) {
        throw new ModelFileError(resolved.path, `onnxruntime could not load it (${errorMessage(e).slice(0, 300)})`);
      }
      for (const name of ['input', 'input_lengths', 'scales']) {
        if (!session.inputNames.includes(name)) {
          await session.release();
          throw new ModelFileError(resolved.path, `not a Piper voice (no '${name}' input)`);
        }
      }
      const old = this.loaded;
      this.loaded = { path: resolved.path, mtimeMs: st.mtimeMs, name: resolved.id ?? resolved.name, config, session, threads };
      if (old) await this.lock.run(() => old.session.release());
      return this.loaded;
    })();
    try {
      return await this.loading;
    } finally {
      this.loading = null;
    }
  }

  /** Phoneme ids for one sentence (exposed for tests and diagnostics). */
  async ids(text: string, signal?: AbortSignal): Promise<number[]> {
    const v = await this.voice();
    const ipa = await this.phonemizer.phonemes(text, v.config.espeak.voice, signal);
    return phonemeIds(ipa, v.config.phoneme_id_map);
  }

  async synthesize(text: string, opts: TtsOptions = {}): Promise<PcmAudio> {
    let v: Loaded;
    try {
      v = await this.voice();
      this.lastError = null;
    } catch (e) {
      if (e instanceof ModelMissingError || e instanceof ModelFileError) {
        this.lastError = e.message;
        throw new EngineUnavailableError('tts', e.message);
      }
      throw e;
    }
    const rate = v.config.audio.sample_rate;
    const sentences = splitSentences(trimForTts(text));
    if (sentences.length === 0) return silence(rate, 200);
    const cfg = this.getConfig();
    const gapMs = cfg.piper_sentence_silence * 1000;
    const speed = opts.speed && Number.isFinite(opts.speed) && opts.speed > 0 ? opts.speed : 1;
    const scales = Float32Array.from([cfg.piper_noise_scale, cfg.piper_length_scale / speed, cfg.piper_noise_w]);
    const parts: PcmAudio[] = [];
    for (const s of sentences) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      let ids: number[];
      try {
        ids = phonemeIds(await this.phonemizer.phonemes(s, v.config.espeak.voice, opts.signal), v.config.phoneme_id_map);
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        throw new EngineUnavailableError('tts', `Piper voice: phonemizing failed: ${errorMessage(e)}`);
      }
      if (ids.length <= 2) continue;
      const audio = await this.lock.run(() => this.infer(v, ids, scales, cfg.piper_speaker));
      if (parts.length && gapMs > 0) parts.push(silence(rate, gapMs));
      parts.push({ sampleRate: rate, samples: audio });
    }
    return parts.length ? concatPcm(parts, rate) : silence(rate, 200);
  }

  private async infer(v: Loaded, ids: number[], scales: Float32Array, speaker: number): Promise<Int16Array> {
    const { Tensor } = ort();
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {
      input: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      input_lengths: new Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
      scales: new Tensor('float32', scales, [3]),
    };
    if (v.session.inputNames.includes('sid')) feeds.sid = new Tensor('int64', BigInt64Array.from([BigInt(v.config.num_speakers > 1 ? speaker : 0)]), [1]);
    let out;
    try {
      out = await v.session.run(feeds);
    } catch (e) {
      throw new EngineUnavailableError('tts', `Piper voice ${v.name} failed: ${errorMessage(e).slice(0, 300)}`);
    }
    const data = out[v.session.outputNames[0]].data as Float32Array;
    let peak = 0.01;
    for (let i = 0; i < data.length; i++) peak = Math.max(peak, Math.abs(data[i]));
    const k = 32767 / peak;
    const pcm = new Int16Array(data.length);
    for (let i = 0; i < data.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(data[i] * k)));
    return pcm;
  }

  async health(): Promise<EngineHealth> {
    const cfg = this.getConfig();
    const base = { backend: 'piper-onnxruntime', threads: this.threads() };
    try {
      const r = await resolveModel(this.opts, 'piper', await this.preference(), { lang: cfg.tts_lang });
      const loaded = this.loaded?.path === r.path;
      if (this.lastError && !loaded) return { ok: false, ...base, voice: r.id ?? r.name, loaded: false, error: this.lastError };
      const failure = this.phonemizer.failure;
      if (failure) return { ok: false, ...base, voice: r.id ?? r.name, loaded, error: failure };
      return { ok: true, ...base, voice: r.id ?? r.name, loaded, sample_rate: loaded ? this.loaded?.config.audio.sample_rate : undefined };
    } catch (e) {
      return { ok: false, ...base, voice: null, loaded: false, error: errorMessage(e) };
    }
  }

  async warmup(): Promise<void> {
    await this.phonemizer.ensureStarted();
    await this.synthesize('Hello.');
  }

  async close(): Promise<void> {
    const v = this.loaded;
    this.loaded = null;
    if (v) await this.lock.run(() => v.session.release());
    const own = this.own;
    this.own = null;
    await own?.close();
  }
}
