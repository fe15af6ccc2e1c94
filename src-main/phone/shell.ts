/**
 * Device shell command lines built from validated tokens only. `adb shell` hands one string to the
 * phone's /system/bin/sh, so nothing may reach it that the shell could interpret: every word must match
 * a strict allow-list (no quotes, spaces, `$`, backticks, `;`, `*`, `#`, leading `~`, …); operators come from a
 * fixed set; a nested command (`su -c '…'`) is itself built the same way, so single-quoting it is safe.
 * Anything user-supplied that does not fit (JSON, arbitrary text) travels base64-encoded.
 */

/** `~` only inside a word (a leading one would expand to a home directory). */
const SAFE_TOKEN = /^[A-Za-z0-9_@%+=:,./-][A-Za-z0-9_@%+=:,./~-]*$/;
const OPERATORS = ['|', '&&', '||', ';', '>', '2>&1', '&'] as const;
type Operator = (typeof OPERATORS)[number];

export class UnsafeShellToken extends Error {
  constructor(token: string) {
    super(`refused to build a device shell command from an unsafe word (${JSON.stringify(token.slice(0, 40))})`);
    this.name = 'UnsafeShellToken';
  }
}

class Op {
  constructor(readonly op: Operator) {}
}

/** A complete, safe device command line. */
export class ShellCommand {
  /** @internal use `sh()` */
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A shell operator from the fixed set. */
export function op(o: Operator): Op {
  if (!(OPERATORS as readonly string[]).includes(o)) throw new UnsafeShellToken(o);
  return new Op(o);
}

export function isSafeToken(token: string): boolean {
  return SAFE_TOKEN.test(token);
}

/** Build a command line: strings are words (validated), `op()` values operators, ShellCommands nest single-quoted. */
export function sh(...parts: (string | number | Op | ShellCommand)[]): ShellCommand {
  const out: string[] = [];
  for (const p of parts) {
    if (p instanceof Op) out.push(p.op);
    else if (p instanceof ShellCommand) out.push(`'${p.text}'`);
    else {
      const s = typeof p === 'number' ? (Number.isInteger(p) ? String(p) : '') : p;
      if (!SAFE_TOKEN.test(s)) throw new UnsafeShellToken(String(p));
      out.push(s);
    }
  }
  if (!out.length) throw new UnsafeShellToken('');
  return new ShellCommand(out.join(' '));
}

/** base64 (standard alphabet) of UTF-8 text: always a safe word. */
export function b64(text: string | Buffer): string {
  return Buffer.from(text).toString('base64');
}
