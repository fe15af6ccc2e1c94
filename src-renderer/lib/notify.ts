/**
 * Desktop notifications for an incoming call, for "a caller is waiting for you" and for a critical
 * phone problem: through the
 * Electron bridge when present (the shell already announces incoming calls itself), else the
 * browser's Notification API once the operator allowed it.
 */
import type { ClawfingerBridge } from '../api/bridge';
import type { CallSummary } from '../api/types';
import { maskNumber } from '../../src-shared/text/phone-number';

export interface NotificationApi {
  permission: string;
  requestPermission(): Promise<string>;
  show(title: string, body: string, tag: string): void;
}

export function browserNotifications(): NotificationApi | null {
  if (typeof window === 'undefined' || typeof window.Notification === 'undefined') return null;
  const N = window.Notification;
  return {
    get permission() {
      return N.permission;
    },
    requestPermission: () => N.requestPermission(),
    show: (title, body, tag) => {
      try {
        new N(title, { body, tag });
      } catch {
        // some platforms only allow notifications from a service worker
      }
    },
  };
}

export class Notifier {
  /** tags already shown, so one call/turn notifies once */
  private readonly shown = new Set<string>();

  constructor(
    private readonly bridge: ClawfingerBridge | null,
    private readonly web: NotificationApi | null,
    private readonly enabled: () => boolean,
  ) {}

  get available(): boolean {
    return !!this.bridge || !!this.web;
  }

  get permission(): string {
    if (this.bridge) return 'granted';
    return this.web?.permission ?? 'unsupported';
  }

  async requestPermission(): Promise<string> {
    if (this.bridge) return 'granted';
    if (!this.web) return 'unsupported';
    return this.web.requestPermission();
  }

  private show(tag: string, title: string, body: string): boolean {
    if (!this.enabled() || this.shown.has(tag)) return false;
    this.shown.add(tag);
    if (this.shown.size > 500) this.shown.delete(this.shown.values().next().value as string);
    if (this.bridge) {
      void this.bridge.notify(title, body).catch(() => undefined);
      return true;
    }
    if (this.web?.permission === 'granted') {
      this.web.show(title, body, tag);
      return true;
    }
    return false;
  }

  incomingCall(call: CallSummary): boolean {
    // the desktop shell announces incoming calls itself
    if (this.bridge || call.direction !== 'incoming') return false;
    const who = call.number ? maskNumber(call.number) : 'an unknown number';
    return this.show(`in:${call.session_id}:${call.started_at}`, 'Incoming call', `A caller from ${who} is talking to the assistant.`);
  }

  /** A critical phone problem (e.g. the USB link lost during a call): once per alert. */
  deviceAlert(alert: { id: string; level: string; message: string }): boolean {
    if (alert.level !== 'critical') return false;
    return this.show(`dev:${alert.id}`, 'Phone needs attention', alert.message);
  }

  callerWaiting(sid: string, requestId: string, transcript: string): boolean {
    const said = transcript.length > 120 ? `${transcript.slice(0, 117)}…` : transcript;
    return this.show(`wait:${sid}:${requestId}`, 'A caller is waiting for you', said ? `“${said}”` : 'The caller said something: type your reply.');
  }
}
