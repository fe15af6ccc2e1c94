/**
 * The call model shared by the pipeline, the gateway, the store and the console.
 * A "call" is upstream's "session": one phone call (or mock call), one session id.
 */
import type { ChatMessage } from '../engines/types';

export type CallState = 'active' | 'taken_over' | 'ended';

/** Terminal reasons. `interrupted` is set by the store for calls left open by a crash. */
export type EndReason =
  | 'hangup' // hung up from the console/agent/ADB
  | 'phone_ended' // the phone reported the call gone (ADB call state)
  | 'stale' // no activity for session_ttl
  | 'ended_by_api' // POST /api/session/end, agent end_session
  | 'max_duration' // gateway-enforced max call duration
  | 'new_call' // a new call (reset turn) from the same device replaced it
  | 'auth_failed' // too many wrong passphrases
  | 'rejected' // caller policy
  | 'mock_stopped'
  | 'interrupted'
  | 'shutdown';

export type CallDirection = 'incoming' | 'outgoing' | 'mock' | 'unknown';

export interface Holder {
  kind: 'agent' | 'operator';
  name: string;
  /** draft mode: the local model proposes, the holder approves */
  mode: 'takeover' | 'draft';
}

export interface CallSummary {
  session_id: string;
  state: CallState;
  direction: CallDirection;
  /** normalised caller/callee number as the phone sent it ('' when withheld) */
  number: string;
  /** adb serial of the phone carrying the call, if known */
  device: string | null;
  started_at: number; // epoch seconds
  ended_at: number | null;
  end_reason: EndReason | null;
  holder: Holder | null;
  turn_count: number;
  authenticated: boolean;
  last_latency_ms: number | null;
}

/** Per-turn latency metrics: upstream's names plus LiveKit-style ones. All ms. */
export interface TurnMetrics {
  asr_ms: number;
  llm_ms: number;
  tts_ms: number;
  total_ms: number;
  llm_model: string;
  /** end of upload → transcript ready */
  transcriptionDelayMs: number;
  /** LLM request → first token (0 when no LLM ran) */
  llmTtftMs: number;
  /** TTS request → first audio ready (first sentence when pipelined) */
  ttsTtfbMs: number;
  /** request received → response ready */
  e2eLatencyMs: number;
}

export type TurnKind = 'normal' | 'forced' | 'inject' | 'no_speech' | 'auth' | 'holding' | 'ended';

export interface TurnRecord {
  session_id: string;
  /** 0-based, per call, in completion order */
  index: number;
  kind: TurnKind;
  started_at: number;
  completed_at: number;
  transcript: string;
  reply: string;
  /** who produced the reply: `local:<model>`, `agent:<name>`, `operator:<name>`, `inject`, `forced`, `holding`, `system` */
  producer: string;
  metrics: TurnMetrics;
  /** true when the call was reset/ended while this turn ran: nothing was written to history */
  stale: boolean;
  /** the caller's WAV as uploaded (absent for forced/silence turns when not useful) */
  callerAudio?: Uint8Array;
  /**
   * sha256 (hex) of `callerAudio` when the pipeline already computed it (the ASR cache key), so the
   * store does not hash the same bytes again; absent: whoever needs it hashes.
   */
  callerAudioSha256?: string;
  /** the WAV we answered with */
  replyAudio?: Uint8Array;
  asrSegments?: { start: number; end: number; text: string }[];
  noSpeechProb?: number;
}

/**
 * Observers see every call lifecycle step synchronously, in order, before the phone gets its
 * response. The store commits each turn here, or (recordings written off the event loop) a few
 * milliseconds later, in order — a crash loses at most the turn in flight.
 */
export interface CallObserver {
  callStarted?(call: CallSummary): void;
  callUpdated?(call: CallSummary): void;
  /**
   * May return a promise that resolves once the turn is stored (the store writing its recordings
   * off the event loop); the pipeline does not wait for it (a rejection is logged).
   */
  turnCompleted?(call: CallSummary, turn: TurnRecord): void | Promise<void>;
  /** events of note: takeover, release, inject, policy rejection, errors, auth */
  callEvent?(call: CallSummary, type: string, data: Record<string, unknown>): void;
  /** the caller spoke over a reply (barge-in): only `heard_text` of it was heard */
  replyInterrupted?(call: CallSummary, cut: ReplyCut): void;
  callEnded?(call: CallSummary): void;
}

/**
 * A reply cut short by barge-in: `reply` is the full text as the turn produced it, `heard_text`
 * the start of it the caller heard before playback stopped ('' = none of it).
 */
export interface ReplyCut {
  reply: string;
  heard_text: string;
  played_ms: number;
  total_ms: number;
}

/** Per-number caller memory (`keep_history`). Keys are validated normalised numbers. */
export interface CallerMemory {
  load(numberKey: string): { history: ChatMessage[]; summary: string } | null;
  save(numberKey: string, history: ChatMessage[], summary: string): void;
  delete(numberKey: string): boolean;
  list(): { number: string; total_calls: number; last_call_at: number; turn_count: number }[];
}

export class InMemoryCallerMemory implements CallerMemory {
  private readonly m = new Map<string, { history: ChatMessage[]; summary: string; total_calls: number; last_call_at: number }>();
  load(k: string) {
    const e = this.m.get(k);
    return e ? { history: [...e.history], summary: e.summary } : null;
  }
  save(k: string, history: ChatMessage[], summary: string) {
    const prev = this.m.get(k);
    this.m.set(k, { history: [...history], summary, total_calls: (prev?.total_calls ?? 0) + 1, last_call_at: Date.now() / 1000 });
  }
  delete(k: string) {
    return this.m.delete(k);
  }
  list() {
    return [...this.m.entries()]
      .map(([number, e]) => ({ number, total_calls: e.total_calls, last_call_at: e.last_call_at, turn_count: e.history.length }))
      .sort((a, b) => b.last_call_at - a.last_call_at);
  }
}

/** One caller turn, as /api/turn receives it (field names of the phone's multipart form). */
export interface TurnInput {
  sessionId?: string;
  resetSession?: boolean;
  transcriptHint?: string;
  skipAsr?: boolean;
  forcedReply?: string;
  callerNumber?: string;
  /** 'incoming' | 'outgoing' from the phone; 'mock' for desktop mock calls */
  callDirection?: string;
  /** the WAV bytes as uploaded */
  audio: Uint8Array;
  /** sha256 (hex) of `audio`, set by the pipeline the first time it hashes it (ASR cache key, recording name) */
  audioSha256?: string;
  /** aborts the turn (client went away, mock call stopped) */
  signal?: AbortSignal;
  /** the client's address: with no phone bridge to tell phones apart, one address is one phone */
  peer?: string;
}

/** The exact JSON the phone gets back, with its HTTP status. */
export interface TurnResponse {
  status: number;
  body: Record<string, unknown>;
}

/** Runs one turn through the whole pipeline (what /api/turn does), for in-process callers such as mock calls. */
export type RunTurn = (input: TurnInput) => Promise<TurnResponse>;
