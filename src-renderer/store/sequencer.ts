/**
 * Puts the event stream back in order using the gateway's `seq`: duplicates are dropped, an event
 * that arrives early waits (bounded) for the ones before it, and a hole that does not fill in time
 * counts as missed events and asks for a resync from REST. After a (re)connect the first frames settle
 * for a moment and the stream starts at the lowest seq among them. Events without `seq` (an upstream
 * gateway) pass straight through. Pure logic with an injectable timer: unit-tested in Node.
 */
import type { EventEnvelope } from '../api/types';

export interface SequencerStats {
  received: number;
  applied: number;
  duplicates: number;
  /** arrived after their hole had been given up on (state came from the resync instead) */
  late: number;
  /** seq numbers never received (holes given up on) */
  missed: number;
  /** times a hole forced a resync */
  gaps: number;
  buffered: number;
}

export interface SequencerOptions {
  apply: (events: EventEnvelope[]) => void;
  /** a hole was given up on: state must be refreshed from REST */
  onGap?: (missed: number) => void;
  /** how long an early event waits for the ones before it */
  gapTimeoutMs?: number;
  /** early events held at most; more → give up on the hole at once */
  maxBuffer?: number;
  /**
   * After a (re)connect the first frames are collected this long and the stream starts at the lowest
   * seq among them, so a reordering right at the start is not mistaken for late events.
   */
  anchorMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

/** How many applied seq numbers are remembered to tell duplicates from late events. */
const SEEN_WINDOW = 4096;

export class EventSequencer {
  private next: number | null = null;
  private readonly buffer = new Map<number, EventEnvelope>();
  private readonly seen = new Set<number>();
  private readonly seenOrder: number[] = [];
  private timer: unknown = null;
  readonly stats: SequencerStats = { received: 0, applied: 0, duplicates: 0, late: 0, missed: 0, gaps: 0, buffered: 0 };

  constructor(private readonly o: SequencerOptions) {}

  /** Forget the position (after a reconnect the REST resync is the new base). */
  reset(): void {
    this.next = null;
    this.buffer.clear();
    this.stats.buffered = 0;
    this.cancelTimer();
  }

  /** The next seq expected (null while settling after a reset). */
  get expected(): number | null {
    return this.next;
  }

  push(e: EventEnvelope): void {
    this.pushMany([e]);
  }

  /** Accept a batch of frames; everything that becomes applicable is applied in one call. */
  pushMany(events: EventEnvelope[]): void {
    const out: EventEnvelope[] = [];
    for (const e of events) this.accept(e, out);
    this.drain(out);
    if (this.buffer.size > (this.o.maxBuffer ?? 1000)) {
      if (this.next === null) this.anchor(out);
      this.giveUp(out);
    }
    this.stats.buffered = this.buffer.size;
    if (this.buffer.size && !this.timer) this.armTimer();
    if (!this.buffer.size) this.cancelTimer();
    this.emit(out);
  }

  /** Start the stream at the lowest buffered seq (end of the settle window after a reset). */
  private anchor(out: EventEnvelope[]): void {
    if (this.next !== null || !this.buffer.size) return;
    this.next = Math.min(...this.buffer.keys());
    this.drain(out);
  }

  private accept(e: EventEnvelope, out: EventEnvelope[]): void {
    this.stats.received++;
    const seq = e.seq;
    if (typeof seq !== 'number' || !Number.isFinite(seq)) {
      out.push(e);
      return;
    }
    if (this.next === null) {
      // settling after a reset: collect, the lowest seq becomes the base when the window ends
      if (this.buffer.has(seq)) this.stats.duplicates++;
      else this.buffer.set(seq, e);
      return;
    }
    if (seq < this.next) {
      if (this.seen.has(seq)) this.stats.duplicates++;
      else this.stats.late++;
      return;
    }
    if (this.buffer.has(seq)) {
      this.stats.duplicates++;
      return;
    }
    this.buffer.set(seq, e);
  }

  /** Move every consecutive event from the buffer to `out`. */
  private drain(out: EventEnvelope[]): void {
    if (this.next === null) return;
    for (let e = this.buffer.get(this.next); e; e = this.buffer.get(this.next)) {
      this.buffer.delete(this.next);
      this.markSeen(this.next);
      out.push(e);
      this.next++;
    }
  }

  private markSeen(seq: number): void {
    this.seen.add(seq);
    this.seenOrder.push(seq);
    if (this.seenOrder.length > SEEN_WINDOW) this.seen.delete(this.seenOrder.shift()!);
  }

  /** Skip the hole: count what is missing, apply what we have in order, ask for a resync. */
  private giveUp(out: EventEnvelope[]): void {
    if (!this.buffer.size || this.next === null) return;
    const first = Math.min(...this.buffer.keys());
    const missed = first - this.next;
    this.stats.missed += missed;
    this.stats.gaps++;
    this.next = first;
    this.drain(out);
    // further holes inside the buffer are given up on too
    while (this.buffer.size) {
      const f = Math.min(...this.buffer.keys());
      this.stats.missed += f - this.next;
      this.next = f;
      this.drain(out);
    }
    this.o.onGap?.(missed);
  }

  private emit(out: EventEnvelope[]): void {
    if (!out.length) return;
    this.stats.applied += out.length;
    this.o.apply(out);
  }

  private armTimer(): void {
    const set = this.o.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    const settling = this.next === null;
    this.timer = set(() => {
      this.timer = null;
      const out: EventEnvelope[] = [];
      if (settling) this.anchor(out);
      else this.giveUp(out);
      this.stats.buffered = this.buffer.size;
      if (this.buffer.size) this.armTimer();
      this.emit(out);
    }, settling ? (this.o.anchorMs ?? 30) : (this.o.gapTimeoutMs ?? 1500));
  }

  private cancelTimer(): void {
    if (this.timer === null) return;
    (this.o.clearTimer ?? ((t: unknown) => clearTimeout(t as ReturnType<typeof setTimeout>)))(this.timer);
    this.timer = null;
  }
}
