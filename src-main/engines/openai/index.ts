/**
 * The OpenAI-compatible HTTP engines (and Piper), built from a live config getter so config changes
 * apply to the next request without rebuilding anything.
 */
import type { PcmAudio } from '../../../src-shared/audio/wav';
import type { AppConfig } from '../../../src-shared/config/schema';
import type { EngineHealth, Tts, TtsOptions } from '../types';
import { OpenAiAsr } from './asr';
import { HealthCache } from './health-cache';
import { OpenAiLlm } from './llm';
import { OpenAiTts, PiperTts } from './tts';

export { OpenAiAsr, parseTranscription } from './asr';
export { OpenAiLlm, completionText } from './llm';
export { OpenAiTts, PiperTts, type PiperOptions } from './tts';
export { HealthCache, type HealthCacheOptions } from './health-cache';
export { EngineHttpError } from './http';
export { PROBE_TIMEOUT_MS, type OpenAiEngineOptions } from './probe';

/**
 * Upstream's TTS routing (spec §10.4): `tts_lang == "de"` speaks through Piper, anything else through
 * the OpenAI-compatible speech endpoint. Decided per call, so switching language needs no rebuild.
 */
export class TtsByLanguage implements Tts {
  constructor(
    private readonly config: () => AppConfig,
    private readonly english: Tts,
    private readonly german: Tts,
  ) {}

  private current(): Tts {
    return this.config().tts_lang === 'de' ? this.german : this.english;
  }

  get kind(): string {
    return this.current().kind;
  }

  synthesize(text: string, opts?: TtsOptions): Promise<PcmAudio> {
    return this.current().synthesize(text, opts);
  }

  health(): Promise<EngineHealth> {
    return this.current().health();
  }
}

/** The combined audio health object of `/health` (spec §10.5): `{mlx_audio, piper, ok}`. */
export interface AudioHealth {
  mlx_audio: EngineHealth;
  piper: EngineHealth;
  ok: boolean;
}

export async function audioHealth(sidecar: { health(): Promise<EngineHealth> }, piper: { health(): Promise<EngineHealth> }): Promise<AudioHealth> {
  const [s, p] = await Promise.all([sidecar.health(), piper.health()]);
  return { mlx_audio: s, piper: p, ok: s.ok };
}

export interface OpenAiEnginesOptions {
  /** per-probe limit of health checks (default 2 s) */
  probeTimeoutMs?: number;
  /** how long a health result is reused (default 5 s; Piper's synthesising probe: 30 s) */
  healthTtlMs?: number;
  piperHealthTtlMs?: number;
  now?: () => number;
}

export interface OpenAiEngines {
  asr: OpenAiAsr;
  /** the OpenAI-compatible speech endpoint alone */
  speech: OpenAiTts;
  piper: PiperTts;
  /** upstream routing between `speech` and `piper` by `tts_lang` */
  tts: TtsByLanguage;
  llm: OpenAiLlm;
  /** `{mlx_audio, piper, ok}` for `/health` and `/api/status`; cached, never slower than one probe */
  audioHealth(): Promise<AudioHealth>;
}

export function createOpenAiEngines(config: () => AppConfig, opts: OpenAiEnginesOptions = {}): OpenAiEngines {
  // ASR and TTS share one server (mlx_audio_base) and so one cache: one probe answers both
  const healthCache = new HealthCache({ ttlMs: opts.healthTtlMs, now: opts.now });
  const common = { healthCache, probeTimeoutMs: opts.probeTimeoutMs };
  const asr = new OpenAiAsr(config, common);
  const speech = new OpenAiTts(config, common);
  const piper = new PiperTts(config, {
    healthCache: new HealthCache({ ttlMs: opts.piperHealthTtlMs ?? 30_000, now: opts.now }),
    probeTimeoutMs: opts.probeTimeoutMs,
  });
  const llm = new OpenAiLlm(config, common);
  return {
    asr,
    speech,
    piper,
    tts: new TtsByLanguage(config, speech, piper),
    llm,
    audioHealth: () => audioHealth(speech, piper),
  };
}
