/**
 * The phone's call state, followed from the app's logcat (`BridgeInCallService state=…`, the dial and
 * hang-up confirmations, the assistant's own hang-up reasons) and from `dumpsys telephony.registry`
 * (mCallState 0 idle, 1 ringing, 2 off-hook). The phone never tells the gateway a call ended (phone
 * spec §8.1), so this is how the gateway learns it — with a reason.
 */
import { EventEmitter } from 'node:events';
import { numberKey } from '../../src-shared/text/phone-number';
import type { LogLine } from './logcat';
import type { PhoneCall, PhoneCallDirection as CallDirection, PhoneCallPhase as CallPhase } from '../../src-shared/protocol/devices';

export type { PhoneCallPhase as CallPhase, PhoneCallDirection as CallDirection } from '../../src-shared/protocol/devices';

export type CallEndReason =
  /** our hangup command ended it */
  | 'hangup_command'
  /** the other party or the person at the phone hung up */
  | 'ended_on_phone'
  /** the app's max-duration timer */
  | 'max_duration'
  /** the app's silence watchdog */
  | 'silence_timeout'
  /** the gateway answered `hangup:true` */
  | 'gateway_hangup'
  /** the gateway answered `rejected:true` */
  | 'gateway_rejected'
  /** an incoming call the app (or a reject command) declined */
  | 'rejected'
  /** it ended before it was ever answered */
  | 'not_answered'
  /** the phone was unplugged during the call and was idle when it came back */
  | 'ended_while_disconnected';

/** The phone's call state (the wire shape). */
export type CallInfo = PhoneCall;

export interface CallEnded {
  serial: string;
  reason: CallEndReason;
  number: string | null;
  direction: CallDirection | null;
  startedAt: number;
  activeAt: number | null;
  endedAt: number;
  /** talk time (from active) in ms, 0 if never answered */
  durationMs: number;
}

const LIVE_STATES: Record<string, CallPhase> = {
  new: 'dialing',
  connecting: 'connecting',
  select_phone_account: 'dialing',
  dialing: 'dialing',
  pulling_call: 'dialing',
  ringing: 'ringing',
  simulated_ringing: 'ringing',
  audio_processing: 'ringing',
  active: 'active',
  holding: 'holding',
  disconnecting: 'disconnecting',
};

function cleanNumber(raw: string | undefined | null): string | null {
  if (!raw) return null;
  return numberKey(raw.trim());
}

export interface CallTrackerEvents {
  started: [CallInfo];
  changed: [CallInfo];
  ended: [CallEnded];
}

export class CallTracker extends EventEmitter<CallTrackerEvents> {
  private call: CallInfo | null = null;
  private pendingReason: CallEndReason | null = null;
  private expectedDial: { number: string; at: number } | null = null;
  /** which of the call's fields came only from the app's own (possibly stale) call metadata line */
  private fromApp = { number: false, direction: false };

  constructor(readonly serial: string, private readonly now: () => number = Date.now) {
    super();
  }

  current(): CallInfo | null {
    return this.call ? { ...this.call } : null;
  }

  /**
   * The call as the bridge itself saw it (dial command, incoming-call and state lines, telephony
   * state), without what only the app's call metadata said: that metadata can be left over from the
   * previous call (phone spec §8.5), so it cannot confirm the turn's caller fields.
   */
  observedFields(): { direction: CallDirection | null; number: string | null } | null {
    if (!this.call) return null;
    return { direction: this.fromApp.direction ? null : this.call.direction, number: this.fromApp.number ? null : this.call.number };
  }

  get live(): boolean {
    return this.call !== null;
  }

  /** The console asked this phone to dial `number`: the next outgoing call is that one. */
  noteDialRequested(number: string): void {
    this.expectedDial = { number, at: this.now() };
  }

  clearDialRequest(): void {
    this.expectedDial = null;
  }

  onLogLine(line: LogLine): void {
    const { tag, message } = line;
    if (tag === 'BridgeInCallService') {
      const st = message.match(/\bstate=([a-z_]+)/i);
      if (st) {
        const s = st[1].toLowerCase();
        if (s === 'disconnected') this.end();
        else if (LIVE_STATES[s]) this.setPhase(LIVE_STATES[s]);
        return;
      }
      const inc = message.match(/incoming call from:\s*([^,]*)/i);
      if (inc) {
        this.ensureCall('ringing', 'incoming', cleanNumber(inc[1]));
        return;
      }
      if (/rejecting incoming call/i.test(message)) this.pendingReason = 'rejected';
      return;
    }
    if (tag === 'AndroidTelecomCtrl') {
      const dial = message.match(/Dial command executed:\s*(\S+)/);
      if (dial) this.ensureCall('dialing', 'outgoing', cleanNumber(dial[1]));
      else if (/Hangup command executed/.test(message)) this.pendingReason ??= 'hangup_command';
      else if (/Reject command executed/.test(message)) this.pendingReason ??= 'rejected';
      return;
    }
    if (tag === 'GatewayCallAssistant') {
      const meta = message.match(/call metadata:\s*caller=([^,]*),\s*direction=([^,\s]*)/i);
      if (meta && this.call) {
        this.call.appReported = { number: cleanNumber(meta[1]), direction: meta[2] || null };
        if (!this.call.number && this.call.appReported.number) {
          this.call.number = this.call.appReported.number;
          this.fromApp.number = true;
        }
        if (!this.call.direction && /^(incoming|outgoing)$/i.test(meta[2])) {
          this.call.direction = meta[2].toLowerCase() as CallDirection;
          this.fromApp.direction = true;
        }
        this.emit('changed', this.current()!);
      } else if (/max call duration reached/i.test(message)) this.pendingReason = 'max_duration';
      else if (/auto hangup after silence timeout/i.test(message)) this.pendingReason = 'silence_timeout';
      else if (/gateway hangup/i.test(message)) this.pendingReason = 'gateway_hangup';
      else if (/gateway rejected/i.test(message)) this.pendingReason = 'gateway_rejected';
    }
  }

  /** `dumpsys telephony.registry` mCallState: 0 idle, 1 ringing, 2 off-hook. */
  onTelephonyState(state: 0 | 1 | 2, opts: { afterReconnect?: boolean } = {}): void {
    if (state === 0) {
      if (this.call) this.end(opts.afterReconnect && !this.call.observed ? 'ended_while_disconnected' : undefined);
      return;
    }
    if (this.call) {
      this.call.observed = true;
      if (state === 2 && this.call.phase === 'ringing') this.setPhase('active');
      return;
    }
    this.ensureCall(state === 1 ? 'ringing' : 'active', state === 1 ? 'incoming' : null, null);
  }

  /** The device vanished (unplug, adb restart): keep the call, mark it unobserved. */
  markUnobserved(): void {
    if (this.call && this.call.observed) {
      this.call.observed = false;
      this.emit('changed', this.current()!);
    }
  }

  private ensureCall(phase: CallPhase, direction: CallDirection | null, number: string | null): void {
    if (this.call) {
      if (number && (!this.call.number || this.fromApp.number)) {
        this.call.number = number;
        this.fromApp.number = false;
      }
      if (direction && (!this.call.direction || this.fromApp.direction)) {
        this.call.direction = direction;
        this.fromApp.direction = false;
      }
      // the phase is left to the state lines: a late "Dial command executed" must not undo "active"
      this.call.observed = true;
      this.emit('changed', this.current()!);
      return;
    }
    const now = this.now();
    let dir = direction;
    let num = number;
    if (dir !== 'incoming' && this.expectedDial && now - this.expectedDial.at < 120_000) {
      dir = 'outgoing';
      num ??= this.expectedDial.number;
    }
    if (dir === 'outgoing') this.expectedDial = null;
    this.pendingReason = null;
    this.fromApp = { number: false, direction: false };
    this.call = { serial: this.serial, phase, number: num, direction: dir, appReported: null, startedAt: now, activeAt: phase === 'active' ? now : null, observed: true };
    this.emit('started', this.current()!);
  }

  private setPhase(phase: CallPhase): void {
    if (!this.call) {
      const direction: CallDirection | null = phase === 'ringing' ? 'incoming' : phase === 'dialing' || phase === 'connecting' ? 'outgoing' : null;
      this.ensureCall(phase, direction, null);
      return;
    }
    this.call.observed = true;
    if (this.call.phase === phase) return;
    this.call.phase = phase;
    if (phase === 'active' && this.call.activeAt === null) this.call.activeAt = this.now();
    this.emit('changed', this.current()!);
  }

  private end(forced?: CallEndReason): void {
    const c = this.call;
    if (!c) return;
    const endedAt = this.now();
    const reason: CallEndReason = forced ?? this.pendingReason ?? (c.activeAt !== null ? 'ended_on_phone' : 'not_answered');
    this.call = null;
    this.pendingReason = null;
    this.emit('ended', {
      serial: c.serial,
      reason,
      number: c.number,
      direction: c.direction,
      startedAt: c.startedAt,
      activeAt: c.activeAt,
      endedAt,
      durationMs: c.activeAt !== null ? endedAt - c.activeAt : 0,
    });
  }
}

/** First `mCallState=N` of `dumpsys telephony.registry` that is not 0, else 0; null if none found. */
export function parseTelephonyCallState(dumpsys: string): 0 | 1 | 2 | null {
  const states = [...dumpsys.matchAll(/mCallState=(\d)/g)].map((m) => Number(m[1]));
  if (!states.length) return null;
  const live = states.find((s) => s === 1 || s === 2);
  return (live ?? 0) as 0 | 1 | 2;
}
