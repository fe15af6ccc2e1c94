/**
 * One call ("session" on the wire). Explicit states: active → taken_over ⇄ active → ended (terminal,
 * with a reason). The object is never replaced while the call exists, so its lock stays valid across a
 * reset (upstream discarded a possibly-held lock — spec §16 #21).
 */
import type { ChatMessage } from '../engines/types';
import type { CallDirection, CallSummary, EndReason, Holder } from './types';
import { Mutex } from './mutex';

export interface QueuedInject {
  text: string;
  /** canonical WAV, synthesised at queue time */
  wav: Uint8Array;
  tts_ms: number;
  /** who injected: 'inject' | 'operator:<name>' | 'agent:<name>' | 'holding-reply' … */
  producer: string;
}

export type SessionSource = 'phone' | 'mock' | 'api';

export class Session {
  createdAt = Date.now() / 1000;
  lastActivity = this.createdAt;
  state: 'active' | 'ended' = 'active';
  endedAt: number | null = null;
  endReason: EndReason | null = null;
  /** bumped by reset and end; a turn that sees it change is stale */
  generation = 0;
  history: ChatMessage[] = [];
  summary = '';
  number = '';
  /** caller memory key of this call's number (E.164 form), fixed when the call starts */
  memoryKey: string | null = null;
  /** the key an earlier version stored this caller under, when the memory was found there (moved on save) */
  memoryLegacyKey: string | null = null;
  direction: CallDirection = 'unknown';
  device: string | null = null;
  /** address the phone's turns come from (adb reverse: loopback; Wi-Fi: the phone's IP) */
  peer: string | null = null;
  source: SessionSource = 'api';
  auth = { validated: false, attempts: 0 };
  injects: QueuedInject[] = [];
  sessionInstruction = '';
  turnInstruction = '';
  knowledge = '';
  holder: Holder | null = null;
  turnCount = 0;
  /** next turn index (per call, completion order) */
  nextTurnIndex = 0;
  lastLatencyMs: number | null = null;
  /** a compaction is running for this session */
  compacting = false;
  readonly lock = new Mutex();

  constructor(readonly id: string) {}

  get ended(): boolean {
    return this.state === 'ended';
  }

  /** Wipe per-call state for a new call on the same id (spec §8.5); the generation survives. */
  resetState(): void {
    this.generation++;
    this.createdAt = Date.now() / 1000;
    this.lastActivity = this.createdAt;
    this.state = 'active';
    this.endedAt = null;
    this.endReason = null;
    this.history = [];
    this.summary = '';
    this.number = '';
    this.memoryKey = null;
    this.memoryLegacyKey = null;
    this.direction = 'unknown';
    this.auth = { validated: false, attempts: 0 };
    this.injects = [];
    this.sessionInstruction = '';
    this.turnInstruction = '';
    this.knowledge = '';
    this.turnCount = 0;
    this.nextTurnIndex = 0;
    this.lastLatencyMs = null;
  }

  summaryView(): CallSummary {
    return {
      session_id: this.id,
      state: this.ended ? 'ended' : this.holder ? 'taken_over' : 'active',
      direction: this.direction,
      number: this.number,
      device: this.device,
      started_at: this.createdAt,
      ended_at: this.endedAt,
      end_reason: this.endReason,
      holder: this.holder ? { ...this.holder } : null,
      turn_count: this.turnCount,
      authenticated: this.auth.validated,
      last_latency_ms: this.lastLatencyMs,
    };
  }
}
