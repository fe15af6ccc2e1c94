/** Instructions given with a dial reach the outgoing call to that number once it appears. */
import { describe, expect, it } from 'vitest';
import type { CallSummary, EventEnvelope } from '../api/types';
import { createLiveStore } from '../store/stores';
import { applyInstructionsToNextCall } from './dial-followup';

let seq = 0;
const started = (sid: string, over: Partial<CallSummary>): EventEnvelope => ({
  type: 'session.started', timestamp: 1, session_id: sid, seq: ++seq,
  data: { session_id: sid, state: 'active', direction: 'outgoing', number: '+491701234567', device: null, started_at: 1, ended_at: null, end_reason: null, holder: null, turn_count: 0, authenticated: false, last_latency_ms: null, ...over },
});

describe('applyInstructionsToNextCall', () => {
  it('applies to the next outgoing call to the dialled number only', () => {
    const live = createLiveStore();
    live.getState().apply([started('old', {})]);
    const applied: string[] = [];
    applyInstructionsToNextCall(live, '+49 170 1234567', async (sid) => applied.push(sid));
    live.getState().apply([started('in', { direction: 'incoming' }), started('other', { number: '+4930111' })]);
    expect(applied).toEqual([]);
    live.getState().apply([started('mine', {}), started('later', {})]);
    expect(applied).toEqual(['mine']);
  });

  it('can be cancelled before the call appears', () => {
    const live = createLiveStore();
    const applied: string[] = [];
    const stop = applyInstructionsToNextCall(live, '+491701234567', async (sid) => applied.push(sid));
    stop();
    live.getState().apply([started('mine', {})]);
    expect(applied).toEqual([]);
  });
});
