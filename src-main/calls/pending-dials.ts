/**
 * Options given with a dial (device, greeting override, instructions for this call) wait here until
 * the phone connects the outgoing call: the phone opens the session only when the callee answers, with
 * a reset turn that carries the number it dialled. The pipeline takes the matching record on that turn.
 * Records expire (a call that never connects must not colour a later one) and a new dial to the same
 * number replaces the older record.
 */
import { normalizeNumber } from '../../src-shared/text/phone-number';

export interface DialOptions {
  /** adb serial of the phone that places the call */
  serial?: string;
  /** spoken instead of the configured outgoing greeting */
  greeting?: string;
  /** the assistant's instruction for this call only (the session layer) */
  instructions?: string;
}

export interface PendingDial extends DialOptions {
  number: string;
  /** ms since the epoch */
  at: number;
}

/** Digits without trunk zeros, for matching "0170…" against "+49170…": the phone may report another format. */
const digits = (n: string) => n.replace(/[^0-9]/g, '').replace(/^0+/, '');
const MIN_SUFFIX = 6;
const SUFFIX = 9;

function sameNumber(a: string, b: string): boolean {
  if (a === b) return true;
  const da = digits(a);
  const db = digits(b);
  const len = Math.min(SUFFIX, da.length, db.length);
  return len >= MIN_SUFFIX && da.slice(-len) === db.slice(-len);
}

export class PendingDials {
  private readonly items: PendingDial[] = [];

  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Remember the options of a placed call (only when there is something to apply). */
  add(number: string, opts: DialOptions): void {
    this.prune();
    const n = normalizeNumber(number);
    const i = this.items.findIndex((d) => d.number === n);
    if (i >= 0) this.items.splice(i, 1);
    if (!opts.serial && !opts.greeting && !opts.instructions) return;
    this.items.push({ ...opts, number: n, at: this.now() });
  }

  /** The newest fresh record for this number, removed; exact match first, then by trailing digits. */
  take(number: string): PendingDial | undefined {
    this.prune();
    const n = normalizeNumber(number);
    if (!n) return undefined;
    let i = this.items.findIndex((d) => d.number === n);
    if (i < 0) {
      for (let j = this.items.length - 1; j >= 0; j--) {
        if (sameNumber(this.items[j].number, n)) {
          i = j;
          break;
        }
      }
    }
    return i >= 0 ? this.items.splice(i, 1)[0] : undefined;
  }

  get size(): number {
    this.prune();
    return this.items.length;
  }

  private prune(): void {
    const cutoff = this.now() - this.ttlMs;
    while (this.items.length && this.items[0].at < cutoff) this.items.shift();
  }
}
