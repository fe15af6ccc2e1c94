/**
 * Typed calls of every gateway route the console uses. Operator actions go to `/api/operator/*`
 * (the agent-interface capability); where an upstream route does the same thing (say now = inject,
 * steer = turn instruction / knowledge), it is used when the operator route is absent.
 */
import { ApiClient, ApiError } from './http';
import type { EnginesConfigView, MockCallConfigView, NetworkConfigView } from '../../src-shared/protocol/settings';
import type {
  ActionResult, CallConfig, CallDetail, CallPage, DeviceDetail, DevicesResponse, InstructionsResponse, LatencySummary,
  LlmConfig, MockCallList, ModelsResponse, OperatorAck, StatusResponse, TtsConfig,
} from './types';

export type SteerScope = 'turn' | 'session' | 'knowledge';
export type HoldMode = 'takeover' | 'draft';

export interface HistoryQuery {
  q?: string;
  from?: number;
  to?: number;
  direction?: string;
  outcome?: string;
  handled_by?: string;
  number?: string;
  limit?: number;
  cursor?: string;
}

/** A caller utterance waiting for its holder (GET /api/operator/pending). */
export interface PendingRequest {
  request_id: string;
  session_id: string;
  transcript: string;
  state: string;
  holder: { kind: string; name: string; mode: string };
  deadline_ms: number;
  draft: string | null;
}

export interface DialRequest {
  number: string;
  device?: string;
  greeting?: string;
  instructions?: string;
}

const enc = encodeURIComponent;

async function orFallback<T>(primary: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
  try {
    return await primary();
  } catch (e) {
    if (e instanceof ApiError && e.missing) return fallback();
    throw e;
  }
}

export class GatewayApi {
  constructor(readonly http: ApiClient) {}

  // ---- status
  status = (signal?: AbortSignal) => this.http.get<StatusResponse>('/api/status', undefined, signal);
  latency = () => this.http.get<LatencySummary>('/api/metrics/latency');

  // ---- config
  llmConfig = () => this.http.get<LlmConfig>('/api/config/llm');
  setLlmConfig = (patch: Record<string, unknown>) => this.http.post<LlmConfig & { ok: boolean }>('/api/config/llm', patch);
  ttsConfig = () => this.http.get<TtsConfig>('/api/config/tts');
  setTtsConfig = (patch: Record<string, unknown>) => this.http.post<TtsConfig & { ok: boolean }>('/api/config/tts', patch);
  ttsPreview = (body: { text?: string; voice?: string; speed?: number }) => this.http.post<{ ok: boolean; audio_base64: string }>('/api/tts/preview', body);
  callConfig = () => this.http.get<CallConfig>('/api/config/call');
  setCallConfig = (patch: Record<string, unknown>) => this.http.post<CallConfig & { ok: boolean }>('/api/config/call', patch);
  enginesConfig = () => this.http.get<EnginesConfigView>('/api/config/engines');
  setEnginesConfig = (patch: Record<string, unknown>) => this.http.post<EnginesConfigView & { ok: boolean }>('/api/config/engines', patch);
  networkConfig = () => this.http.get<NetworkConfigView>('/api/config/network');
  setNetworkConfig = (patch: Record<string, unknown>) => this.http.post<NetworkConfigView & { ok: boolean }>('/api/config/network', patch);
  mockCallConfig = () => this.http.get<MockCallConfigView>('/api/config/mock-call');
  setMockCallConfig = (patch: Record<string, unknown>) => this.http.post<MockCallConfigView & { ok: boolean }>('/api/config/mock-call', patch);
  reloadConfig = () => this.http.post<{ ok: boolean; config: Record<string, unknown> }>('/api/config', {});

  // ---- instructions
  instructions = () => this.http.get<InstructionsResponse>('/api/instructions');
  setGlobalInstructions = (text: string) => this.http.post<{ ok: boolean }>('/api/instructions', { text });
  setCallInstructions = (sid: string, text: string) => this.http.post<{ ok: boolean }>(`/api/instructions/${enc(sid)}`, { text });
  clearCallInstructions = (sid: string) => this.http.del<{ ok: boolean }>(`/api/instructions/${enc(sid)}`);
  setTurnInstructions = (sid: string, text: string) => this.http.post<{ ok: boolean }>(`/api/instructions/${enc(sid)}/turn`, { text });

  // ---- operator (take over, draft, steer, say now, hand back, hang up)
  takeover = (sid: string, operator: string, mode: HoldMode = 'takeover') => this.http.post<OperatorAck>('/api/operator/takeover', { session_id: sid, mode, operator });
  release = (sid: string, operator: string) => this.http.post<OperatorAck>('/api/operator/release', { session_id: sid, operator });
  reply = (sid: string, text: string, operator: string, requestId?: string) =>
    this.http.post<OperatorAck>('/api/operator/reply', { session_id: sid, text, operator, ...(requestId ? { request_id: requestId } : {}) });
  approve = (sid: string, requestId: string, operator: string, text?: string) =>
    this.http.post<OperatorAck>('/api/operator/approve', { session_id: sid, request_id: requestId, operator, ...(text !== undefined ? { text } : {}) });
  pending = () => this.http.get<{ requests: PendingRequest[] }>('/api/operator/pending');
  typing = (sid: string, typing: boolean, operator: string) => this.http.post<OperatorAck>('/api/operator/typing', { session_id: sid, typing, operator });

  steer = (sid: string, text: string, scope: SteerScope, operator: string) =>
    orFallback(
      () => this.http.post<OperatorAck>('/api/operator/steer', { session_id: sid, text, scope, operator }),
      () =>
        scope === 'knowledge'
          ? this.http.post<OperatorAck>(`/api/agent/context/${enc(sid)}`, { context: text })
          : scope === 'session'
            ? this.http.post<OperatorAck>(`/api/instructions/${enc(sid)}`, { text })
            : this.http.post<OperatorAck>(`/api/instructions/${enc(sid)}/turn`, { text }),
    );

  say = (sid: string, text: string, operator: string) =>
    orFallback(
      () => this.http.post<OperatorAck>('/api/operator/say', { session_id: sid, text, operator }),
      () => this.http.post<OperatorAck>('/api/call/inject', { session_id: sid, text }),
    );

  hangup = (sid: string, operator: string) =>
    orFallback(
      () => this.http.post<OperatorAck>('/api/operator/hangup', { session_id: sid, operator }),
      () => this.http.post<OperatorAck>('/api/call/hangup', { session_id: sid }),
    );

  dial = (req: DialRequest) => this.http.post<ActionResult>('/api/call/dial', req);

  // ---- history
  calls = (q: HistoryQuery, signal?: AbortSignal) => this.http.get<CallPage>('/api/calls', q as Record<string, string | number | undefined>, signal);
  call = (id: string) => this.http.get<CallDetail>(`/api/calls/${enc(id)}`);
  deleteCall = (id: string) => this.http.del<{ ok: boolean }>(`/api/calls/${enc(id)}`);
  audioUrl = (id: string, turn: number, side: 'caller' | 'reply') => this.http.url(`/api/calls/${enc(id)}/audio/${turn}/${side}`);
  exportUrl = (id: string, format: 'json' | 'txt') => this.http.url(`/api/calls/${enc(id)}/export`, { format });

  // ---- devices
  devices = () => this.http.get<DevicesResponse>('/api/devices');
  device = (serial: string) => this.http.get<DeviceDetail>(`/api/devices/${enc(serial)}`);
  deviceAction = (serial: string, action: string, body: Record<string, unknown> = {}) =>
    this.http.post<ActionResult>(`/api/devices/${enc(serial)}/actions/${enc(action)}`, body);
  logcatUrl = (serial: string, q: { level?: string; q?: string; backlog?: number } = {}) => this.http.url(`/api/devices/${enc(serial)}/logcat`, q);
  diagnosticsUrl = (serial: string) => this.http.url(`/api/devices/${enc(serial)}/diagnostics`);

  // ---- models
  models = () => this.http.get<ModelsResponse>('/api/models');
  downloadModel = (id: string) => this.http.post<{ ok: boolean }>(`/api/models/${enc(id)}/download`, {});
  cancelModel = (id: string) => this.http.post<{ ok: boolean }>(`/api/models/${enc(id)}/cancel`, {});
  deleteModel = (id: string) => this.http.del<{ ok: boolean }>(`/api/models/${enc(id)}`);

  // ---- mock calls (server side: this computer's microphone and speakers)
  mockCalls = () => this.http.get<MockCallList>('/api/mock-call');
  startMockCall = (body: Record<string, unknown>) => this.http.post<{ ok: boolean; mock_call: { id: string; session_id: string } }>('/api/mock-call/start', body);
  stopMockCall = (id?: string) => this.http.post<{ ok: boolean }>('/api/mock-call/stop', id ? { id } : {});
  mockDevices = () => this.http.get<{ inputs: { id: string; description: string }[]; outputs: { id: string; description: string }[]; tool: string | null; note?: string }>('/api/mock-call/devices');

  // ---- history settings, recordings kill switch, upstream import
  historyConfig = () => this.http.get<HistoryConfigView>('/api/config/history');
  setHistoryConfig = (patch: Record<string, unknown>) => this.http.post<HistoryConfigView & { ok: boolean; retention: RetentionResult }>('/api/config/history', patch);
  recordings = () => this.http.get<RecordingStatus>('/api/recordings');
  purgeRecordings = () => this.http.post<RecordingStatus & RetentionResult & { ok: boolean }>('/api/recordings/purge', {});
  resumeRecording = () => this.http.post<RecordingStatus & { ok: boolean }>('/api/recordings/resume', {});
  importHistory = (dir: string) => this.http.post<HistoryImportReport>('/api/history/import', { dir });
}

/** GET /api/recordings: whether recording happens now, and what is stored. */
export interface RecordingStatus {
  record_audio: boolean;
  /** the kill switch was used; recording stays off until resumed */
  paused: boolean;
  recording: boolean;
  files: number;
  bytes: number;
}

export interface RetentionResult {
  deleted_files: number;
  freed_bytes: number;
}

/** GET /api/config/history */
export interface HistoryConfigView {
  record_audio: boolean;
  recording_max_age_days: number;
  recording_max_disk_mb: number;
  /** caller memory keys national numbers as +<code>…; '' = as written */
  caller_country_code: string;
  overridden: Record<string, 'environment' | 'command line'>;
  recordings: RecordingStatus;
}

/** POST /api/history/import */
export interface HistoryImportReport {
  dir: string;
  sessions: { imported: number; skipped: number; failed: { file: string; error: string }[] };
  callers: { imported: number; updated: number; skipped: number; failed: { file: string; error: string }[] };
}

/** POST /api/models/import: a model file the user already has (whisper .bin, GGUF, Piper .onnx). */
export interface ModelImportResult {
  ok: boolean;
  model: import('./types').ImportedModel;
}

export function importModel(api: GatewayApi, path: string): Promise<ModelImportResult> {
  return api.http.post<ModelImportResult>('/api/models/import', { path });
}
