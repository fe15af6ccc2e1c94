/**
 * What agents and operators can do to calls, shared by the agent WebSocket and the REST routes:
 * dial / hang up (through the phone bridge), inject speech, call state, knowledge and instruction
 * layers, agent-allowed call config, end session, steer. Default sessions follow spec §8.11 but only
 * ever pick calls that are still active.
 */
import { ConfigError, type AppConfig } from '../../src-shared/config/schema';
import type { RefusalReason, SteerScope } from '../../src-shared/protocol/agent';
import { dialableNumber } from '../../src-shared/text/phone-number';
import { safeText } from '../../src-shared/text/sanitize';
import type { DialOptions } from '../calls/pending-dials';
import type { Session } from '../calls/session';
import type { CallControl } from '../phone/call-control';
import { callConfigView } from '../gateway/routes/config';
import { queueSpeech } from './speech-queue';
import type { TakeoverBroker } from './takeover';
import { refuse, type AgentDeps, type CmdResult } from './types';

/** Which call a command without a session id means (spec §8.11). */
export type DefaultRule = 'most_recent' | 'oldest' | 'single';

/** `set_call_config` keys an agent may change (spec §7.2); the security keys are excluded. */
export const AGENT_CALL_KEYS = [
  'call_auto_answer', 'call_auto_answer_delay_ms', 'greeting_incoming', 'greeting_outgoing', 'greeting_owner',
  'max_duration_sec', 'max_duration_message', 'keep_history', 'tts_voice', 'tts_speed',
] as const;
const CALL_KEY_ALIASES: Record<string, string> = { auto_answer: 'call_auto_answer', auto_answer_delay_ms: 'call_auto_answer_delay_ms' };

export interface CommandDeps extends AgentDeps {
  phone: CallControl;
  /** validate, apply and save a config patch (throws ConfigError) */
  updateConfig: (patch: Record<string, unknown>) => AppConfig;
}

export interface DialResult {
  ok: boolean;
  detail: string;
  number?: string;
  /** the phone that placed the call */
  device?: string;
  /** the greeting / instructions the call will get when it connects */
  greeting?: string;
  instructions?: string;
}

export interface CallState {
  session_id: string;
  status: 'active' | 'ended' | 'unknown';
  ended_at: number | null;
  history: { role: string; content: string }[];
  turn_count: number;
  instructions: { base: string; session: string; pending_turn: string };
  agent_takeover: boolean;
  holder: ReturnType<TakeoverBroker['holderInfo']>;
  created_at: number | null;
}

export class AgentCommands {
  constructor(private readonly deps: CommandDeps, private readonly broker: TakeoverBroker) {}

  /** An explicit id must name a call that is still active; no id → the rule's default call. */
  session(sid: string | undefined, rule: DefaultRule): CmdResult<{ session: Session }> {
    const { calls } = this.deps;
    const id = safeText(sid ?? '');
    if (id) {
      const s = calls.get(id);
      if (!s) return calls.isEnded(id) ? refuse('session_ended', `call ${id} has ended`) : refuse('unknown_session', `unknown session ${id}`);
      if (s.ended) return refuse('session_ended', `call ${id} has ended`);
      return { ok: true, session: s };
    }
    const active = calls.active();
    const s = rule === 'most_recent' ? calls.mostRecentActive() : rule === 'oldest' ? active[0] : active.length === 1 ? active[0] : undefined;
    if (!s) return refuse('no_active_session', rule === 'single' && active.length > 1 ? `${active.length} calls are active: name one with session_id` : 'no active session');
    return { ok: true, session: s };
  }

  // ------------------------------------------------------------------ phone

  /**
   * Place a call. `opts` (ours) pick the phone and set a greeting and instructions for this call; they
   * wait in `calls.dials` until the phone connects the call. The result echoes what will be applied.
   */
  async dial(raw: string, opts: DialOptions = {}): Promise<DialResult> {
    const v = dialableNumber(raw);
    if (!v.ok) return { ok: false, detail: v.detail };
    const serial = safeText(opts.serial ?? '') || undefined;
    const greeting = safeText(opts.greeting ?? '') || undefined;
    const instructions = safeText(opts.instructions ?? '') || undefined;
    let r;
    try {
      r = await this.deps.phone.dial(v.number, serial ? { serial } : undefined);
    } catch (e) {
      return { ok: false, detail: `Dial failed: ${(e as Error).message}` };
    }
    if (!r.ok) return { ok: false, detail: r.detail };
    const device = r.serial ?? serial;
    this.deps.calls.dials.add(v.number, { serial: device, greeting, instructions });
    // upstream's event is `{number}`; ours adds what applies, without repeating the texts
    this.deps.bus.publish('call.dial', '', { number: v.number, ...(device ? { device } : {}), ...(greeting ? { with_greeting: true } : {}), ...(instructions ? { with_instructions: true } : {}) });
    return {
      ok: true, detail: r.detail, number: v.number,
      ...(device ? { device } : {}), ...(greeting ? { greeting } : {}), ...(instructions ? { instructions } : {}),
    };
  }

  /**
   * Upstream hangup: the phone hangs up; only when it did, the named call (or the only active one)
   * ends. `force` (the operator's hang up) ends the call even when the phone bridge failed — the
   * phone then hangs up on its next poll, which gets `hangup: true`.
   */
  async hangup(sid?: string, force = false): Promise<{ ok: boolean; detail: string; session_id?: string; reason?: RefusalReason; phone?: { ok: boolean; detail: string } }> {
    const only = this.session(undefined, 'single');
    const target = safeText(sid ?? '') || (only.ok ? only.session.id : '');
    const serial = target ? this.deps.calls.get(target)?.device ?? undefined : undefined;
    let phone: { ok: boolean; detail: string };
    try {
      const r = await this.deps.phone.hangup(serial ? { serial } : undefined);
      phone = { ok: r.ok, detail: r.detail };
    } catch (e) {
      phone = { ok: false, detail: `Hangup failed: ${(e as Error).message}` };
    }
    if (force) {
      if (!target) return { ok: false, reason: 'no_active_session', detail: only.ok ? 'no active session' : only.detail, phone };
      if (!this.deps.calls.end(target, 'hangup')) {
        const known = !!this.deps.calls.get(target) || this.deps.calls.isEnded(target);
        return { ok: false, reason: known ? 'session_ended' : 'unknown_session', detail: known ? `call ${target} has already ended` : `unknown session ${target}`, session_id: target, phone };
      }
      if (phone.ok) this.deps.bus.publish('call.hangup', '', { ...phone, session_id: target });
      return { ok: true, detail: phone.ok ? phone.detail : 'call ended; the phone hangs up on its next turn', session_id: target, phone };
    }
    const result: { ok: boolean; detail: string; session_id?: string } = { ...phone };
    if (phone.ok) {
      if (target) {
        this.deps.calls.end(target, 'hangup');
        result.session_id = target;
      }
      this.deps.bus.publish('call.hangup', '', { ...result });
    }
    return result;
  }

  // ------------------------------------------------------------------ speech

  async inject(rawText: string, sid: string | undefined, rule: DefaultRule, producer = 'inject'): Promise<CmdResult<{ tts_ms: number; session_id: string }>> {
    const text = safeText(rawText);
    if (!text) return refuse('invalid', 'text required');
    const r = this.session(sid, rule);
    if (!r.ok) return r;
    return queueSpeech(this.deps, r.session, text, producer);
  }

  // ------------------------------------------------------------------ state and layers

  callState(sid: string): CallState {
    const { calls } = this.deps;
    const s = calls.get(sid);
    const cfg = this.deps.config();
    const holder = this.broker.holderInfo(sid);
    return {
      session_id: sid,
      status: s ? (s.ended ? 'ended' : 'active') : calls.isEnded(sid) ? 'ended' : 'unknown',
      ended_at: s?.endedAt ?? null,
      history: s ? s.history.map((m) => ({ role: m.role, content: m.content })) : [],
      turn_count: s?.turnCount ?? 0,
      instructions: { base: cfg.llm_system_prompt, session: s?.sessionInstruction ?? '', pending_turn: s?.turnInstruction ?? '' },
      agent_takeover: holder !== null,
      holder,
      created_at: s?.createdAt ?? null,
    };
  }

  /** Replace the call's knowledge (single slot). No lock needed: prompts are built synchronously. */
  setKnowledge(sid: string, raw: string): CmdResult<{ session_id: string }> {
    const context = safeText(raw);
    if (!context) return refuse('invalid', 'context is required');
    const r = this.session(sid, 'most_recent');
    if (!r.ok) return r;
    r.session.knowledge = context;
    this.deps.bus.publish('agent.context_injected', r.session.id, { session_id: r.session.id });
    return { ok: true, session_id: r.session.id };
  }

  clearKnowledge(sid: string): CmdResult<{ session_id: string }> {
    const s = this.deps.calls.get(sid);
    if (s) s.knowledge = '';
    this.deps.bus.publish('agent.context_cleared', sid, { session_id: sid });
    return { ok: true, session_id: sid };
  }

  /** WS `set_instructions` with upstream's exact refusals. */
  setInstructions(scopeRaw: string | undefined, sid: string | undefined, text: string): { ok: boolean; scope?: string; error?: string; reason?: string } {
    const scope = scopeRaw ?? 'turn';
    if (scope === 'global') return { ok: false, error: 'Global scope disabled. Use session or turn scope.' };
    if (!sid || (scope !== 'session' && scope !== 'turn')) return { ok: false, error: 'Missing session_id for session/turn scope.' };
    const r = this.session(sid, 'single');
    if (!r.ok) return { ok: false, error: r.detail, reason: r.reason };
    if (scope === 'session') r.session.sessionInstruction = text;
    else r.session.turnInstruction = text;
    this.deps.bus.publish('instructions.updated', '', { scope, session_id: r.session.id });
    return { ok: true, scope };
  }

  /** Steer without taking over: a one-shot turn instruction, the call's instruction, or its knowledge. */
  steer(sid: string, raw: string, scope: SteerScope, append = false): CmdResult<{ session_id: string; scope: SteerScope }> {
    const r = this.session(sid, 'single');
    if (!r.ok) return r;
    const s = r.session;
    const join = (prev: string, next: string, sep: string) => (append && prev && next ? `${prev}${sep}${next}` : next);
    if (scope === 'knowledge') {
      s.knowledge = join(s.knowledge, safeText(raw), ' ');
      this.deps.bus.publish(s.knowledge ? 'agent.context_injected' : 'agent.context_cleared', s.id, { session_id: s.id });
    } else {
      const text = raw.trim();
      if (scope === 'turn') s.turnInstruction = join(s.turnInstruction, text, '\n');
      else s.sessionInstruction = join(s.sessionInstruction, text, '\n');
      this.deps.bus.publish('instructions.updated', s.id, { scope, session_id: s.id });
    }
    return { ok: true, session_id: s.id, scope };
  }

  /** Agent-allowed call settings only (spec §7.2); values are validated, the rest is reported as ignored. */
  setCallConfig(config: Record<string, unknown>): CmdResult<{ applied: string[]; ignored: string[] }> {
    const patch: Record<string, unknown> = {};
    const ignored: string[] = [];
    for (const [k, v] of Object.entries(config)) {
      const key = CALL_KEY_ALIASES[k] ?? k;
      if ((AGENT_CALL_KEYS as readonly string[]).includes(key)) patch[key] = v;
      else ignored.push(k);
    }
    let cfg;
    try {
      cfg = this.deps.updateConfig(patch);
    } catch (e) {
      if (e instanceof ConfigError) return refuse('invalid', e.message);
      throw e;
    }
    this.deps.bus.publish('config.call_updated', '', callConfigView(cfg));
    return { ok: true, applied: Object.keys(patch), ignored };
  }

  endSession(sid: string | undefined): { ok: boolean; session_id?: string } {
    const id = safeText(sid ?? '');
    if (!id) return { ok: false };
    return { ok: this.deps.calls.end(id, 'ended_by_api'), session_id: id };
  }
}
