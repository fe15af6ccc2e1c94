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

/** The phone bridge's and the model manager's shapes: shared with the gateway. */
export type { AdbStatus, CheckStatus, DeviceDetail, DeviceSummary, DevicesResponse, HealthCheck, LogLine } from '../../src-shared/protocol/devices';
export type { DownloadState, ModelEntry, ModelsResponse } from '../../src-shared/protocol/models';

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

/** A stored recording of a turn (with `damaged` when its file was found missing or cut short). */
export type { StoredRecording, RecordingDamage } from '../../src-main/store/types';
export type { ImportedModel, ModelKind } from '../../src-shared/protocol/models';
