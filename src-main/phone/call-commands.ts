/**
 * The app's CALL_COMMAND broadcast (phone spec §4.1) and how to read its outcome. The receiver never
 * sets a result code, so `am broadcast` says "result=0" whatever happened; the truth is in logcat:
 * `AndroidTelecomCtrl: <X> command executed` or `CallCommandExecutor: command failed` + the reason in
 * the stack trace, or `CallCommandReceiver: failed to process call command`.
 */
import { randomBytes } from 'node:crypto';
import { CALL_COMMAND_ACTION, CALL_COMMAND_RECEIVER } from './constants';
import type { LogLine } from './logcat';
import { b64, sh, type ShellCommand } from './shell';

export type CallCommandType = 'dial' | 'hangup' | 'answer' | 'reject' | 'mute' | 'speaker';

export type CallCommandPayload =
  | { type: 'dial'; number: string }
  | { type: 'hangup' | 'answer' | 'reject' }
  | { type: 'mute'; muted: boolean }
  | { type: 'speaker'; enabled: boolean };

/**
 * `am broadcast … -n … --include-stopped-packages --es payload_b64 <base64 JSON>`: the JSON form, so no
 * user-supplied value is ever a shell word. Booleans stay JSON booleans (the app compares `== true`).
 */
export function callCommandLine(cmd: CallCommandPayload, id = `cf-${randomBytes(6).toString('hex')}`): ShellCommand {
  const { type, ...payload } = cmd;
  const json = JSON.stringify({ id, type, payload });
  return sh('am', 'broadcast', '-a', CALL_COMMAND_ACTION, '-n', CALL_COMMAND_RECEIVER, '--include-stopped-packages', '--es', 'payload_b64', b64(json));
}

const EXECUTED: Record<CallCommandType, RegExp> = {
  dial: /Dial command executed/,
  hangup: /Hangup command executed/,
  answer: /Answer command executed/,
  reject: /Reject command executed/,
  mute: /Mute command executed/,
  speaker: /Speaker command executed/,
};

export type Confirmation = { ok: true; line: LogLine } | { ok: false; reason: string };

/** Words for a person, from the reason text in the app's stack trace. */
export function explainFailure(reason: string, type: CallCommandType): string {
  const r = reason.trim();
  if (/call already in progress/i.test(r)) return 'Call already in progress';
  if (/CALL_PHONE permission missing/i.test(r)) return "CALL_PHONE permission missing: grant the app's permissions (Devices → Grant permissions)";
  if (/permission/i.test(r)) return `The app is missing a permission: ${r}. Grant the app's permissions (Devices → Grant permissions)`;
  if (/no active call available to hang up/i.test(r)) return 'No active call to hang up';
  if (/no (active |current |ringing )?call/i.test(r)) return type === 'answer' || type === 'reject' ? 'No ringing call to answer or reject' : 'No active call';
  if (/unknown command/i.test(r)) return `The phone app does not know the "${type}" command: update the Clawfinger app`;
  if (!r) return 'The phone refused the command (no reason given in its log)';
  return `The phone refused the command: ${r}`;
}

const EXCEPTION_LINE = /(?:^|\s)(?:[\w$]+\.)*[\w$]*(?:Exception|Error)(?::\s*(.*))?$/;

/**
 * Watches log lines for the outcome of one command. Feed every line; `result` settles on the first
 * verdict. A failure line is followed by the exception line (same tag) carrying the reason; if that
 * does not come within `reasonWaitMs`, the verdict is given without it.
 */
export class CommandWatcher {
  readonly result: Promise<Confirmation>;
  private settle!: (c: Confirmation) => void;
  private failing: { tag: string; reason: string } | null = null;
  private reasonTimer: NodeJS.Timeout | null = null;
  private settled = false;

  constructor(private readonly type: CallCommandType, private readonly reasonWaitMs = 400) {
    this.result = new Promise((resolve) => (this.settle = resolve));
  }

  private finish(c: Confirmation): void {
    if (this.settled) return;
    this.settled = true;
    if (this.reasonTimer) clearTimeout(this.reasonTimer);
    this.settle(c);
  }

  private fail(reason: string): void {
    this.finish({ ok: false, reason: explainFailure(reason, this.type) });
  }

  feed(line: LogLine): void {
    if (this.settled) return;
    if (this.failing) {
      if (line.tag === this.failing.tag) {
        const m = line.message.match(EXCEPTION_LINE);
        if (m) return this.fail(m[1] ?? line.message);
        if (!/^\s*at\s/.test(line.message)) return this.fail(line.message);
      }
      return;
    }
    if (line.tag === 'AndroidTelecomCtrl' && EXECUTED[this.type].test(line.message)) return this.finish({ ok: true, line });
    if (line.tag === 'CallCommandExecutor' && /command failed/i.test(line.message)) {
      const inline = line.message.replace(/^.*command failed[:\s-]*/i, '').trim();
      if (inline) return this.fail(inline);
      this.startFailing(line.tag);
      return;
    }
    if (line.tag === 'CallCommandReceiver' && /failed to process call command/i.test(line.message)) {
      this.finish({ ok: false, reason: 'The phone app could not read the command (bad extras): update the Clawfinger app' });
    }
  }

  private startFailing(tag: string): void {
    this.failing = { tag, reason: '' };
    this.reasonTimer = setTimeout(() => this.fail(''), this.reasonWaitMs);
  }

  /** Give up (timeout or device gone). */
  cancel(reason: string): void {
    this.finish({ ok: false, reason });
  }
}
