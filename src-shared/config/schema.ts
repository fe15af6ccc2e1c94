/**
 * The configuration: every key of the upstream gateway's config.json (spec §11.2) with its code
 * default, plus our own keys. A file written by the upstream gateway loads unchanged; unknown keys
 * are kept (and written back) so nothing a user had is lost.
 *
 * Pure: no Node APIs. The file/env layer lives in src-main/config.
 */
import { z } from 'zod';
import { engineKeys } from './sections/engines';
import { storeKeys } from './sections/store';
import { phoneKeys } from './sections/phone';
import { mockCallKeys } from './sections/mock-call';

const str = (d: string) => z.string().default(d);
const int = (d: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max).default(d);
const num = (d: number, min = -Infinity, max = Infinity) => z.number().min(min).max(max).default(d);
const bool = (d: boolean) => z.boolean().default(d);
const strList = () => z.array(z.string()).default([]);

export const DEFAULT_SYSTEM_PROMPT =
  'You are a concise, friendly real-time voice assistant on a phone call. Answer in plain English, in 2-3 short sentences. No markdown, no lists, no emojis.';

/** Upstream keys (spec §11.2), defaults as the upstream code reads them. */
export const upstreamKeys = {
  host: str('127.0.0.1'),
  port: int(8996, 0, 65535),
  bearer_token: str(''),
  mlx_audio_base: str(''),
  stt_model: str('mlx-community/parakeet-tdt-0.6b-v2'),
  stt_language: str('en'),
  tts_model: str('mlx-community/Kokoro-82M-bf16'),
  tts_voice: str('am_adam'),
  tts_speed: num(1.2, 0.25, 4),
  tts_lang: str('en'),
  piper_base: str('http://127.0.0.1:5123'),
  piper_voice: str('thorsten-high'),
  piper_speaker: int(0, 0, 1000),
  piper_length_scale: num(1.0, 0.1, 5),
  piper_noise_scale: num(0.667, 0, 2),
  piper_noise_w: num(0.8, 0, 2),
  piper_sentence_silence: num(0.2, 0, 5),
  llm_model: str(''),
  llm_base_url: str(''),
  llm_api_key: str(''),
  llm_max_tokens: int(400, 1, 32768),
  llm_temperature: num(0.2, 0, 2),
  llm_top_p: num(1.0, 0, 1),
  llm_top_p_enabled: bool(true),
  llm_top_k: int(0, 0, 1000),
  llm_top_k_enabled: bool(true),
  llm_repeat_penalty: num(1.0, 0.5, 2.5),
  llm_stop: strList(),
  llm_context_tokens: int(0, 0, 1_048_576),
  llm_system_prompt: str(''),
  max_history_turns: int(8, 1, 100),
  call_auto_answer: bool(true),
  call_auto_answer_delay_ms: int(500, 0, 60_000),
  caller_allowlist: strList(),
  caller_blocklist: strList(),
  unknown_callers_allowed: bool(true),
  greeting_incoming: str("Hello, I am {owner}'s assistant. Please wait for the beep before speaking."),
  greeting_outgoing: str("Hello, this is {owner}'s assistant calling. Please wait for the beep before speaking."),
  greeting_owner: str('the owner'),
  max_duration_sec: int(300, 0, 86_400),
  max_duration_message: str("I'm sorry, but we have reached the maximum call duration. Goodbye!"),
  auth_passphrase: str(''),
  auth_reject_message: str("I'm sorry, I can't help you right now. Goodbye."),
  auth_max_attempts: int(3, 0, 99),
  keep_history: bool(false),
  adb_path: str(''),
  session_ttl: int(300, 10, 86_400),
  /** Seconds to wait for a takeover reply. Upstream: 60 — longer than the phone's 45 s read timeout, so ours is 35. */
  agent_takeover_timeout: num(35, 1, 600),
};

/** Our own keys (documented in the README). */
export const gatewayKeys = {
  /** Require the operator/agent token even from loopback clients without an Origin. */
  agent_token_required: bool(false),
  /** Spoken to the caller while an operator is still typing past the deadline. */
  holding_phrase: str('One moment, please.'),
  /** Seconds an operator's "typing" signal lasts unless renewed (the console re-sends it while typing). */
  operator_typing_ttl_sec: num(20, 1, 300),
  /** Reply for a turn that arrives for an ended session; sent with hangup:true so the phone hangs up. */
  ended_message: str('This call has ended. Goodbye.'),
  /** Largest accepted request body in bytes (phone utterances are ≤ ~400 KB). */
  max_upload_bytes: int(8 * 1024 * 1024, 64 * 1024, 256 * 1024 * 1024),
  /** Sample rate of every WAV we answer with. */
  tts_output_rate: int(24000, 8000, 48000),
  /** How long an /api/asr transcript is kept for the following /api/turn with the same bytes. */
  asr_cache_ttl_sec: int(120, 0, 3600),
  /** Extra seconds past max_duration_sec before the gateway itself ends a call. */
  max_duration_grace_sec: int(30, 0, 3600),
  /** Log level of the structured log. */
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
};

export const configShape = {
  ...upstreamKeys,
  ...gatewayKeys,
  ...engineKeys,
  ...storeKeys,
  ...phoneKeys,
  ...mockCallKeys,
};

export const configSchema = z.object(configShape).loose();
export type AppConfig = z.infer<typeof configSchema>;
export type ConfigKey = keyof typeof configShape;

/** Keys whose values are secrets: never returned by any API, never logged. */
export const SECRET_KEYS = ['bearer_token', 'llm_api_key', 'auth_passphrase', 'operator_token'] as const;

export class ConfigError extends Error {
  constructor(message: string, readonly issues: { key: string; message: string }[]) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Legacy keys of older upstream versions (spec §11.1). Returns a new object. */
export function migrateLegacy(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  const had = 'llm_backend' in out;
  const backend = out.llm_backend;
  const local = out.llm_local_model;
  const remote = out.llm_remote_model;
  const remoteBase = out.llm_remote_base_url;
  const remoteKey = out.llm_remote_api_key;
  for (const k of ['llm_backend', 'llm_local_model', 'llm_remote_model', 'llm_remote_base_url', 'llm_remote_api_key']) delete out[k];
  if (had && !out.llm_model) {
    if (backend === 'mlx_local') {
      out.llm_model = local ?? '';
      out.llm_base_url = '';
    } else {
      out.llm_model = remote ?? local ?? '';
      if (remoteBase !== undefined) out.llm_base_url = remoteBase;
      if (remoteKey !== undefined) out.llm_api_key = remoteKey;
    }
  }
  return out;
}

/** Validate a raw object into a full config; errors name the key. */
/**
 * Upstream's config POSTs stored whatever they were sent, so a real config.json can hold `"300"` for a
 * number or `"true"` for a boolean. Such values of known keys are read as what they clearly mean;
 * anything still wrong is reported by the schema, naming the key.
 */
export function coerceLoose(raw: Record<string, unknown>, notes?: { key: string; message: string }[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  for (const [k, v] of Object.entries(raw)) {
    // upstream read its keys leniently (`x or default`, `max(1, x)`): a null is the default, an out-of-range
    // number is clamped to our range (not the port: a wrong port is an error) — noted, so the user learns what was read
    if (k in upstreamKeys && v === null) {
      delete out[k];
      notes?.push({ key: k, message: 'null: the default is used' });
      continue;
    }
    if (k in upstreamKeys && typeof v === 'number' && k !== 'port') {
      const clamped = clampToSchema(k, v);
      if (clamped !== v) {
        out[k] = clamped;
        notes?.push({ key: k, message: `${v} is outside the allowed range: ${clamped} is used` });
      }
      continue;
    }
    if (typeof v !== 'string' || !(k in configShape)) continue;
    const kind = keyKind(k);
    const t = v.trim();
    if ((kind === 'int' && /^[+-]?\d+$/.test(t)) || (kind === 'float' && t !== '' && Number.isFinite(Number(t)))) out[k] = Number(t);
    else if (kind === 'bool' && /^(true|false)$/i.test(t)) out[k] = t.toLowerCase() === 'true';
  }
  return out;
}

/** A number clamped to the key's schema range (rounded for integer keys); NaN/Infinity are left for the schema to refuse. */
function clampToSchema(key: string, v: number): number {
  if (!Number.isFinite(v)) return v;
  const outer = (configShape as Record<string, z.ZodTypeAny>)[key] as unknown as { unwrap?: () => unknown };
  const inner = (outer.unwrap ? outer.unwrap() : outer) as { minValue?: number | null; maxValue?: number | null; isInt?: boolean };
  let x = inner.isInt ? Math.round(v) : v;
  if (typeof inner.minValue === 'number' && x < inner.minValue) x = inner.minValue;
  if (typeof inner.maxValue === 'number' && x > inner.maxValue) x = inner.maxValue;
  return x;
}

/** `notes` collects what was read leniently (upstream nulls and out-of-range numbers). */
export function parseConfig(raw: Record<string, unknown>, notes?: { key: string; message: string }[]): AppConfig {
  const r = configSchema.safeParse(coerceLoose(migrateLegacy(raw), notes));
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ key: i.path.join('.') || '(root)', message: i.message }));
    throw new ConfigError(`invalid configuration: ${issues.map((i) => `${i.key}: ${i.message}`).join('; ')}`, issues);
  }
  return r.data;
}

export function defaultConfig(): AppConfig {
  return parseConfig({});
}

/** Validate a partial update against the schema without filling defaults. */
export function validatePatch(patch: Record<string, unknown>): { ok: true; value: Partial<AppConfig> } | { ok: false; issues: { key: string; message: string }[] } {
  const issues: { key: string; message: string }[] = [];
  const value: Record<string, unknown> = {};
  const shape = configShape as Record<string, z.ZodTypeAny>;
  for (const [k, v] of Object.entries(patch)) {
    const s = shape[k];
    if (!s) { issues.push({ key: k, message: 'unknown configuration key' }); continue; }
    const r = s.safeParse(v);
    if (r.success) value[k] = r.data;
    else issues.push({ key: k, message: r.error.issues.map((i) => i.message).join('; ') });
  }
  return issues.length ? { ok: false, issues } : { ok: true, value: value as Partial<AppConfig> };
}

/** Names of unknown (kept, unvalidated) keys that may hold secrets: hidden the way upstream hid them. */
const SECRET_NAME = /token|key|secret|passw|bearer|credential/i;

/** Config with secrets removed (explicit list, not substring matching — spec §16 #4). */
export function publicConfig(cfg: AppConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...cfg };
  for (const k of SECRET_KEYS) delete out[k];
  for (const k of Object.keys(out)) if (!(k in configShape) && SECRET_NAME.test(k)) delete out[k];
  return out;
}

/** Type of a key's value as the env-override caster needs it. */
export function keyKind(key: string): 'bool' | 'int' | 'float' | 'list' | 'string' | 'unknown' {
  const s = (configShape as Record<string, z.ZodTypeAny>)[key];
  if (!s) return 'unknown';
  const probe = s.safeParse(undefined);
  const d = probe.success ? probe.data : undefined;
  if (typeof d === 'boolean') return 'bool';
  if (Array.isArray(d)) return 'list';
  if (typeof d === 'number') {
    // probe next to the default: a fixed probe value can fall outside a key's range (session_ttl ≥ 10)
    const fractional = [d + 0.001, d - 0.001].some((x) => s.safeParse(x).success);
    return fractional ? 'float' : 'int';
  }
  if (typeof d === 'string') return 'string';
  return 'unknown';
}

/** GATEWAY_<KEY> overrides for every known key (upstream only for keys present in the file — §16 #34). */
export function envOverrides(env: Record<string, string | undefined>): { values: Record<string, unknown>; errors: { key: string; message: string }[] } {
  const values: Record<string, unknown> = {};
  const errors: { key: string; message: string }[] = [];
  for (const key of Object.keys(configShape)) {
    const v = env[`GATEWAY_${key.toUpperCase()}`];
    if (v === undefined) continue;
    const kind = keyKind(key);
    try {
      if (kind === 'bool') values[key] = ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
      else if (kind === 'int') {
        if (!/^\s*[+-]?\d+\s*$/.test(v)) throw new Error(`not an integer: ${v}`);
        values[key] = Number.parseInt(v, 10);
      } else if (kind === 'float') {
        const n = v.trim() === '' ? Number.NaN : Number(v);
        if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
        values[key] = n;
      } else if (kind === 'list') values[key] = JSON.parse(v);
      else values[key] = v;
    } catch (e) {
      errors.push({ key: `GATEWAY_${key.toUpperCase()}`, message: (e as Error).message });
    }
  }
  return { values, errors };
}

/** `{owner}` substitution of greetings (spec §3.8). */
export function fillOwner(template: string, owner: string): string {
  return template.split('{owner}').join(owner);
}
