/** EventSequencer: duplicates, out-of-order arrival, holes that fill and holes that do not, resets. */
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../api/types';
import { EventSequencer } from './sequencer';

const ev = (seq: number | undefined, type = 'turn.started'): EventEnvelope => ({ type, timestamp: 1000 + (seq ?? 0), session_id: 's1', data: {}, ...(seq === undefined ? {} : { seq }) });

/** A sequencer with a manual timer and a log of what it applied. */
function harness(opts: { maxBuffer?: number } = {}) {
  const applied: number[] = [];
  const gaps: number[] = [];
  let timer: (() => void) | null = null;
  const seq = new EventSequencer({
    apply: (events) => applied.push(...events.map((e) => e.seq ?? -1)),
    onGap: (missed) => gaps.push(missed),
    maxBuffer: opts.maxBuffer,
    setTimer: (fn) => {
      timer = fn;
      return 1;
    },
    clearTimer: () => {
      timer = null;
    },
  });
  return {
    seq, applied, gaps,
    fire: () => {
      const t = timer;
      timer = null;
      t?.();
    },
    get armed() {
      return timer !== null;
    },
  };
}

/** A harness past the settle window, starting at `base`. */
function anchored(base: number, opts: { maxBuffer?: number } = {}) {
  const h = harness(opts);
  h.seq.push(ev(base));
  h.fire();
  return h;
}

describe('EventSequencer', () => {
  it('applies an in-order stream as it comes', () => {
    const h = anchored(4);
    for (const s of [5, 6, 7]) h.seq.push(ev(s));
    expect(h.applied).toEqual([4, 5, 6, 7]);
    expect(h.seq.stats).toMatchObject({ received: 4, applied: 4, duplicates: 0, missed: 0 });
  });

  it('starts a stream at the lowest seq of the first frames, even when they came reordered', () => {
    const h = harness();
    h.seq.pushMany([ev(8), ev(7), ev(8), ev(9)]);
    expect(h.applied).toEqual([]);
    h.fire();
    expect(h.applied).toEqual([7, 8, 9]);
    expect(h.seq.stats).toMatchObject({ received: 4, applied: 3, duplicates: 1, missed: 0, late: 0 });
  });

  it('drops duplicates, whether already applied or still waiting in the buffer', () => {
    const h = anchored(1);
    h.seq.pushMany([ev(2), ev(2), ev(1)]);
    h.seq.push(ev(4));
    h.seq.push(ev(4));
    h.seq.push(ev(3));
    expect(h.applied).toEqual([1, 2, 3, 4]);
    expect(h.seq.stats.duplicates).toBe(3);
  });

  it('holds an early event until the ones before it arrive, then applies them in order', () => {
    const h = anchored(10);
    h.seq.push(ev(13));
    h.seq.push(ev(12));
    expect(h.applied).toEqual([10]);
    expect(h.armed).toBe(true);
    h.seq.push(ev(11));
    expect(h.applied).toEqual([10, 11, 12, 13]);
    expect(h.armed).toBe(false);
    expect(h.seq.stats.missed).toBe(0);
    expect(h.gaps).toEqual([]);
  });

  it('gives up on a hole that does not fill in time: counts the missed events, applies the rest, asks for a resync', () => {
    const h = anchored(1);
    h.seq.push(ev(4));
    h.seq.push(ev(5));
    expect(h.applied).toEqual([1]);
    h.fire();
    expect(h.applied).toEqual([1, 4, 5]);
    expect(h.gaps).toEqual([2]);
    expect(h.seq.stats).toMatchObject({ missed: 2, gaps: 1, buffered: 0 });
    // the missing ones arriving now are late: the resync already covered them
    h.seq.push(ev(2));
    h.seq.push(ev(6));
    expect(h.applied).toEqual([1, 4, 5, 6]);
    expect(h.seq.stats.late).toBe(1);
  });

  it('gives up at once when too many events wait behind a hole', () => {
    const h = anchored(1, { maxBuffer: 3 });
    h.seq.pushMany([ev(3), ev(4), ev(5), ev(6)]);
    expect(h.applied).toEqual([1, 3, 4, 5, 6]);
    expect(h.gaps).toEqual([1]);
    expect(h.armed).toBe(false);
  });

  it('after a reset the next event is the new base (a reconnect, or a restarted gateway counting from 1)', () => {
    const h = anchored(100);
    h.seq.pushMany([ev(101)]);
    h.seq.reset();
    h.seq.pushMany([ev(1), ev(2)]);
    h.fire();
    expect(h.applied).toEqual([100, 101, 1, 2]);
    expect(h.seq.stats.duplicates).toBe(0);
    expect(h.seq.expected).toBe(3);
  });

  it('passes events without seq (an upstream gateway) straight through', () => {
    const h = harness();
    h.seq.pushMany([ev(undefined), ev(undefined)]);
    expect(h.applied).toEqual([-1, -1]);
  });
});
