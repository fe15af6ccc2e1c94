/**
 * Response shapes of the gateway routes the console reads. Call/turn/history shapes are the
 * server's own types (type-only imports, nothing of the server is bundled); the others mirror the
 * route modules' JSON.
 */
export type { CallSummary, CallDirection, CallState, Holder, TurnMetrics } from '../../src-main/calls/types';
export type { CallDetail, CallListItem, CallPage, StoredCall, StoredTurn, Outcome, ProducerKind } from '../../src-main/store/types';
export type { EventEnvelope } from '../../src-shared/protocol/events';
import type { CallSummary } from '../../src-main/calls/types';

export interface EngineHealth {
  ok: boolean;
  error?: string;
  [k: string]: unknown;
}

export interface StatusResponse {
  uptime_s: number;
  total_calls: number;
  error_count: number;
  active_sessions: number;
  ended_sessions: number;
  ui_subscribers: number;
  agents: { name: string; connected_at: number; takeover_sessions: string[]; kind?: string }[];
  llm: { model?: string; configured?: boolean; loaded?: boolean; ok?: boolean; error?: string };
  engines?: { selected?: Record<string, string>; health?: { asr?: EngineHealth; llm?: EngineHealth; tts?: EngineHealth } };
  calls?: CallSummary[];
  config?: Record<string, unknown>;
}

export interface LatencyStat {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

export interface LatencySummary {
  window_s: number;
  count: number;
  metrics: Record<string, LatencyStat>;
}

export interface LlmConfig {
  model: string;
  base_url: string;
  has_api_key: boolean;
  max_tokens: number;
  context_tokens: number;
  context_tokens_effective: number;
  max_history_turns: number;
  temperature: number;
  top_p: number;
  top_p_enabled: boolean;
  top_k: number;
  top_k_enabled: boolean;
  repeat_penalty: number;
  stop: string[];
  is_local: boolean;
  engine?: string;
}

export interface TtsConfig {
  lang: string;
  model: string;
  voice?: string;
  speed?: number;
  voices: Record<string, string[]>;
  engine?: string;
  piper_voice?: string;
  piper_speaker?: number;
  piper_length_scale?: number;
  piper_noise_scale?: number;
  piper_noise_w?: number;
  piper_sentence_silence?: number;
  emotions?: Record<string, number>;
}

export interface CallConfig {
  auto_answer: boolean;
  auto_answer_delay_ms: number;
  caller_allowlist: string[];
  caller_blocklist: string[];
  unknown_callers_allowed: boolean;
  greeting_incoming: string;
  greeting_outgoing: string;
  greeting_incoming_template: string;
  greeting_outgoing_template: string;
  greeting_owner: string;
  max_duration_sec: number;
  max_duration_message: string;
  auth_required: boolean;
  auth_reject_message: string;
  auth_max_attempts: number;
  keep_history: boolean;
}

export interface InstructionsResponse {
  base: string;
  sessions: Record<string, string>;
}

export interface ActionResult {
  ok: boolean;
  detail?: string;
  [k: string]: unknown;
}

/** GET /api/devices (phone bridge). */
export interface AdbStatus {
  ok: boolean;
  detail: string;
  host: string;
  port: number;
  version: number | null;
  binary: string | null;
}

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'unknown' | 'skipped';

export interface DeviceSummary {
  serial: string;
  state: string;
  stateDetail: string;
  model: string | null;
  codename: string | null;
  androidVersion: string | null;
  usb: string | null;
  ready: boolean;
  reverseActive: boolean;
  health: CheckStatus | null;
  call: { state?: string; number?: string; direction?: string; [k: string]: unknown } | null;
  connectedAt: number;
}

export interface HealthCheck {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface DeviceDetail extends DeviceSummary {
  facts: {
    model: string | null;
    manufacturer: string | null;
    androidVersion: string | null;
    sdk: number | null;
    app: { installed: boolean; versionName: string | null };
    battery: { level: number | null; charging: boolean | null; temperatureC: number | null } | null;
    [k: string]: unknown;
  } | null;
  checks: HealthCheck[];
  checkedAt: number | null;
  upkeep: { step: string; ok: boolean; detail: string }[];
}

export interface DevicesResponse {
  adb: AdbStatus;
  devices: DeviceSummary[];
}

export interface LogLine {
  seq: number;
  time: string | number;
  level: string;
  tag: string;
  message: string;
}

/** GET /api/models (model manager). */
export interface DownloadState {
  id: string;
  status: 'queued' | 'downloading' | 'verifying' | 'done' | 'error' | 'cancelled';
  file?: string;
  bytes: number;
  total: number | null;
  rate_bps: number;
  eta_sec: number | null;
  error?: string;
}

export interface ModelEntry {
  id: string;
  kind: string;
  title: string;
  description: string;
  license: string;
  languages: string[];
  bytes: number;
  memory_mb: number;
  installed: boolean;
  verified: string;
  partial_bytes: number;
  recommended: boolean;
  download: DownloadState | null;
}

export interface ModelsResponse {
  dir: string;
  machine: { cores: number; memory_mb: number };
  recommendations: Record<string, string>;
  disk: { free_bytes: number | null; total_bytes: number | null; used_by_models_bytes: number };
  models: ModelEntry[];
  imported: { id: string; kind: string; path: string; name: string; bytes: number }[];
}

/** Mock calls. */
export interface MockCallInfo {
  id: string;
  session_id: string | null;
  state: string;
  [k: string]: unknown;
}

export interface MockCallList {
  active: MockCallInfo[];
  recent: MockCallInfo[];
}

/** Operator / agent acks. */
export interface OperatorAck {
  ok: boolean;
  detail?: string;
  reason?: string;
  delivery?: 'spoken' | 'queued' | 'local';
  session_id?: string;
  [k: string]: unknown;
}
