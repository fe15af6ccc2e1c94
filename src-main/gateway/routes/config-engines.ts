/**
 * Our settings sections beyond upstream's call / llm / tts (same shape: GET the view, POST a patch):
 *   GET|POST /api/config/engines  which engine runs each stage, the ASR server and embedded engines'
 *                                 settings, the models folder — applied live (the next turn uses them)
 *   GET|POST /api/config/network  listen address, port, token policy — address and port apply on the
 *                                 next start (the view says when a restart is pending)
 *   GET|POST /api/config/mock-call  mock-call endpointing (VAD), barge-in, audio devices, level interval —
 *                                 read when a mock call starts, so they apply to the next mock call; the
 *                                 view carries the schema defaults (the phone's constants) for display
 * Every value is validated (schema plus the checks below); a bad patch changes nothing and answers 400
 * with `errors: [{key, message}]`. Unknown keys are refused rather than silently dropped. Each view
 * names keys that a GATEWAY_* variable or the command line overrides (they win over the saved value).
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { defaultConfig, type AppConfig } from '../../../src-shared/config/schema';
import { mockCallKeys } from '../../../src-shared/config/sections/mock-call';
import type { EnginesConfigView, MockCallConfigView, MockCallSettingValues, NetworkConfigView } from '../../../src-shared/protocol/settings';
import { modelsDirFor } from '../../models/manager';
import type { GatewayContext } from '../context';
import { applyPatch, objectBody, pick } from './config';

export const ENGINE_SETTING_KEYS = [
  'asr_engine', 'stt_model', 'stt_language', 'mlx_audio_base', 'engine_timeout_sec', 'models_dir',
  'whisper_model', 'whisper_threads', 'whisper_short_audio', 'whisper_max_tokens',
  'llama_model', 'llama_threads', 'llama_context_size', 'llama_max_sessions',
  'espeak_backend', 'espeak_voice', 'espeak_rate', 'espeak_pitch',
  'piper_backend', 'piper_local_voice', 'piper_threads', 'piper_base',
] as const satisfies readonly (keyof AppConfig)[];

export const NETWORK_SETTING_KEYS = ['host', 'port', 'agent_token_required'] as const satisfies readonly (keyof AppConfig)[];

export const MOCK_CALL_SETTING_KEYS = [
  'mock_barge_in', 'mock_barge_in_min_speech_ms', 'mock_vad_engine', 'mock_vad_threshold', 'mock_vad_energy_threshold',
  'mock_vad_pre_roll_ms', 'mock_vad_min_speech_ms', 'mock_vad_end_silence_ms', 'mock_vad_max_utterance_ms',
  'mock_input_device', 'mock_output_device', 'mock_recorder', 'mock_level_interval_ms',
] as const satisfies readonly (keyof AppConfig)[];

type Issue = { key: string; message: string };

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function httpUrl(v: unknown): string | null {
  if (v === '' || typeof v !== 'string') return null;
  try {
    const u = new URL(v);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname) return null;
  } catch {
    /* reported below */
  }
  return 'an http:// or https:// address, e.g. http://127.0.0.1:8000 (or empty)';
}

/** A model reference: a catalogue id, a file name or a path — printable, one line. */
function modelRef(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  return v.length > 1024 || /[\u0000-\u001f\u007f]/.test(v) ? 'a catalogue id, a file name or a path (one line, at most 1024 characters)' : null;
}

/** Checks the schema cannot make: URLs, language tags, a models folder that can be created and written. */
function engineIssues(patch: Record<string, unknown>): Issue[] {
  const out: Issue[] = [];
  const add = (key: string, message: string | null) => message && out.push({ key, message });
  if ('mlx_audio_base' in patch) add('mlx_audio_base', httpUrl(patch.mlx_audio_base));
  if ('piper_base' in patch) add('piper_base', httpUrl(patch.piper_base));
  if (typeof patch.stt_language === 'string' && !/^(auto|[a-z]{2,3}(-[A-Za-z0-9]{2,8})?)$/.test(patch.stt_language.trim())) {
    add('stt_language', 'a language code such as en, de or pt-BR, or auto');
  }
  if (typeof patch.stt_model === 'string') add('stt_model', modelRef(patch.stt_model) ?? (patch.stt_model.trim() ? null : 'the model name the ASR server expects'));
  for (const k of ['whisper_model', 'llama_model', 'piper_local_voice']) if (k in patch) add(k, modelRef(patch[k]));
  const dir = patch.models_dir;
  if (typeof dir === 'string' && dir.trim()) {
    if (/[\u0000-\u001f\u007f]/.test(dir) || !isAbsolute(dir.trim())) add('models_dir', 'a full folder path (or empty for the data folder)');
    else {
      try {
        mkdirSync(dir.trim(), { recursive: true });
        accessSync(dir.trim(), constants.W_OK);
      } catch (e) {
        add('models_dir', `cannot create or write this folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  }
  return out;
}

function networkIssues(patch: Record<string, unknown>): Issue[] {
  const out: Issue[] = [];
  if ('host' in patch) {
    const h = patch.host;
    if (typeof h !== 'string' || !(h === 'localhost' || isIP(h))) out.push({ key: 'host', message: 'an IP address of this computer (127.0.0.1 for this computer only, 0.0.0.0 for every network) or localhost' });
  }
  if ('port' in patch && (typeof patch.port !== 'number' || !Number.isInteger(patch.port) || patch.port < 1 || patch.port > 65535)) {
    out.push({ key: 'port', message: 'a port number from 1 to 65535 (8996 by default)' });
  }
  return out;
}

/**
 * An utterance must be able to last longer than the shortest speech kept. The value not in the patch
 * is the one in effect (what the next mock call would use).
 */
function mockCallIssues(ctx: GatewayContext, patch: Record<string, unknown>): Issue[] {
  if (!('mock_vad_min_speech_ms' in patch) && !('mock_vad_max_utterance_ms' in patch)) return [];
  const cfg = ctx.config.get();
  const min = 'mock_vad_min_speech_ms' in patch ? patch.mock_vad_min_speech_ms : cfg.mock_vad_min_speech_ms;
  const max = 'mock_vad_max_utterance_ms' in patch ? patch.mock_vad_max_utterance_ms : cfg.mock_vad_max_utterance_ms;
  // a value the schema refuses is reported by the schema check, with its own message
  if (!mockCallKeys.mock_vad_min_speech_ms.safeParse(min).success || !mockCallKeys.mock_vad_max_utterance_ms.safeParse(max).success) return [];
  if ((min as number) < (max as number)) return [];
  const out: Issue[] = [];
  if ('mock_vad_min_speech_ms' in patch) out.push({ key: 'mock_vad_min_speech_ms', message: `must be shorter than the maximum utterance (${max} ms)` });
  if ('mock_vad_max_utterance_ms' in patch) out.push({ key: 'mock_vad_max_utterance_ms', message: `must be longer than the minimum speech (${min} ms)` });
  return out;
}

function refuse(reply: FastifyReply, issues: Issue[]) {
  return reply.code(400).send({ ok: false, detail: `invalid settings: ${issues.map((i) => `${i.key}: ${i.message}`).join('; ')}`, errors: issues });
}

function overriddenOf(ctx: GatewayContext, keys: readonly string[]): Record<string, 'environment' | 'command line'> {
  const all = ctx.config.overridden() as Record<string, 'environment' | 'command line'>;
  return Object.fromEntries(keys.filter((k) => all[k]).map((k) => [k, all[k]]));
}

export function enginesConfigView(ctx: GatewayContext): EnginesConfigView {
  const cfg = ctx.config.get();
  const { asr, tts, llm } = ctx.engines.selected;
  return {
    ...(Object.fromEntries(ENGINE_SETTING_KEYS.map((k) => [k, cfg[k]])) as Pick<AppConfig, (typeof ENGINE_SETTING_KEYS)[number]>),
    models_dir_effective: modelsDirFor(cfg.models_dir, ctx.dataDir),
    selected: { asr, tts, llm },
    overridden: overriddenOf(ctx, ENGINE_SETTING_KEYS),
  };
}

export function networkConfigView(ctx: GatewayContext): NetworkConfigView {
  const cfg = ctx.config.get();
  const listening = ctx.listening?.() ?? null;
  return {
    host: cfg.host,
    port: cfg.port,
    agent_token_required: cfg.agent_token_required,
    listening: listening ? { host: listening.host, port: listening.port, bound_port: ctx.port() } : null,
    restart_required: !!listening && (listening.host !== cfg.host || listening.port !== cfg.port),
    exposed: !LOOPBACK.has(cfg.host),
    overridden: overriddenOf(ctx, NETWORK_SETTING_KEYS),
  };
}

function mockCallValues(cfg: AppConfig): MockCallSettingValues {
  return Object.fromEntries(MOCK_CALL_SETTING_KEYS.map((k) => [k, cfg[k]])) as Pick<AppConfig, (typeof MOCK_CALL_SETTING_KEYS)[number]>;
}

const MOCK_CALL_DEFAULTS: MockCallSettingValues = mockCallValues(defaultConfig());

export function mockCallConfigView(ctx: GatewayContext): MockCallConfigView {
  return {
    ...mockCallValues(ctx.config.get()),
    defaults: { ...MOCK_CALL_DEFAULTS },
    applies: 'next_mock_call',
    overridden: overriddenOf(ctx, MOCK_CALL_SETTING_KEYS),
  };
}

export function registerEngineNetworkConfigRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const section = (path: string, keys: readonly string[], checks: (p: Record<string, unknown>) => Issue[], view: () => object, event: string) => {
    app.get(path, async () => view());
    app.post(path, async (req, reply) => {
      const body = objectBody(reply, req.body);
      if (!body) return reply;
      const { patch, unknown } = pick(body, {}, keys);
      const issues = [...unknown.map((key) => ({ key, message: 'not a setting of this section' })), ...checks(patch)];
      if (issues.length) return refuse(reply, issues);
      if (!applyPatch(ctx, reply, patch)) return reply;
      const v = view();
      ctx.bus.publish(event, '', { ...v });
      return { ok: true, ...v };
    });
  };
  section('/api/config/engines', ENGINE_SETTING_KEYS, engineIssues, () => enginesConfigView(ctx), 'config.engines_updated');
  section('/api/config/network', NETWORK_SETTING_KEYS, networkIssues, () => networkConfigView(ctx), 'config.network_updated');
  section('/api/config/mock-call', MOCK_CALL_SETTING_KEYS, (p) => mockCallIssues(ctx, p), () => mockCallConfigView(ctx), 'config.mock_call_updated');
}
