/**
 * TTS through HTTP servers (spec §10.4): the OpenAI-compatible speech endpoint (Kokoro via mlx_audio,
 * speaches, kokoro-fastapi…) and the Piper HTTP server. Both answer with a WAV body, which we decode
 * (any PCM/float layout, any rate) to mono 16-bit for the gateway to resample.
 */
import { parseWav, WavError, type PcmAudio } from '../../../src-shared/audio/wav';
import type { AppConfig } from '../../../src-shared/config/schema';
import { trimForTts } from '../../../src-shared/text/sanitize';
import type { EngineHealth, Tts, TtsOptions } from '../types';
import { HealthCache } from './health-cache';
import { baseUrl, engineRequest, EngineHttpError, errorText, failForStatus, MAX_AUDIO_BODY_BYTES, readBody, timeoutMs, type EngineRequest } from './http';
import { EngineServerAdapter, sidecarHealth, type OpenAiEngineOptions } from './probe';

function speakable(text: string): string {
  const input = trimForTts(text);
  if (!input) throw new Error('nothing to speak: the text is empty after removing markup and symbols');
  return input;
}

/** Reads a WAV reply body into PcmAudio; an unusable body becomes a clear error. */
async function wavReply(res: Response, req: Pick<EngineRequest, 'what' | 'base' | 'stage'>): Promise<PcmAudio> {
  const bytes = await readBody(res, MAX_AUDIO_BODY_BYTES, req);
  const type = res.headers.get('content-type') ?? 'no content type';
  let audio: PcmAudio;
  try {
    audio = parseWav(bytes);
  } catch (err) {
    if (!(err instanceof WavError)) throw err;
    const head = new TextDecoder().decode(bytes.subarray(0, 80)).replace(/[^\x20-\x7e]+/g, ' ').trim();
    throw new EngineHttpError(
      `${req.what} at ${req.base} returned invalid audio (${err.message}; ${bytes.length} bytes, ${type}${head ? `, starts "${head}"` : ''})`,
      req.stage,
      res.status,
    );
  }
  if (audio.samples.length === 0) throw new EngineHttpError(`${req.what} at ${req.base} returned a WAV with no audio samples`, req.stage, res.status);
  return audio;
}

export class OpenAiTts extends EngineServerAdapter implements Tts {
  readonly kind = 'openai';

  async synthesize(text: string, opts: TtsOptions = {}): Promise<PcmAudio> {
    const cfg = this.config();
    const base = baseUrl(cfg.mlx_audio_base, 'mlx_audio_base', 'tts');
    const req = { stage: 'tts' as const, what: 'TTS server', base };
    const body = {
      model: cfg.tts_model,
      input: speakable(text),
      voice: opts.voice || cfg.tts_voice,
      speed: opts.speed || cfg.tts_speed,
      response_format: 'wav',
    };
    return engineRequest(
      {
        ...req,
        url: `${base}/v1/audio/speech`,
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
        timeoutMs: timeoutMs(cfg.engine_timeout_sec),
        signal: opts.signal,
      },
      async (res) => (res.ok ? wavReply(res, req) : failForStatus(res, req)),
    );
  }

  async health(): Promise<EngineHealth> {
    return sidecarHealth(this.config(), this.healthCache, this.probeTimeoutMs);
  }
}

/** Piper's probe synthesises, so by default its result is kept longer (30 s). */
export type PiperOptions = OpenAiEngineOptions;

/**
 * Piper's HTTP server (`python -m piper.http_server`): `POST {piper_base}` with the synthesis knobs.
 * The voice is whatever model the server was started with (`piper_voice` is informational, §16 #35).
 */
export class PiperTts extends EngineServerAdapter implements Tts {
  readonly kind = 'piper';

  constructor(config: () => AppConfig, opts: PiperOptions = {}) {
    super(config, opts, () => new HealthCache({ ttlMs: 30_000 }));
  }

  /** `opts.voice` and `opts.speed` do not apply: Piper's voice is fixed and its speed is `piper_length_scale`. */
  async synthesize(text: string, opts: TtsOptions = {}): Promise<PcmAudio> {
    const cfg = this.config();
    const base = baseUrl(cfg.piper_base, 'piper_base', 'tts');
    const body: Record<string, unknown> = {
      text: speakable(text),
      length_scale: cfg.piper_length_scale,
      noise_scale: cfg.piper_noise_scale,
      noise_w: cfg.piper_noise_w,
      sentence_silence: cfg.piper_sentence_silence,
    };
    if (cfg.piper_speaker !== 0) body.speaker_id = cfg.piper_speaker;
    try {
      const audio = await this.post(base, body, timeoutMs(cfg.engine_timeout_sec), opts.signal);
      this.healthCache.set(base, { ok: true });
      return audio;
    } catch (err) {
      if (!opts.signal?.aborted && err instanceof EngineHttpError) this.healthCache.set(base, { ok: false, error: err.message });
      throw err;
    }
  }

  /**
   * `{ok}` of the Piper server. Its only probe is a real synthesis (spec §10.5), so the result is cached
   * and every real synthesis refreshes it; `fresh` forces a probe (the switch-to-German guard, §3.6).
   */
  async health(opts: { fresh?: boolean } = {}): Promise<EngineHealth> {
    let base: string;
    try {
      base = baseUrl(this.config().piper_base, 'piper_base', 'tts');
    } catch (err) {
      return { ok: false, error: errorText(err) };
    }
    if (opts.fresh) this.healthCache.invalidate(base);
    return this.healthCache.get(base, async () => {
      try {
        await this.post(base, { text: 'test' }, this.probeTimeoutMs);
        return { ok: true };
      } catch (err) {
        return { ok: false, error: errorText(err) };
      }
    });
  }

  private post(base: string, body: Record<string, unknown>, timeout: number, signal?: AbortSignal): Promise<PcmAudio> {
    const req = { stage: 'tts' as const, what: 'Piper server', base };
    return engineRequest(
      { ...req, url: base, init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, timeoutMs: timeout, signal },
      async (res) => (res.ok ? wavReply(res, req) : failForStatus(res, req)),
    );
  }
}
