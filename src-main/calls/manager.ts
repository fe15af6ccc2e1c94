/**
 * The call registry: creates, resets and ends sessions, runs the TTL / max-duration sweep on its own
 * timer (upstream only swept when a turn arrived — spec §16 #28), resolves default sessions, keeps
 * caller memory, and tells observers (store, console, takeover broker) about every step.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AppConfig } from '../../src-shared/config/schema';
import { numberKey } from '../../src-shared/text/phone-number';
import type { EventBus } from '../events/bus';
import { PendingDials } from './pending-dials';
import { Session, type SessionSource } from './session';
import type { CallerMemory, CallObserver, EndReason, ReplyCut } from './types';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isSafeSessionId(id: string): boolean {
  return SAFE_ID.test(id);
}

export function newSessionId(): string {
  return randomUUID().replace(/-/g, '');
}

/** Ends what the model is told it said when the caller cut its reply short. */
export const INTERRUPTED_MARK = '…';

/**
 * The assistant message that replaces a reply cut by barge-in in the LLM history: the heard words
 * followed by "…", or "…" alone when the caller heard none of it. The message is kept (rather than
 * dropped) so user and assistant turns still alternate, which chat templates expect.
 */
export function interruptedReplyText(heardText: string): string {
  const heard = heardText.trim();
  return heard ? `${heard}${INTERRUPTED_MARK}` : INTERRUPTED_MARK;
}

export interface CallManagerOptions {
  bus: EventBus;
  config: () => AppConfig;
  callerMemory: CallerMemory;
  logger?: Logger;
  /** ended sessions kept in memory for status queries (older ones are forgotten, their ids still refuse turns) */
  keepEnded?: number;
}

export class CallManager {
  private readonly sessions = new Map<string, Session>();
  /** ids of ended calls (bounded), so a late turn still gets a hang-up */
  private readonly endedIds = new Map<string, number>();
  private readonly observers: CallObserver[] = [];
  private readonly endHooks: ((s: Session, reason: EndReason) => void)[] = [];
  private readonly announced = new WeakSet<Session>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly keepEnded: number;
  /** options of placed calls, applied when the phone connects them (see pending-dials.ts) */
  readonly dials = new PendingDials();

  constructor(private readonly opts: CallManagerOptions) {
    this.keepEnded = opts.keepEnded ?? 500;
  }

  get callerMemory(): CallerMemory {
    return this.opts.callerMemory;
  }

  /** Replace the caller memory (the store provides a persistent one). */
  useCallerMemory(m: CallerMemory): void {
    this.opts.callerMemory = m;
  }

  addObserver(o: CallObserver): void {
    this.observers.push(o);
  }

  /** Called synchronously when a call ends, before observers (takeover broker, LLM KV release). */
  onEnded(fn: (s: Session, reason: EndReason) => void): void {
    this.endHooks.push(fn);
  }

  /**
   * Tell every observer, synchronously and in order. An observer may finish later (the store
   * committing a turn once its recordings are written): nobody waits, a failure is logged.
   */
  notify<K extends keyof CallObserver>(kind: K, ...args: Parameters<NonNullable<CallObserver[K]>>): void {
    const failed = (e: unknown) => void this.opts.logger?.error({ err: e, observer: kind }, 'call observer failed');
    for (const o of this.observers) {
      const f = o[kind] as ((...a: unknown[]) => unknown) | undefined;
      if (!f) continue;
      try {
        const r = f.apply(o, args);
        if (r instanceof Promise) r.catch(failed);
      } catch (e) {
        failed(e);
      }
    }
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  isEnded(id: string): boolean {
    return this.endedIds.has(id) || this.sessions.get(id)?.ended === true;
  }

  /** Get or create the session for an id. Does not announce it (see `announce`). */
  ensure(id: string, source: SessionSource): Session {
    let s = this.sessions.get(id);
    if (!s) {
      s = new Session(id);
      s.source = source;
      if (source === 'mock') s.direction = 'mock';
      this.sessions.set(id, s);
    }
    return s;
  }

  /** Publish `session.started` and tell observers, once per call (after caller info is known). */
  announce(s: Session): void {
    if (this.announced.has(s)) return;
    this.announced.add(s);
    this.opts.bus.publish('session.started', s.id, s.summaryView() as unknown as Record<string, unknown>);
    this.notify('callStarted', s.summaryView());
  }

  /** Tell everyone the call's visible state changed (holder, caller info, latency). */
  updated(s: Session): void {
    if (!this.announced.has(s)) return;
    this.opts.bus.publish('session.updated', s.id, s.summaryView() as unknown as Record<string, unknown>);
    this.notify('callUpdated', s.summaryView());
  }

  /** New call on the same id (spec §8.5): saves caller memory of the previous call, wipes state. */
  reset(s: Session): void {
    const cfg = this.opts.config();
    if (this.announced.has(s) && !s.ended) {
      // the previous call on this id is over: close it properly in history
      this.finish(s, 'new_call', false);
    } else if (!s.ended && cfg.keep_history && s.history.length) {
      // an ended call saved its caller memory when it ended; saving again would count the call twice
      this.saveCallerMemory(s);
    }
    this.endedIds.delete(s.id);
    this.announced.delete(s);
    s.resetState();
  }

  /**
   * Barge-in: the caller spoke over a reply, so only `heard_text` of it was heard. In the session's
   * LLM history the most recent assistant message equal to the full reply becomes the heard part
   * plus "…" (see `interruptedReplyText`), so the next turn knows the caller missed the rest (no
   * such message — a greeting, or compacted away — leaves the history as it is). Publishes
   * `turn.interrupted` and tells observers (the store keeps the heard text with the turn).
   * Returns false, doing nothing, for an unknown session or when the whole reply was heard.
   */
  replyInterrupted(sessionId: string, cut: ReplyCut): boolean {
    const s = this.sessions.get(sessionId);
    if (!s) return false;
    const full = cut.reply.trim();
    const heard = cut.heard_text.trim();
    if (!full || heard.length >= full.length) return false;
    for (let i = s.history.length - 1; i >= 0; i--) {
      const m = s.history[i];
      if (m.role === 'assistant' && m.content.trim() === full) {
        // a new object: a compaction that snapshotted the old one sees the history changed and keeps it
        s.history[i] = { role: 'assistant', content: interruptedReplyText(heard) };
        break;
      }
    }
    const data: ReplyCut = { ...cut, heard_text: heard };
    this.opts.bus.publish('turn.interrupted', s.id, { session_id: s.id, ...data });
    this.notify('replyInterrupted', s.summaryView(), data);
    return true;
  }

  /**
   * End a call. Returns false when unknown or already ended (upstream semantics of end-session).
   * Publishes `session.ended {session_id, reason}`.
   */
  end(id: string, reason: EndReason): boolean {
    const s = this.sessions.get(id);
    if (!s || s.ended) return false;
    this.finish(s, reason, true);
    return true;
  }

  private finish(s: Session, reason: EndReason, publish: boolean): void {
    s.state = 'ended';
    s.endedAt = Date.now() / 1000;
    s.endReason = reason;
    s.generation++;
    if (this.opts.config().keep_history && s.number) this.saveCallerMemory(s);
    s.sessionInstruction = '';
    s.turnInstruction = '';
    s.knowledge = '';
    s.injects = [];
    for (const h of this.endHooks) {
      try {
        h(s, reason);
      } catch (e) {
        this.opts.logger?.error({ err: e }, 'call end hook failed');
      }
    }
    s.holder = null;
    this.endedIds.set(s.id, s.endedAt);
    if (publish) this.opts.bus.publish('session.ended', s.id, { session_id: s.id, reason });
    if (this.announced.has(s)) this.notify('callEnded', s.summaryView());
    this.evict();
  }

  private saveCallerMemory(s: Session): void {
    const key = s.memoryKey ?? numberKey(s.number);
    if (!key) return;
    try {
      this.opts.callerMemory.save(key, s.history, s.summary);
      // found under the key an earlier version wrote: it now lives under the E.164 key only
      if (s.memoryLegacyKey && s.memoryLegacyKey !== key) this.opts.callerMemory.delete(s.memoryLegacyKey);
    } catch (e) {
      this.opts.logger?.error({ err: e }, 'saving caller memory failed');
    }
  }

  private evict(): void {
    const ended = [...this.sessions.values()].filter((s) => s.ended);
    if (ended.length > this.keepEnded) {
      ended.sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0));
      for (const s of ended.slice(0, ended.length - this.keepEnded)) this.sessions.delete(s.id);
    }
    if (this.endedIds.size > 10 * this.keepEnded + 1000) {
      const drop = this.endedIds.size - 10 * this.keepEnded;
      let i = 0;
      for (const k of this.endedIds.keys()) {
        if (i++ >= drop) break;
        this.endedIds.delete(k);
      }
    }
  }

  /** Active sessions in creation order. */
  active(): Session[] {
    return [...this.sessions.values()].filter((s) => !s.ended).sort((a, b) => a.createdAt - b.createdAt);
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  mostRecentActive(): Session | undefined {
    return this.active().sort((a, b) => b.lastActivity - a.lastActivity)[0];
  }

  oldestActive(): Session | undefined {
    return this.active()[0];
  }

  /** End sessions idle past `session_ttl` and calls past the max duration. Returns the ended ids. */
  sweep(now = Date.now() / 1000): string[] {
    const cfg = this.opts.config();
    const out: string[] = [];
    for (const s of this.active()) {
      if (now - s.lastActivity > cfg.session_ttl) {
        this.end(s.id, 'stale');
        out.push(s.id);
      } else if (cfg.max_duration_sec > 0 && s.source === 'phone' && now - s.createdAt > cfg.max_duration_sec + cfg.max_duration_grace_sec) {
        this.end(s.id, 'max_duration');
        out.push(s.id);
      }
    }
    return out;
  }

  startSweeper(intervalMs = 30_000): void {
    this.stopSweeper();
    this.sweepTimer = setInterval(() => {
      try {
        this.sweep();
      } catch (e) {
        this.opts.logger?.error({ err: e }, 'session sweep failed');
      }
    }, intervalMs);
    this.sweepTimer.unref();
  }

  /** the TTL / max-duration sweep runs on its own timer (started by the app) */
  get sweeperRunning(): boolean {
    return this.sweepTimer !== null;
  }

  stopSweeper(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** On shutdown: end every live call so history shows why. */
  endAll(reason: EndReason): void {
    for (const s of this.active()) this.end(s.id, reason);
  }
}
