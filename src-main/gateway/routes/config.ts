/**
 * Runtime configuration (spec §3.6–§3.8, §11): upstream's GET/POST shapes and aliases, but every
 * value is validated (400 naming the key), secrets are never returned, and writes are atomic.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ConfigError, fillOwner, publicConfig, type AppConfig } from '../../../src-shared/config/schema';
import { resample } from '../../../src-shared/audio/resample';
import { encodeWav } from '../../../src-shared/audio/wav';
import { safeText, trimForTts } from '../../../src-shared/text/sanitize';
import { PIPER_EMOTIONS, PIPER_VOICES, voicesForModel } from '../../engines/voices';
import type { GatewayContext } from '../context';

export function callConfigView(cfg: AppConfig) {
  return {
    auto_answer: cfg.call_auto_answer,
    auto_answer_delay_ms: cfg.call_auto_answer_delay_ms,
    caller_allowlist: cfg.caller_allowlist,
    caller_blocklist: cfg.caller_blocklist,
    unknown_callers_allowed: cfg.unknown_callers_allowed,
    greeting_incoming: fillOwner(cfg.greeting_incoming, cfg.greeting_owner),
    greeting_outgoing: fillOwner(cfg.greeting_outgoing, cfg.greeting_owner),
    greeting_incoming_template: cfg.greeting_incoming,
    greeting_outgoing_template: cfg.greeting_outgoing,
    greeting_owner: cfg.greeting_owner,
    max_duration_sec: cfg.max_duration_sec,
    max_duration_message: cfg.max_duration_message,
    auth_required: cfg.auth_passphrase.trim() !== '',
    auth_reject_message: cfg.auth_reject_message,
    auth_max_attempts: cfg.auth_max_attempts,
    keep_history: cfg.keep_history,
  };
}

export function llmConfigView(cfg: AppConfig, autoContext: number) {
  return {
    model: cfg.llm_model,
    base_url: cfg.llm_base_url,
    has_api_key: cfg.llm_api_key !== '',
    max_tokens: cfg.llm_max_tokens,
    context_tokens: cfg.llm_context_tokens,
    context_tokens_effective: cfg.llm_context_tokens || autoContext,
    max_history_turns: cfg.max_history_turns,
    temperature: cfg.llm_temperature,
    top_p: cfg.llm_top_p,
    top_p_enabled: cfg.llm_top_p_enabled,
    top_k: cfg.llm_top_k,
    top_k_enabled: cfg.llm_top_k_enabled,
    repeat_penalty: cfg.llm_repeat_penalty,
    stop: cfg.llm_stop,
    is_local: cfg.llm_base_url === '',
    engine: cfg.llm_engine,
  };
}

export function ttsConfigView(cfg: AppConfig) {
  if (cfg.tts_lang === 'de') {
    return {
      lang: 'de', model: cfg.tts_model, piper_voice: cfg.piper_voice, piper_speaker: cfg.piper_speaker,
      piper_length_scale: cfg.piper_length_scale, piper_noise_scale: cfg.piper_noise_scale, piper_noise_w: cfg.piper_noise_w,
      piper_sentence_silence: cfg.piper_sentence_silence, voices: PIPER_VOICES, emotions: PIPER_EMOTIONS, engine: cfg.tts_engine,
    };
  }
  return {
    lang: cfg.tts_lang, model: cfg.tts_model, voice: cfg.tts_voice, speed: cfg.tts_speed,
    voices: voicesForModel(cfg.tts_model), engine: cfg.tts_engine,
  };
}

/** The JSON object a config POST carries: an empty body is `{}`; anything else that is not an object → 400. */
export function objectBody(reply: FastifyReply, body: unknown): Record<string, unknown> | undefined {
  if (body === undefined || body === null) return {};
  if (typeof body === 'object' && !Array.isArray(body) && !Buffer.isBuffer(body)) return body as Record<string, unknown>;
  reply.code(400).send({ ok: false, detail: 'expected a JSON object body' });
  return undefined;
}

/** Map aliases to full keys, keep only writable keys; unknown keys are reported, not silently dropped. */
export function pick(body: Record<string, unknown>, aliases: Record<string, string>, writable: readonly string[]): { patch: Record<string, unknown>; unknown: string[] } {
  const patch: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(body)) {
    const key = aliases[k] ?? k;
    if (writable.includes(key)) patch[key] = v;
    else unknown.push(k);
  }
  return { patch, unknown };
}

export const CALL_KEYS = [
  'call_auto_answer', 'call_auto_answer_delay_ms', 'caller_allowlist', 'caller_blocklist', 'unknown_callers_allowed',
  'greeting_incoming', 'greeting_outgoing', 'greeting_owner', 'max_duration_sec', 'max_duration_message',
  'auth_passphrase', 'auth_reject_message', 'auth_max_attempts', 'keep_history',
] as const;
const CALL_ALIASES: Record<string, string> = { auto_answer: 'call_auto_answer', auto_answer_delay_ms: 'call_auto_answer_delay_ms' };

const LLM_KEYS = [
  'llm_max_tokens', 'llm_temperature', 'llm_top_p', 'llm_top_k', 'llm_repeat_penalty', 'llm_stop', 'llm_top_p_enabled',
  'llm_top_k_enabled', 'llm_context_tokens', 'max_history_turns', 'llm_model', 'llm_base_url', 'llm_api_key', 'llm_engine',
] as const;
const LLM_ALIASES: Record<string, string> = Object.fromEntries(
  ['model', 'base_url', 'api_key', 'max_tokens', 'temperature', 'top_p', 'top_k', 'top_p_enabled', 'top_k_enabled', 'repeat_penalty', 'stop', 'context_tokens', 'engine'].map((k) => [k, `llm_${k}`]),
);

const TTS_KEYS = ['tts_voice', 'tts_speed', 'tts_lang', 'tts_engine', 'piper_voice', 'piper_speaker', 'piper_length_scale', 'piper_noise_scale', 'piper_noise_w', 'piper_sentence_silence'] as const;
const TTS_ALIASES: Record<string, string> = { voice: 'tts_voice', speed: 'tts_speed', lang: 'tts_lang', engine: 'tts_engine' };

/** Apply a patch, answering 400 with the failing keys. */
export function applyPatch(ctx: GatewayContext, reply: FastifyReply, patch: Record<string, unknown>): AppConfig | undefined {
  try {
    return ctx.config.update(patch);
  } catch (e) {
    if (e instanceof ConfigError) {
      reply.code(400).send({ ok: false, detail: e.message, errors: e.issues });
      return undefined;
    }
    throw e;
  }
}

export function registerConfigRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const autoContext = () => ctx.engines.current().llm.contextWindow();

  app.post('/api/config', async (_req, reply) => {
    try {
      const cfg = ctx.config.reload();
      ctx.bus.publish('status.update', '', { event: 'config_reloaded' });
      return { ok: true, config: publicConfig(cfg) };
    } catch (e) {
      return reply.code(400).send({ ok: false, detail: (e as Error).message });
    }
  });

  app.get('/api/config/call', async () => callConfigView(ctx.config.get()));
  app.post('/api/config/call', async (req, reply) => {
    const body = objectBody(reply, req.body);
    if (!body) return reply;
    const { patch } = pick(body, CALL_ALIASES, CALL_KEYS);
    const cfg = applyPatch(ctx, reply, patch);
    if (!cfg) return reply;
    const view = callConfigView(cfg);
    ctx.bus.publish('config.call_updated', '', view);
    return { ok: true, ...view };
  });

  app.get('/api/config/llm', async () => llmConfigView(ctx.config.get(), autoContext()));
  app.post('/api/config/llm', async (req, reply) => {
    const body = objectBody(reply, req.body);
    if (!body) return reply;
    const { patch } = pick(body, LLM_ALIASES, LLM_KEYS);
    const cfg = applyPatch(ctx, reply, patch);
    if (!cfg) return reply;
    const view = llmConfigView(cfg, autoContext());
    ctx.bus.publish('config.llm_updated', '', view);
    return { ok: true, ...view };
  });

  app.get('/api/config/tts', async () => ttsConfigView(ctx.config.get()));
  app.post('/api/config/tts', async (req, reply) => {
    const body = objectBody(reply, req.body);
    if (!body) return reply;
    const { patch } = pick(body, TTS_ALIASES, TTS_KEYS);
    const cur = ctx.config.get();
    // the Piper HTTP server must be up; a local Piper voice (piper_backend "local") needs no server
    if (patch.tts_lang === 'de' && cur.tts_lang !== 'de' && (cur.tts_engine === 'auto' || cur.tts_engine === 'piper') && cur.piper_backend !== 'local') {
      const h = await probePiper(cur.piper_base);
      if (!h) {
        return reply.code(400).send({
          ok: false,
          error: `Piper TTS is not running on ${cur.piper_base} — cannot switch to German. Start the gateway with a Piper model to enable German TTS.`,
        });
      }
    }
    const cfg = applyPatch(ctx, reply, patch);
    if (!cfg) return reply;
    const view = ttsConfigView(cfg);
    ctx.bus.publish('config.tts_updated', '', view);
    return { ok: true, ...view };
  });

  app.post('/api/tts/preview', async (req, reply) => {
    const body = (req.body ?? {}) as { text?: unknown; voice?: unknown; speed?: unknown };
    const cfg = ctx.config.get();
    const de = cfg.tts_lang === 'de';
    const text = trimForTts(safeText(body.text)) || (de ? 'Hallo, das ist eine Sprachvorschau.' : 'Hello, this is a voice preview.');
    const voice = typeof body.voice === 'string' && body.voice ? body.voice : cfg.tts_voice;
    const speedNum = Number(body.speed);
    const speed = Number.isFinite(speedNum) && speedNum > 0 && speedNum <= 4 ? speedNum : cfg.tts_speed;
    try {
      const pcm = await ctx.engines.current().tts.synthesize(text, { voice, speed });
      const wav = encodeWav(resample(pcm, cfg.tts_output_rate));
      const audio_base64 = Buffer.from(wav).toString('base64');
      return de ? { ok: true, audio_base64, lang: 'de', piper_voice: cfg.piper_voice } : { ok: true, audio_base64, voice, speed };
    } catch (e) {
      return reply.code(502).send({ ok: false, detail: `voice preview failed: ${(e as Error).message}` });
    }
  });
}

async function probePiper(base: string): Promise<boolean> {
  try {
    const r = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'test' }), signal: AbortSignal.timeout(5000) });
    return r.ok;
  } catch {
    return false;
  }
}
