/**
 * Takeover: who holds which call, and the caller turns waiting for them (spec §7.4, with §16 #14–#19
 * fixed). Implements the pipeline's ReplyBroker:
 * - a turn of a held call becomes a `turn.request` to the holder (draft mode: plus the local model's
 *   proposal as `turn.draft`); only the holder's reply answers it;
 * - at the deadline (min(`agent_takeover_timeout`, the phone's 45 s read timeout − the time the turn
 *   already took − a margin for the local model and speech synthesis)): if the holder is typing, the
 *   phone gets the holding phrase and the request stays open — its reply is queued for the next poll;
 *   otherwise the local model answers (or the unapproved draft is spoken) and the holder gets `turn.timeout`;
 *   a draft still being written at the deadline is waited for only until the phone's budget ends (then
 *   the holding phrase, and the draft is spoken on the next poll);
 * - the holder disconnecting, releasing, losing the call to another client, or the call ending closes
 *   its requests at once (the turn falls back immediately; the holder is told when it can be).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FALLBACK_MARGIN_MS, PHONE_READ_TIMEOUT_MS, type CancelReason, type HoldMode, type HolderInfo, type OutboundFrame } from '../../src-shared/protocol/agent';
import { safeText } from '../../src-shared/text/sanitize';
import type { BrokerReply, ReplyBroker, ReplyRequest } from '../calls/broker';
import type { Session } from '../calls/session';
import { producerOf, type AgentClient } from './client';
import { queueSpeech } from './speech-queue';
import { refuse, type AgentDeps, type CmdResult } from './types';

interface Hold {
  client: AgentClient;
  mode: HoldMode;
}

interface Pending {
  id: string;
  session: Session;
  generation: number;
  transcript: string;
  client: AgentClient;
  mode: HoldMode;
  /** live: the phone is waiting for it; held: the phone got the holding phrase, a reply will be queued */
  state: 'live' | 'held';
  deadlineAt: number;
  /** the deadline this request was given (ms) */
  deadlineMs: number;
  /** Date.now() after which the phone's budget leaves only the fallback margin */
  budgetEndAt: number;
  timer: NodeJS.Timeout | null;
  settle: ((r: BrokerReply) => void) | null;
  detach: () => void;
  draftFn: () => Promise<string>;
  draft: { state: 'none' | 'pending' | 'ready' | 'failed'; text: string };
  /** the deadline passed while the draft was still being written: speak it as soon as it exists */
  draftOverdue: boolean;
}

export type ReplyResult = CmdResult<{ request_id: string; delivery: 'spoken' | 'queued' | 'local' | 'none' }>;

export interface PendingView {
  request_id: string;
  session_id: string;
  transcript: string;
  state: 'live' | 'held';
  holder: HolderInfo;
  deadline_ms: number;
  draft: string | null;
}

const CLOSED_MEMORY = 2000;

/** The phone's time budget for a turn (tests shorten it). */
export const PHONE_BUDGET = { readTimeoutMs: PHONE_READ_TIMEOUT_MS, fallbackMarginMs: FALLBACK_MARGIN_MS };

/** How long a holder may take: the configured timeout, within what the phone still waits minus the fallback margin. */
export function takeoverDeadlineMs(timeoutSec: number, spentMs: number): number {
  const left = PHONE_BUDGET.readTimeoutMs - PHONE_BUDGET.fallbackMarginMs - Math.max(0, spentMs);
  return Math.max(0, Math.round(Math.min(timeoutSec * 1000, left)));
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

export class TakeoverBroker implements ReplyBroker {
  private readonly holds = new Map<string, Hold>();
  private readonly byId = new Map<string, Pending>();
  private readonly bySession = new Map<string, Set<Pending>>();
  /** why recently closed requests closed, so a late reply gets a precise answer */
  private readonly closed = new Map<string, string>();
  /** session → client id → typing-until (ms) */
  private readonly typingUntil = new Map<string, Map<string, number>>();

  constructor(private readonly deps: AgentDeps) {}

  // ------------------------------------------------------------------ queries

  holderInfo(sid: string): HolderInfo | null {
    const h = this.holds.get(sid);
    return h && h.client.connected ? { kind: h.client.kind, name: h.client.name, mode: h.mode } : null;
  }

  heldBy(client: AgentClient): string[] {
    return [...this.holds.entries()].filter(([, h]) => h.client === client).map(([sid]) => sid);
  }

  pending(): PendingView[] {
    return [...this.byId.values()].map((p) => ({
      request_id: p.id,
      session_id: p.session.id,
      transcript: p.transcript,
      state: p.state,
      holder: { kind: p.client.kind, name: p.client.name, mode: p.mode },
      deadline_ms: Math.max(0, Math.round(p.deadlineAt - Date.now())),
      draft: p.draft.state === 'ready' ? p.draft.text : null,
    }));
  }

  // ------------------------------------------------------------------ the pipeline seam

  requestReply(req: ReplyRequest): Promise<BrokerReply> | null {
    const s = req.session;
    const hold = this.holds.get(s.id);
    if (!hold) return null;
    if (!hold.client.connected) {
      this.dropHold(s.id, 'disconnected');
      return null;
    }
    if (req.signal.aborted) return null;
    const spent = req.turnStartedAt !== undefined ? performance.now() - req.turnStartedAt : 0;
    const deadlineMs = takeoverDeadlineMs(this.deps.config().agent_takeover_timeout, spent);
    const budgetLeft = Math.max(0, PHONE_BUDGET.readTimeoutMs - PHONE_BUDGET.fallbackMarginMs - spent);
    return new Promise<BrokerReply>((resolve) => {
      const now = Date.now();
      const p: Pending = {
        id: randomUUID().replace(/-/g, ''),
        session: s,
        generation: s.generation,
        transcript: req.transcript,
        client: hold.client,
        mode: hold.mode,
        state: 'live',
        deadlineAt: now + deadlineMs,
        deadlineMs,
        budgetEndAt: now + budgetLeft,
        timer: null,
        settle: resolve,
        detach: () => {},
        draftFn: req.draft,
        draft: { state: 'none', text: '' },
        draftOverdue: false,
      };
      p.timer = setTimeout(() => this.onDeadline(p), deadlineMs);
      const onAbort = () => this.cancel(p, 'caller_gone');
      req.signal.addEventListener('abort', onAbort, { once: true });
      p.detach = () => req.signal.removeEventListener('abort', onAbort);
      this.byId.set(p.id, p);
      let set = this.bySession.get(s.id);
      if (!set) this.bySession.set(s.id, (set = new Set()));
      set.add(p);
      this.announce(p);
    });
  }

  /** Tell the addressee about a live request (again, after a transfer). */
  private announce(p: Pending): void {
    const deadline_ms = Math.max(0, Math.round(p.deadlineAt - Date.now()));
    p.client.send({ type: 'turn.request', session_id: p.session.id, transcript: p.transcript, request_id: p.id, mode: p.mode, deadline_ms });
    this.deps.bus.publish('turn.awaiting_reply', p.session.id, {
      session_id: p.session.id, request_id: p.id, transcript: p.transcript, holder: this.info(p), deadline_ms,
    });
    if (p.mode === 'draft') this.startDraft(p);
    else if (p.draft.state === 'ready') this.sendDraft(p);
  }

  private info(p: Pending): HolderInfo {
    return { kind: p.client.kind, name: p.client.name, mode: p.mode };
  }

  private startDraft(p: Pending): void {
    if (p.draft.state === 'ready') return this.sendDraft(p);
    if (p.draft.state !== 'none') return;
    p.draft.state = 'pending';
    let proposal: Promise<string>;
    try {
      proposal = p.draftFn();
    } catch (e) {
      proposal = Promise.reject(e);
    }
    proposal.then(
      (text) => {
        p.draft = { state: 'ready', text };
        if (!this.byId.has(p.id)) return;
        this.sendDraft(p);
        if (p.draftOverdue && p.state === 'live') this.timeout(p);
        else if (p.draftOverdue && p.state === 'held') void this.lateDraft(p);
      },
      (e: unknown) => {
        p.draft = { state: 'failed', text: '' };
        if (!this.byId.has(p.id)) return;
        const error = `the local model could not propose a reply: ${(e as Error)?.message ?? String(e)}`;
        p.client.send({ type: 'turn.draft', session_id: p.session.id, request_id: p.id, transcript: p.transcript, draft: '', error });
        this.deps.bus.publish('turn.draft', p.session.id, { session_id: p.session.id, request_id: p.id, transcript: p.transcript, draft: '', error, holder: this.info(p) });
        if (p.draftOverdue && p.state === 'live') this.timeout(p);
        else if (p.draftOverdue && p.state === 'held') this.close(p, 'timed out: the local model could not propose a reply');
      },
    );
  }

  private sendDraft(p: Pending): void {
    const { id, session, transcript } = p;
    p.client.send({ type: 'turn.draft', session_id: session.id, request_id: id, transcript, draft: p.draft.text });
    this.deps.bus.publish('turn.draft', session.id, { session_id: session.id, request_id: id, transcript, draft: p.draft.text, holder: this.info(p) });
  }

  private onDeadline(p: Pending): void {
    p.timer = null;
    if (p.state !== 'live' || !this.byId.has(p.id)) return;
    if (this.isTyping(p.session.id, p.client)) return this.holdOn(p);
    if (p.mode === 'draft' && p.draft.state === 'pending') {
      // the draft is the local model's answer: wait for it rather than start another, but only while
      // the phone still has time for its synthesis
      p.draftOverdue = true;
      p.timer = setTimeout(() => this.draftTooLate(p), Math.max(0, p.budgetEndAt - Date.now()));
      return;
    }
    this.timeout(p);
  }

  /** The draft is not written by the end of the phone's budget: the holding phrase now, the draft on the next poll. */
  private draftTooLate(p: Pending): void {
    p.timer = null;
    if (p.state !== 'live' || !this.byId.has(p.id) || p.draft.state !== 'pending') return;
    this.deps.logger?.warn({ session_id: p.session.id, request_id: p.id }, 'draft not written within the phone\'s time budget: holding phrase');
    this.holdOn(p);
  }

  /** A draft that arrived after the holding phrase and was not approved: spoken as proposed on the next poll. */
  private async lateDraft(p: Pending): Promise<void> {
    if (!this.byId.has(p.id)) return;
    const text = safeText(p.draft.text);
    if (!text) return this.close(p, 'timed out');
    const detail = `the draft was not approved within ${secs(p.deadlineMs)} s: it is spoken on the caller's next turn`;
    p.client.send({ type: 'turn.timeout', session_id: p.session.id, request_id: p.id, fallback: 'draft', detail });
    this.deps.bus.publish('turn.timeout', p.session.id, { session_id: p.session.id, request_id: p.id, holder: this.info(p), fallback: 'draft' });
    this.close(p, 'timed out');
    if (p.generation !== p.session.generation || p.session.ended) return;
    await queueSpeech(this.deps, p.session, text, `local:${this.deps.llmLabel()}`);
  }

  /** True timeout: the local model answers (draft mode: the proposal is spoken as it is). */
  private timeout(p: Pending): void {
    const draft = p.mode === 'draft' && p.draft.state === 'ready' && safeText(p.draft.text) !== '';
    const detail = draft
      ? `the draft was not approved within ${secs(p.deadlineMs)} s: it is spoken as proposed`
      : `no reply within ${secs(p.deadlineMs)} s: the local model answers this turn`;
    const fallback = draft ? 'draft' : 'local';
    p.client.send({ type: 'turn.timeout', session_id: p.session.id, request_id: p.id, fallback, detail });
    this.deps.bus.publish('turn.timeout', p.session.id, { session_id: p.session.id, request_id: p.id, holder: this.info(p), fallback });
    this.deps.calls.notify('callEvent', p.session.summaryView(), 'turn.timeout', { request_id: p.id, holder: this.info(p), fallback });
    this.finish(p, draft ? { kind: 'reply', text: p.draft.text, producer: `local:${this.deps.llmLabel()}` } : { kind: 'fallback', reason: 'timeout' }, 'timed out');
  }

  /** The holder is typing past the deadline: the phone hears the holding phrase, the request stays open. */
  private holdOn(p: Pending): void {
    const text = this.deps.config().holding_phrase;
    p.state = 'held';
    const settle = p.settle;
    p.settle = null;
    p.detach();
    settle?.({ kind: 'holding', text });
    p.client.send({ type: 'turn.holding', session_id: p.session.id, request_id: p.id, text });
    this.deps.bus.publish('turn.holding', p.session.id, { session_id: p.session.id, request_id: p.id, holder: this.info(p), text });
    this.deps.calls.notify('callEvent', p.session.summaryView(), 'turn.holding', { request_id: p.id, holder: this.info(p) });
  }

  /** Resolve a live request and forget it. */
  private finish(p: Pending, reply: BrokerReply, why: string): void {
    const settle = p.settle;
    this.close(p, why);
    settle?.(reply);
  }

  private close(p: Pending, why: string): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    p.settle = null;
    p.detach();
    this.byId.delete(p.id);
    const set = this.bySession.get(p.session.id);
    set?.delete(p);
    if (set && set.size === 0) this.bySession.delete(p.session.id);
    this.closed.set(p.id, why);
    if (this.closed.size > CLOSED_MEMORY) this.closed.delete(this.closed.keys().next().value as string);
  }

  /** Close a request nobody can answer any more; a live turn falls back to the local model now. */
  private cancel(p: Pending, reason: CancelReason): void {
    if (!this.byId.has(p.id)) return;
    const fallback: BrokerReply = {
      kind: 'fallback',
      reason: reason === 'ended' ? 'ended' : reason === 'released' || reason === 'taken_over' ? 'released' : 'disconnected',
    };
    const frame: OutboundFrame = { type: 'turn.cancelled', session_id: p.session.id, request_id: p.id, reason };
    if (p.client.connected) p.client.send(frame);
    this.deps.bus.publish('turn.cancelled', p.session.id, { session_id: p.session.id, request_id: p.id, reason });
    this.finish(p, fallback, `cancelled: ${reason}`);
  }

  private requestsOf(sid: string): Pending[] {
    return [...(this.bySession.get(sid) ?? [])];
  }

  // ------------------------------------------------------------------ holding a call

  /** The refusal for a call that is not in memory: ended (and forgotten) or never known. */
  private missing(sid: string) {
    return this.deps.calls.isEnded(sid) ? refuse('session_ended', `call ${sid} has ended`) : refuse('unknown_session', `unknown session ${sid}`);
  }

  takeover(client: AgentClient, sid: string, mode: HoldMode = 'takeover'): CmdResult<{ session_id: string; mode: HoldMode; agent: string; previous: { kind: string; name: string } | null }> {
    const s = this.deps.calls.get(sid);
    if (!s) return this.missing(sid);
    if (s.ended) return refuse('session_ended', `call ${sid} has ended`);
    const prevHold = this.holds.get(sid);
    const prev = prevHold && prevHold.client.connected && prevHold.client !== client ? prevHold.client : null;
    this.holds.set(sid, { client, mode });
    s.holder = { kind: client.kind, name: client.name, mode };
    if (prev) {
      this.stopTyping(sid, prev);
      prev.send({ type: 'takeover.lost', session_id: sid, reason: 'taken_over', by: { kind: client.kind, name: client.name } });
    }
    for (const p of this.requestsOf(sid)) {
      if (p.client === client) {
        if (p.mode !== mode && p.state === 'live') {
          p.mode = mode;
          if (mode === 'draft') this.startDraft(p);
        }
      } else if (p.state === 'live') {
        // last takeover wins: the caller's waiting turn goes to the new holder
        p.client = client;
        p.mode = mode;
        this.announce(p);
      } else this.cancel(p, 'taken_over');
    }
    const previous = prev ? { kind: prev.kind, name: prev.name } : null;
    this.deps.bus.publish('agent.takeover', sid, { session_id: sid, agent: client.name, kind: client.kind, mode, previous });
    this.deps.calls.notify('callEvent', s.summaryView(), 'agent.takeover', { agent: client.name, kind: client.kind, mode, previous });
    this.deps.calls.updated(s);
    return { ok: true, session_id: sid, mode, agent: client.name, previous };
  }

  release(client: AgentClient, sid: string): CmdResult<{ session_id: string }> {
    const h = this.holds.get(sid);
    if (!h || !h.client.connected) return refuse('not_taken_over', `call ${sid} is not taken over`);
    if (h.client !== client) return refuse('not_holder', `call ${sid} is held by ${producerOf(h.client)}`);
    this.dropHold(sid, 'released');
    return { ok: true, session_id: sid };
  }

  private dropHold(sid: string, reason: 'released' | 'disconnected' | 'ended'): void {
    const h = this.holds.get(sid);
    if (!h) return;
    this.holds.delete(sid);
    this.typingUntil.delete(sid);
    for (const p of this.requestsOf(sid)) this.cancel(p, reason);
    if (reason === 'ended' && h.client.connected) h.client.send({ type: 'takeover.lost', session_id: sid, reason: 'ended', by: null });
    this.deps.bus.publish('agent.release', sid, { session_id: sid, agent: h.client.name, kind: h.client.kind, reason });
    const s = this.deps.calls.get(sid);
    if (s && !s.ended) {
      s.holder = null;
      this.deps.calls.notify('callEvent', s.summaryView(), 'agent.release', { agent: h.client.name, kind: h.client.kind, reason });
      this.deps.calls.updated(s);
    }
  }

  /** The call ended (hook of the call manager): its takeover and every request of it end too. */
  sessionEnded(s: Session): void {
    if (this.holds.has(s.id)) this.dropHold(s.id, 'ended');
    for (const p of this.requestsOf(s.id)) this.cancel(p, 'ended');
    this.typingUntil.delete(s.id);
  }

  /** A client went away: it releases everything at once; its waiting turns fall back now. */
  clientGone(client: AgentClient): void {
    for (const sid of this.heldBy(client)) this.dropHold(sid, 'disconnected');
    for (const [sid, m] of this.typingUntil) {
      m.delete(client.id);
      if (m.size === 0) this.typingUntil.delete(sid);
    }
  }

  /** A client renamed itself (`hello`): the calls it holds say so. */
  clientRenamed(client: AgentClient): void {
    for (const sid of this.heldBy(client)) {
      const s = this.deps.calls.get(sid);
      const h = this.holds.get(sid)!;
      if (s && !s.ended) {
        s.holder = { kind: client.kind, name: client.name, mode: h.mode };
        this.deps.calls.updated(s);
      }
    }
  }

  // ------------------------------------------------------------------ typing

  typing(client: AgentClient, sid: string, on: boolean): CmdResult<{ session_id: string; typing: boolean }> {
    const s = this.deps.calls.get(sid);
    if (!s) return this.missing(sid);
    if (s.ended) return refuse('session_ended', `call ${sid} has ended`);
    const was = this.isTyping(sid, client);
    if (on) {
      let m = this.typingUntil.get(sid);
      if (!m) this.typingUntil.set(sid, (m = new Map()));
      m.set(client.id, Date.now() + this.deps.config().operator_typing_ttl_sec * 1000);
    } else this.clearTyping(sid, client);
    if (was !== on) this.publishTyping(sid, client, on);
    return { ok: true, session_id: sid, typing: on };
  }

  private publishTyping(sid: string, client: AgentClient, on: boolean): void {
    this.deps.bus.publish('operator.typing', sid, { session_id: sid, agent: client.name, kind: client.kind, typing: on });
  }

  /** The client's typing ended because it sent its reply or lost the call: everyone watching is told. */
  private stopTyping(sid: string, client: AgentClient): void {
    const was = this.isTyping(sid, client);
    this.clearTyping(sid, client);
    if (was) this.publishTyping(sid, client, false);
  }

  isTyping(sid: string, client: AgentClient): boolean {
    const until = this.typingUntil.get(sid)?.get(client.id);
    return until !== undefined && until > Date.now();
  }

  private clearTyping(sid: string, client: AgentClient): void {
    const m = this.typingUntil.get(sid);
    if (!m?.delete(client.id)) return;
    if (m.size === 0) this.typingUntil.delete(sid);
  }

  // ------------------------------------------------------------------ replies

  /**
   * The holder answers request `requestId`. Settles a live turn synchronously (before any await), so
   * the phone's turn goes on to synthesis at once. After the holding phrase the reply answers the
   * call's newer waiting turn if there is one, else it is queued for the next poll. An empty reply
   * hands the turn to the local model.
   */
  async reply(client: AgentClient, requestId: string, raw: string, producer = producerOf(client)): Promise<ReplyResult> {
    const p = this.byId.get(requestId);
    if (!p) return this.notPending(client, requestId);
    if (p.client !== client) return refuse('not_holder', `only the holder of call ${p.session.id} (${producerOf(p.client)}) can answer this request`);
    const sid = p.session.id;
    this.stopTyping(sid, client);
    const text = safeText(raw);
    if (!text) {
      if (p.state === 'live') {
        this.finish(p, { kind: 'fallback', reason: 'rejected' }, 'declined: the local model answered');
        return { ok: true, request_id: p.id, delivery: 'local' };
      }
      this.close(p, 'declined');
      return { ok: true, request_id: p.id, delivery: 'none' };
    }
    const live = p.state === 'live' ? p : this.requestsOf(sid).find((x) => x.state === 'live' && x.client === client);
    const held = this.requestsOf(sid).filter((x) => x.state === 'held' && x.client === client);
    if (live) {
      this.finish(live, { kind: 'reply', text, producer }, 'answered');
      for (const h of held) this.close(h, 'answered');
      return { ok: true, request_id: live.id, delivery: 'spoken' };
    }
    for (const h of held) this.close(h, 'answered');
    if (p.generation !== p.session.generation || p.session.ended) return refuse('session_ended', `call ${sid} ended or was reset; the reply was dropped`);
    const q = await queueSpeech(this.deps, p.session, text, producer);
    return q.ok ? { ok: true, request_id: p.id, delivery: 'queued' } : q;
  }

  private notPending(client: AgentClient, requestId: string): ReplyResult {
    const why = this.closed.get(requestId);
    if (!why) return refuse('unknown_request', `unknown request_id ${requestId}`);
    this.deps.logger?.info({ request_id: requestId, agent: producerOf(client), why }, 'late takeover reply dropped');
    return refuse('not_pending', `request ${requestId} is no longer pending (${why}); the reply was dropped`);
  }

  /** A reply by call rather than by request: the waiting turn, else the newest held one, else queued speech. */
  async replyToSession(client: AgentClient, sid: string, raw: string, requestId?: string): Promise<ReplyResult> {
    if (requestId) return this.reply(client, requestId, raw);
    const s = this.deps.calls.get(sid);
    if (!s) return this.missing(sid);
    if (s.ended) return refuse('session_ended', `call ${sid} has ended`);
    const h = this.holds.get(sid);
    if (!h || !h.client.connected) return refuse('not_taken_over', `call ${sid} is not taken over: take it over first or use "say"`);
    if (h.client !== client) return refuse('not_holder', `call ${sid} is held by ${producerOf(h.client)}`);
    const mine = this.requestsOf(sid).filter((x) => x.client === client);
    const target = mine.find((x) => x.state === 'live') ?? mine[mine.length - 1];
    if (target) return this.reply(client, target.id, raw);
    const text = safeText(raw);
    if (!text) return refuse('invalid', 'reply text required');
    const q = await queueSpeech(this.deps, s, text, producerOf(client));
    return q.ok ? { ok: true, request_id: '', delivery: 'queued' } : q;
  }

  /** Draft mode: speak the proposal (`text` absent or unchanged → `local:<model>`) or the holder's edit. */
  async approve(client: AgentClient, ref: { requestId?: string; sessionId?: string }, edited?: string): Promise<ReplyResult> {
    let p: Pending | undefined;
    if (ref.requestId) {
      p = this.byId.get(ref.requestId);
      if (!p) return this.notPending(client, ref.requestId);
    } else {
      const mine = this.requestsOf(ref.sessionId ?? '').filter((x) => x.client === client);
      p = mine.find((x) => x.state === 'live') ?? mine[mine.length - 1];
      if (!p) return refuse('unknown_request', `no request is waiting for you on call ${ref.sessionId}`);
    }
    if (p.client !== client) return refuse('not_holder', `only the holder of call ${p.session.id} (${producerOf(p.client)}) can approve its draft`);
    const own = edited !== undefined ? safeText(edited) : '';
    if (own && (p.draft.state !== 'ready' || own !== safeText(p.draft.text))) return this.reply(client, p.id, own);
    if (p.draft.state !== 'ready' || !safeText(p.draft.text)) {
      return refuse('no_draft', p.draft.state === 'pending' ? 'the draft is still being written' : 'there is no draft to approve for this request');
    }
    this.deps.calls.notify('callEvent', p.session.summaryView(), 'turn.draft_approved', { request_id: p.id, by: producerOf(client) });
    return this.reply(client, p.id, p.draft.text, `local:${this.deps.llmLabel()}`);
  }

  /** On shutdown: every waiting turn falls back, timers stop. */
  stop(): void {
    for (const p of [...this.byId.values()]) this.cancel(p, 'disconnected');
  }
}

