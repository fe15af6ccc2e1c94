/** Cheap liveness probes of engine servers, used by the adapters' `health()`. */
import { z } from 'zod';
import type { AppConfig } from '../../../src-shared/config/schema';
import type { EngineHealth } from '../types';
import { HealthCache } from './health-cache';
import { baseUrl, engineRequest, errorText, failForStatus, MAX_JSON_BODY_BYTES, parseJsonBody, readText, type EngineStage } from './http';

/** Default time a health probe may take: short, so /health never stalls. */
export const PROBE_TIMEOUT_MS = 2000;

export interface OpenAiEngineOptions {
  /** share one between adapters that probe the same server (ASR and TTS share `mlx_audio_base`) */
  healthCache?: HealthCache;
  /** per-probe limit (default PROBE_TIMEOUT_MS) */
  probeTimeoutMs?: number;
}

/** What every engine-server adapter holds: the live config, a (possibly shared) health cache, the probe limit. */
export abstract class EngineServerAdapter {
  protected readonly healthCache: HealthCache;
  protected readonly probeTimeoutMs: number;

  constructor(
    protected readonly config: () => AppConfig,
    opts: OpenAiEngineOptions = {},
    newCache: () => HealthCache = () => new HealthCache(),
  ) {
    this.healthCache = opts.healthCache ?? newCache();
    this.probeTimeoutMs = opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  }
}

const modelList = z.object({ data: z.array(z.object({ id: z.string() }).loose()).optional() }).loose();

/**
 * `GET <url>` of an OpenAI-style model list → `{ok: true, models: [data[].id]}` or `{ok: false, error}`
 * (spec §10.5). Never throws.
 */
export async function probeModels(
  p: { stage: EngineStage; what: string; base: string; url: string; timeoutMs: number; headers?: Record<string, string> },
): Promise<EngineHealth> {
  try {
    return await engineRequest({ ...p, init: { method: 'GET', headers: p.headers } }, async (res) => {
      if (!res.ok) return failForStatus(res, p);
      const body = parseJsonBody(await readText(res, MAX_JSON_BODY_BYTES, p), p, res.status);
      const list = modelList.safeParse(body);
      if (!list.success) return { ok: false, error: `${p.what} at ${p.base} answered ${p.url} without a model list` };
      return { ok: true, models: (list.data.data ?? []).map((m) => m.id) };
    });
  } catch (err) {
    return { ok: false, error: errorText(err) };
  }
}

/** `GET {mlx_audio_base}/v1/models`, cached (shared by the ASR and TTS adapters). */
export async function sidecarHealth(cfg: AppConfig, cache: HealthCache, probeTimeout: number): Promise<EngineHealth> {
  let base: string;
  try {
    base = baseUrl(cfg.mlx_audio_base, 'mlx_audio_base', 'asr');
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const url = `${base}/v1/models`;
  return cache.get(`models ${url}`, () => probeModels({ stage: 'asr', what: 'Audio server', base, url, timeoutMs: probeTimeout }));
}
