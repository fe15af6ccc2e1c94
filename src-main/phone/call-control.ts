/**
 * What the gateway needs from the phone bridge: place and end calls. The ADB implementation lives
 * beside this file; until a phone is set up, `NoPhoneBridge` answers every request with a clear reason.
 */
export interface CallControlResult {
  ok: boolean;
  detail: string;
  /** the adb serial the command went to */
  serial?: string;
}

export interface CallControl {
  dial(number: string, opts?: { serial?: string }): Promise<CallControlResult>;
  hangup(opts?: { serial?: string }): Promise<CallControlResult>;
}

export class NoPhoneBridge implements CallControl {
  constructor(private readonly reason = 'phone bridge not available: connect a phone over USB with adb installed') {}
  async dial(): Promise<CallControlResult> {
    return { ok: false, detail: this.reason };
  }
  async hangup(): Promise<CallControlResult> {
    return { ok: false, detail: this.reason };
  }
}
