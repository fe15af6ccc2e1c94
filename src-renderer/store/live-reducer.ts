/**
 * The live-call reducer: bus events (already de-duplicated and ordered by the sequencer) → calls,
 * transcripts, pending phases and takeover requests. Pure and immutable (structural sharing: a batch
 * copies only the calls it touches). Memory is bounded: each transcript keeps its last MAX_LINES
 * lines and at most MAX_ENDED ended calls are kept.
 */
import type { CallSummary, EventEnvelope, Holder, TurnMetrics } from '../api/types';
import { parseProducer, type LineRole } from '../lib/producer';

export const MAX_LINES = 400;
export const MAX_ENDED = 20;

export type LineKind = LineRole | 'note' | 'error';

export interface TranscriptLine {
  id: string;
  /** epoch seconds */
  at: number;
  kind: LineKind;
  label: string;
  text: string;
  producer?: string;
  metrics?: Partial<TurnMetrics> | null;
  /** reply text known, producer and metrics not yet */
  pending?: boolean;
  /**
   * The caller spoke over this reply (barge-in) and heard only this start of `text` ('' = none of
   * it). Absent when the reply was heard in full.
   */
  heard?: string;
  seq?: number;
}

export type Phase = 'transcribing' | 'thinking' | 'awaiting_holder' | 'speaking';

export interface PendingTurn {
  phase: Phase;
  /** epoch seconds */
  since: number;
}

export interface HolderInfo {
  kind: string;
  name: string;
  mode?: string;
}

/** A caller utterance waiting for whoever holds the call (takeover / draft). */
export interface AwaitingReply {
  requestId: string;
  transcript: string;
  /** epoch ms on this computer's clock */
  deadlineAt: number;
  deadlineMs: number;
  holder: HolderInfo | null;
  /** draft mode: the local model's proposal */
  draft?: string;
  /** the deadline passed while typing: the caller heard the holding phrase, the reply will be queued */
  holding?: boolean;
}

export interface LiveCall {
  summary: CallSummary;
  lines: TranscriptLine[];
  /** lines dropped from the front to keep memory bounded */
  droppedLines: number;
  pending: PendingTurn | null;
  awaiting: AwaitingReply | null;
  typing: { name: string; kind: string } | null;
  /** seq of the last event applied to this call */
  lastSeq: number;
}

export interface LiveState {
  calls: Record<string, LiveCall>;
  /** connected agents as last reported (null = unknown) */
  agentCount: number | null;
}

export const emptyLive = (): LiveState => ({ calls: {}, agentCount: null });

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function placeholderSummary(sid: string, at: number): CallSummary {
  return {
    session_id: sid, state: 'active', direction: 'unknown', number: '', device: null, started_at: at, ended_at: null,
    end_reason: null, holder: null, turn_count: 0, authenticated: false, last_latency_ms: null,
  };
}

function isSummary(d: Record<string, unknown>): boolean {
  return typeof d.session_id === 'string' && typeof d.state === 'string' && typeof d.started_at === 'number';
}

function holderOf(v: unknown): HolderInfo | null {
  if (!v || typeof v !== 'object') return null;
  const h = v as Record<string, unknown>;
  const name = str(h.name);
  return name || str(h.kind) ? { kind: str(h.kind) || 'agent', name, mode: str(h.mode) || undefined } : null;
}

function holderLabel(h: HolderInfo | Holder | null): string {
  if (!h) return 'someone';
  const who = h.kind === 'operator' ? 'operator' : 'agent';
  return h.name ? `${who} ${h.name}` : who;
}

/** A batch-local mutable view: copies each touched call once. */
class Draft {
  readonly calls: Record<string, LiveCall>;
  private readonly touched = new Set<string>();
  agentCount: number | null;

  constructor(private readonly base: LiveState) {
    this.calls = { ...base.calls };
    this.agentCount = base.agentCount;
  }

  call(sid: string, at: number, create = true): LiveCall | null {
    let c = this.calls[sid];
    if (!c) {
      if (!create || !sid) return null;
      c = { summary: placeholderSummary(sid, at), lines: [], droppedLines: 0, pending: null, awaiting: null, typing: null, lastSeq: 0 };
      this.calls[sid] = c;
      this.touched.add(sid);
      return c;
    }
    if (!this.touched.has(sid)) {
      c = { ...c, lines: c.lines.slice() };
      this.calls[sid] = c;
      this.touched.add(sid);
    }
    return c;
  }

  finish(): LiveState {
    for (const sid of this.touched) {
      const c = this.calls[sid];
      if (c.lines.length > MAX_LINES) {
        const drop = c.lines.length - MAX_LINES;
        c.lines.splice(0, drop);
        c.droppedLines += drop;
      }
    }
    pruneEnded(this.calls);
    if (!this.touched.size && this.agentCount === this.base.agentCount) return this.base;
    return { calls: this.calls, agentCount: this.agentCount };
  }
}

function pruneEnded(calls: Record<string, LiveCall>): void {
  const ended = Object.values(calls).filter((c) => c.summary.state === 'ended');
  if (ended.length <= MAX_ENDED) return;
  ended.sort((a, b) => (a.summary.ended_at ?? 0) - (b.summary.ended_at ?? 0));
  for (const c of ended.slice(0, ended.length - MAX_ENDED)) delete calls[c.summary.session_id];
}

function addLine(c: LiveCall, line: TranscriptLine): void {
  c.lines.push(line);
}

function note(c: LiveCall, e: EventEnvelope, text: string, kind: LineKind = 'note'): void {
  addLine(c, { id: `n${e.seq ?? `${e.type}-${e.timestamp}`}`, at: e.timestamp, kind, label: kind === 'error' ? 'Error' : 'Event', text, seq: e.seq });
}

function endCall(c: LiveCall, at: number, reason: string | null): void {
  c.summary = { ...c.summary, state: 'ended', ended_at: c.summary.ended_at ?? at, end_reason: (reason as CallSummary['end_reason']) ?? c.summary.end_reason ?? null, holder: null };
  c.pending = null;
  c.awaiting = null;
  c.typing = null;
}

/** Events that make an unknown call appear; the others only matter for calls we already know. */
const CREATING = new Set(['session.started', 'session.updated', 'turn.started', 'turn.transcript', 'turn.reply', 'turn.complete', 'turn.awaiting_reply', 'turn.draft']);

/** Apply one event to the draft. `nowMs` is this computer's clock (for takeover deadlines). */
function applyOne(d: Draft, e: EventEnvelope, nowMs: number): void {
  const data = (e.data ?? {}) as Record<string, unknown>;
  const sid = e.session_id || str(data.session_id);
  const at = e.timestamp;

  switch (e.type) {
    case 'agent.connected':
    case 'agent.disconnected': {
      const n = num(data.agent_count);
      if (n !== null) d.agentCount = n;
      return;
    }
  }
  if (!sid) return;

  const c = d.call(sid, at, CREATING.has(e.type));
  if (!c) return;
  if (typeof e.seq === 'number') c.lastSeq = Math.max(c.lastSeq, e.seq);

  switch (e.type) {
    case 'session.started':
    case 'session.updated': {
      if (!isSummary(data)) return;
      const next = data as unknown as CallSummary;
      if (e.type === 'session.started' && c.summary.state === 'ended' && next.state !== 'ended') {
        // a new call on a reused id (reset): start a fresh transcript
        c.lines = [];
        c.droppedLines = 0;
      }
      // an ended call never comes back through a late update
      if (c.summary.state === 'ended' && next.state !== 'ended' && e.type === 'session.updated') return;
      c.summary = { ...next };
      if (next.state === 'ended') endCall(c, next.ended_at ?? at, next.end_reason);
      return;
    }
    case 'session.ended':
      endCall(c, at, str(data.reason) || null);
      note(c, e, `Call ended${data.reason ? ` (${String(data.reason).replace(/_/g, ' ')})` : ''}.`);
      return;
    case 'turn.started':
      c.pending = { phase: 'transcribing', since: at };
      return;
    case 'turn.transcript': {
      const t = str(data.transcript);
      if (t) addLine(c, { id: `c${e.seq ?? at}`, at, kind: 'caller', label: 'Caller', text: t, seq: e.seq });
      c.pending = { phase: c.summary.holder ? 'awaiting_holder' : 'thinking', since: at };
      return;
    }
    case 'turn.no_speech':
    case 'turn.stale':
      c.pending = null;
      return;
    case 'turn.awaiting_reply': {
      const deadlineMs = num(data.deadline_ms) ?? 0;
      c.awaiting = {
        requestId: str(data.request_id),
        transcript: str(data.transcript),
        deadlineMs,
        deadlineAt: nowMs + deadlineMs,
        holder: holderOf(data.holder),
      };
      c.pending = { phase: 'awaiting_holder', since: at };
      return;
    }
    case 'turn.draft': {
      const rid = str(data.request_id);
      const base = c.awaiting && c.awaiting.requestId === rid ? c.awaiting : null;
      c.awaiting = {
        requestId: rid,
        transcript: str(data.transcript) || base?.transcript || '',
        deadlineMs: base?.deadlineMs ?? num(data.deadline_ms) ?? 0,
        deadlineAt: base?.deadlineAt ?? nowMs + (num(data.deadline_ms) ?? 0),
        holder: holderOf(data.holder) ?? base?.holder ?? null,
        draft: str(data.draft),
      };
      return;
    }
    case 'turn.holding':
      if (c.awaiting && (!data.request_id || c.awaiting.requestId === data.request_id)) c.awaiting = { ...c.awaiting, holding: true };
      return;
    case 'turn.timeout':
      if (c.awaiting && (!data.request_id || c.awaiting.requestId === data.request_id)) c.awaiting = null;
      note(c, e, data.fallback === 'draft' ? 'No approval in time: the draft was spoken.' : 'No reply in time: the assistant answered this turn.');
      return;
    case 'turn.cancelled':
      if (c.awaiting && (!data.request_id || c.awaiting.requestId === data.request_id)) c.awaiting = null;
      return;
    case 'turn.reply': {
      const text = str(data.reply);
      if (!text) return;
      addLine(c, { id: `r${e.seq ?? at}`, at, kind: 'assistant', label: 'Reply', text, pending: true, seq: e.seq });
      c.pending = { phase: 'speaking', since: at };
      c.awaiting = null;
      return;
    }
    case 'turn.complete': {
      c.pending = null;
      if (data.no_speech) return;
      // delivered speech (model "inject") names who queued it in `producer`
      const producerRaw = str(data.producer) || (data.model === 'inject' ? 'inject' : '');
      const metrics = (data.metrics && typeof data.metrics === 'object' ? data.metrics : null) as Partial<TurnMetrics> | null;
      const producer = parseProducer(producerRaw || (metrics?.llm_model ? `local:${metrics.llm_model}` : ''));
      const reply = str(data.reply);
      // finish the newest pending reply line with this text
      let idx = -1;
      for (let i = c.lines.length - 1; i >= 0; i--) {
        if (c.lines[i].pending) {
          idx = i;
          break;
        }
      }
      const queuedSpeech = data.model === 'inject' && producer.role !== 'inject';
      const line: TranscriptLine = {
        id: idx >= 0 ? c.lines[idx].id : `r${e.seq ?? at}`,
        at: idx >= 0 ? c.lines[idx].at : at,
        kind: producer.role,
        label: queuedSpeech ? `${producer.label} (queued)` : producer.label,
        text: reply || (idx >= 0 ? c.lines[idx].text : ''),
        producer: producerRaw,
        metrics,
        seq: e.seq,
      };
      if (idx >= 0) c.lines[idx] = line;
      else if (line.text) addLine(c, line);
      const total = num(metrics?.total_ms);
      // turn_count arrives with the session.updated that follows
      if (total !== null) c.summary = { ...c.summary, last_latency_ms: total };
      return;
    }
    case 'turn.interrupted': {
      // barge-in: mark the newest reply line with this text as heard only in part
      const reply = str(data.reply).trim();
      const heard = str(data.heard_text).trim();
      if (!reply) return;
      for (let i = c.lines.length - 1; i >= 0; i--) {
        const l = c.lines[i];
        if (l.kind === 'caller' || l.kind === 'note' || l.kind === 'error') continue;
        if (l.text.trim() === reply) {
          c.lines[i] = { ...l, heard };
          return;
        }
      }
      // the reply line is no longer in the window: say it as a note
      note(c, e, heard ? `The caller interrupted a reply and heard only: “${heard}…”` : 'The caller interrupted a reply before hearing any of it.');
      return;
    }
    case 'turn.error':
      c.pending = null;
      note(c, e, str(data.error) || 'The turn failed.', 'error');
      return;
    case 'turn.caller_rejected':
      note(c, e, `Caller rejected (${str(data.reason).replace(/_/g, ' ') || 'policy'}).`);
      return;
    case 'turn.authenticated':
      c.summary = { ...c.summary, authenticated: true };
      note(c, e, 'Caller authenticated with the passphrase.');
      return;
    case 'turn.auth_failed':
      note(c, e, `Wrong passphrase (attempt ${num(data.attempt) ?? '?'}).`);
      return;
    case 'agent.takeover': {
      const h = holderOf(data.holder) ?? holderOf({ kind: data.kind ?? 'agent', name: data.agent ?? data.name, mode: data.mode });
      if (h) c.summary = { ...c.summary, state: c.summary.state === 'ended' ? 'ended' : 'taken_over', holder: { kind: h.kind === 'operator' ? 'operator' : 'agent', name: h.name, mode: h.mode === 'draft' ? 'draft' : 'takeover' } };
      note(c, e, `Taken over by ${holderLabel(h)}${h?.mode === 'draft' ? ' (draft mode)' : ''}.`);
      return;
    }
    case 'agent.release': {
      const who = c.summary.holder;
      if (c.summary.state !== 'ended') c.summary = { ...c.summary, state: 'active', holder: null };
      c.awaiting = null;
      c.typing = null;
      note(c, e, `Handed back to the assistant${who ? ` by ${holderLabel(who)}` : ''}.`);
      return;
    }
    case 'takeover.lost':
      return;
    case 'agent.inject':
      note(c, e, `Queued to say at the caller's next turn: “${str(data.text)}”`);
      return;
    case 'agent.context_injected':
      note(c, e, 'Knowledge for this call was updated.');
      return;
    case 'agent.context_cleared':
      note(c, e, 'Knowledge for this call was cleared.');
      return;
    case 'instructions.updated':
      if (data.scope === 'session') note(c, e, 'Instructions for this call were changed.');
      else if (data.scope === 'turn') note(c, e, 'A one-shot instruction was set for the next turn.');
      return;
    case 'operator.typing': {
      const typing = data.typing !== false;
      c.typing = typing ? { name: str(data.agent) || str(data.name), kind: str(data.kind) || 'operator' } : null;
      return;
    }
    default:
      return;
  }
}

/** Apply a batch of ordered events. Returns the same object when nothing changed. */
export function applyEvents(state: LiveState, events: EventEnvelope[], nowMs = Date.now()): LiveState {
  if (!events.length) return state;
  const d = new Draft(state);
  for (const e of events) applyOne(d, e, nowMs);
  return d.finish();
}

/**
 * Merge a REST snapshot (`/api/status.calls`, the live calls) after a (re)connect: known calls get
 * the fresh summary, new ones appear, and calls we still think are live but the gateway no longer
 * lists have ended while we were away.
 */
export function applySnapshot(state: LiveState, live: CallSummary[], agentCount: number | null, nowS = Date.now() / 1000): LiveState {
  const calls = { ...state.calls };
  const seen = new Set<string>();
  for (const s of live) {
    seen.add(s.session_id);
    const c = calls[s.session_id];
    // the stream may already have ended this call after the snapshot was taken: it stays ended
    if (c && c.summary.state === 'ended' && s.started_at <= (c.summary.ended_at ?? 0)) continue;
    calls[s.session_id] = c ? { ...c, summary: { ...s } } : { summary: { ...s }, lines: [], droppedLines: 0, pending: null, awaiting: null, typing: null, lastSeq: 0 };
  }
  for (const [sid, c] of Object.entries(calls)) {
    if (!seen.has(sid) && c.summary.state !== 'ended') {
      const copy = { ...c };
      endCall(copy, nowS, c.summary.end_reason);
      calls[sid] = copy;
    }
  }
  pruneEnded(calls);
  return { calls, agentCount: agentCount ?? state.agentCount };
}

/** Replace a call's transcript with the stored one (history API), keeping newer live lines. */
export function applyStoredTranscript(state: LiveState, sid: string, lines: TranscriptLine[]): LiveState {
  const c = state.calls[sid];
  if (!c) return state;
  const newest = lines.length ? lines[lines.length - 1].at : 0;
  const live = c.lines.filter((l) => l.at > newest + 0.001);
  const merged = [...lines, ...live];
  const drop = Math.max(0, merged.length - MAX_LINES);
  return { ...state, calls: { ...state.calls, [sid]: { ...c, lines: merged.slice(drop), droppedLines: drop } } };
}

/** Waiting takeover requests from REST (`/api/operator/pending`) after a (re)connect. */
export function applyPending(
  state: LiveState,
  pending: { request_id: string; session_id: string; transcript: string; holder: HolderInfo | null; deadline_ms: number; draft: string | null }[],
  nowMs = Date.now(),
): LiveState {
  const calls = { ...state.calls };
  const bySid = new Map(pending.map((p) => [p.session_id, p]));
  let changed = false;
  for (const [sid, c] of Object.entries(calls)) {
    const p = bySid.get(sid);
    if (p) {
      calls[sid] = {
        ...c,
        awaiting: { requestId: p.request_id, transcript: p.transcript, deadlineMs: p.deadline_ms, deadlineAt: nowMs + p.deadline_ms, holder: p.holder, ...(p.draft !== null ? { draft: p.draft } : {}) },
        pending: { phase: 'awaiting_holder', since: c.pending?.since ?? nowMs / 1000 },
      };
      changed = true;
    } else if (c.awaiting) {
      calls[sid] = { ...c, awaiting: null };
      changed = true;
    }
  }
  return changed ? { ...state, calls } : state;
}
