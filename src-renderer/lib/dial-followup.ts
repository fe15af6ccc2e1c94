/**
 * Instructions for a dialled call: the session only exists once the phone connects, so they are
 * applied (POST /api/instructions/{sid}) to the next outgoing call to that number that appears within
 * a few minutes. Pure wiring over the live store; the caller gets a disposer.
 */
import type { StoreApi } from 'zustand/vanilla';
import { normalizeNumber } from '../../src-shared/text/phone-number';
import type { LiveStore } from '../store/stores';

export function applyInstructionsToNextCall(
  live: StoreApi<LiveStore>,
  number: string,
  apply: (sid: string) => Promise<unknown>,
  timeoutMs = 5 * 60_000,
): () => void {
  const want = normalizeNumber(number);
  const known = new Set(Object.keys(live.getState().calls));
  let done = false;
  const stop = () => {
    done = true;
    unsub();
    clearTimeout(timer);
  };
  const check = (s: LiveStore) => {
    if (done) return;
    for (const [sid, c] of Object.entries(s.calls)) {
      if (known.has(sid) || c.summary.state === 'ended') continue;
      if (c.summary.direction === 'outgoing' && normalizeNumber(c.summary.number) === want) {
        stop();
        void apply(sid).catch(() => undefined);
        return;
      }
    }
  };
  const unsub = live.subscribe(check);
  const timer = setTimeout(stop, timeoutMs);
  return stop;
}
