/** Shapes the store returns (and the history API serves). */
import type { CallDirection, Holder, TurnKind, TurnMetrics } from '../calls/types';

/** Who produced replies, from `TurnRecord.producer` (`local:<model>` → `local`). */
export const PRODUCER_KINDS = ['local', 'agent', 'operator', 'inject', 'forced', 'holding', 'system', 'other'] as const;
export type ProducerKind = (typeof PRODUCER_KINDS)[number];

/**
 * How a call went, derived from its end reason and turns:
 * `active` (still open), `completed` (ended with at least one turn), `no_turns`, `rejected`
 * (caller policy), `auth_failed`, `interrupted` (crash or shutdown), `imported` (from upstream files).
 */
export const OUTCOMES = ['active', 'completed', 'no_turns', 'rejected', 'auth_failed', 'interrupted', 'imported'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const DIRECTIONS = ['incoming', 'outgoing', 'mock', 'unknown'] as const satisfies readonly CallDirection[];

export interface StoredCall {
  /** the call's id in this store: its session id unless that id was reused or unsafe in a URL */
  id: string;
  session_id: string;
  device: string | null;
  direction: CallDirection;
  number: string;
  started_at: number;
  ended_at: number | null;
  /** an `EndReason`, or `imported` / `unknown` */
  end_reason: string | null;
  state: string;
  outcome: Outcome;
  handled_by: ProducerKind[];
  holder: Holder | null;
  authenticated: boolean;
  turn_count: number;
  /** sum of the turns' total_ms */
  total_turn_ms: number;
  last_latency_ms: number | null;
  /** ended_at (or the last activity while open) minus started_at, seconds */
  duration_s: number;
  source: 'live' | 'import';
}

export interface CallMatch {
  /** index of the best-matching turn */
  turn: number;
  /** transcript/reply excerpt with the matched words between [ and ] */
  snippet: string;
  /** bm25 score, lower is better */
  score: number;
}

export interface CallListItem extends StoredCall {
  match?: CallMatch;
}

/**
 * Why a recording cannot be played, found when the store opened: its file was `missing`, or
 * `truncated` (shorter or longer than recorded, e.g. cut short by a power loss before it reached
 * the disk). The damaged file is deleted; the same audio recorded again repairs it.
 */
export type RecordingDamage = 'missing' | 'truncated';

export interface StoredRecording {
  sha256: string;
  bytes: number;
  /** set when the file was found damaged; playback then answers 404 saying so */
  damaged?: RecordingDamage;
}

export interface RecordingCheck {
  checked: number;
  missing: number;
  truncated: number;
}

export interface StoredTurn {
  index: number;
  kind: TurnKind | string;
  started_at: number;
  completed_at: number;
  transcript: string;
  reply: string;
  producer: string;
  producer_kind: ProducerKind;
  metrics: TurnMetrics;
  stale: boolean;
  no_speech_prob: number | null;
  segments: { start: number; end: number; text: string }[] | null;
  recordings: { caller: StoredRecording | null; reply: StoredRecording | null };
  /**
   * The caller spoke over this reply (barge-in): the start of `reply` they heard before playback
   * stopped ('' = none of it). null when the reply was heard in full.
   */
  reply_heard: string | null;
}

export interface StoredEvent {
  at: number;
  type: string;
  data: Record<string, unknown>;
}

export interface CallDetail {
  call: StoredCall;
  turns: StoredTurn[];
  events: StoredEvent[];
}

export interface CallQuery {
  /** full-text query over transcripts and replies */
  q?: string;
  /** started_at bounds, epoch seconds, inclusive */
  from?: number;
  to?: number;
  direction?: CallDirection;
  /** an Outcome or an end reason */
  outcome?: string;
  /** calls where any of these produced a reply */
  handledBy?: ProducerKind[];
  /** digits (+ * #) contained in the number */
  number?: string;
  limit?: number;
  /** opaque, from a previous page's next_cursor */
  cursor?: string;
  offset?: number;
}

export interface CallPage {
  calls: CallListItem[];
  /** pass as `cursor` to get the next page; null on the last page */
  next_cursor: string | null;
  /**
   * Text searches only: more turns matched than a search ranks (CallStoreOptions.searchCap); the
   * results come from the newest matches. Add words or a date range to reach older calls.
   */
  truncated?: boolean;
}

export interface UpstreamSessionListItem {
  session_id: string;
  created_at: number | null;
  turn_count: number;
}

export interface UpstreamSessionTurn {
  transcript: string;
  reply: string;
  metrics: { asr_ms: number; llm_ms: number; tts_ms: number; total_ms: number; llm_model: string };
  forced_reply: boolean;
  timestamp: number;
}

export interface UpstreamSession {
  session_id: string;
  created_at: number | null;
  turns: UpstreamSessionTurn[];
}

export interface CallerListItem {
  number: string;
  total_calls: number;
  last_call_at: number;
  turn_count: number;
}

export interface RecordingStatus {
  /** config record_audio */
  record_audio: boolean;
  /** set by the kill switch until resumeRecording() */
  paused: boolean;
  /** recording happens now: record_audio and not paused */
  recording: boolean;
  files: number;
  bytes: number;
}

export interface RetentionResult {
  deleted_files: number;
  freed_bytes: number;
}

export interface StoreSettings {
  record_audio: boolean;
  recording_max_age_days: number;
  recording_max_disk_mb: number;
}
