/** The live-call reducer: calls, transcript roles, pending phases, takeover requests, bounds, snapshots. */
import { describe, expect, it } from 'vitest';
import type { CallSummary, EventEnvelope } from '../api/types';
import { applyEvents, applyPending, applySnapshot, applyStoredTranscript, emptyLive, MAX_ENDED, MAX_LINES, type LiveState } from './live-reducer';

let seq = 0;
const E = (type: string, sid: string, data: Record<string, unknown> = {}, ts = 1000): EventEnvelope => ({ type, timestamp: ts, session_id: sid, data, seq: ++seq });

function summary(sid: string, over: Partial<CallSummary> = {}): CallSummary {
  return {
    session_id: sid, state: 'active', direction: 'incoming', number: '+4917012345678', device: null, started_at: 1000, ended_at: null,
    end_reason: null, holder: null, turn_count: 0, authenticated: false, last_latency_ms: null, ...over,
  };
}

const metrics = { asr_ms: 100, llm_ms: 300, tts_ms: 80, total_ms: 500, llm_model: 'qwen', transcriptionDelayMs: 100, llmTtftMs: 120, ttsTtfbMs: 40, e2eLatencyMs: 350 };

/** One normal turn as the pipeline publishes it. */
function turn(sid: string, said: string, reply: string, producer: string, extra: Record<string, unknown> = {}): EventEnvelope[] {
  return [
    E('turn.started', sid, { session_id: sid }),
    E('turn.transcript', sid, { transcript: said }),
    E('turn.reply', sid, { reply }),
    E('turn.complete', sid, { metrics, transcript: said, reply, session_id: sid, producer, ...extra }),
  ];
}

const run = (events: EventEnvelope[], from: LiveState = emptyLive()) => applyEvents(from, events, 50_000);

describe('live reducer', () => {
  it('builds a call from session.started and its transcript with who produced each line', () => {
    const s = run([
      E('session.started', 'a', summary('a') as unknown as Record<string, unknown>),
      E('turn.started', 'a'),
      E('turn.reply', 'a', { reply: 'Hello, this is the assistant.' }),
      E('turn.complete', 'a', { metrics: { ...metrics, llm_ms: 0 }, transcript: '', reply: 'Hello, this is the assistant.', producer: 'forced' }),
      ...turn('a', 'I need an appointment', 'Sure, when?', 'local:qwen'),
      ...turn('a', 'Tomorrow', 'Let me check.', 'operator:Sam'),
      ...turn('a', 'OK', 'Booked for ten.', 'agent:planner'),
      ...turn('a', 'Still there?', 'One moment, please.', 'holding'),
    ]);
    const c = s.calls.a;
    expect(c.summary.number).toBe('+4917012345678');
    expect(c.lines.map((l) => [l.kind, l.label])).toEqual([
      ['forced', 'Greeting / forced'],
      ['caller', 'Caller'], ['assistant', 'Assistant · qwen'],
      ['caller', 'Caller'], ['operator', 'Operator · Sam'],
      ['caller', 'Caller'], ['agent', 'Agent · planner'],
      ['caller', 'Caller'], ['holding', 'Holding phrase'],
    ]);
    expect(c.lines[2].metrics).toMatchObject({ asr_ms: 100, llm_ms: 300, e2eLatencyMs: 350 });
    expect(c.lines.every((l) => !l.pending)).toBe(true);
    expect(c.summary.last_latency_ms).toBe(500);
    expect(c.pending).toBeNull();
  });

  it('tracks the pending phase of a turn: transcribing → thinking → speaking → done', () => {
    let s = run([E('session.started', 'a', summary('a') as unknown as Record<string, unknown>), E('turn.started', 'a')]);
    expect(s.calls.a.pending?.phase).toBe('transcribing');
    s = run([E('turn.transcript', 'a', { transcript: 'hello' })], s);
    expect(s.calls.a.pending?.phase).toBe('thinking');
    s = run([E('turn.reply', 'a', { reply: 'hi' })], s);
    expect(s.calls.a.pending?.phase).toBe('speaking');
    expect(s.calls.a.lines.at(-1)).toMatchObject({ pending: true, text: 'hi' });
    s = run([E('turn.complete', 'a', { metrics, reply: 'hi', transcript: 'hello', producer: 'local:qwen' })], s);
    expect(s.calls.a.pending).toBeNull();
    s = run([E('turn.started', 'a'), E('turn.transcript', 'a', { transcript: '' }), E('turn.no_speech', 'a')], s);
    expect(s.calls.a.pending).toBeNull();
    expect(s.calls.a.lines).toHaveLength(2);
  });

  it('keeps a takeover request with its deadline, the draft, and clears it on reply, timeout or cancel', () => {
    let s = run([
      E('session.started', 'a', summary('a', { state: 'taken_over', holder: { kind: 'operator', name: 'Sam', mode: 'draft' } }) as unknown as Record<string, unknown>),
      E('turn.started', 'a'),
      E('turn.transcript', 'a', { transcript: 'Can I come at five?' }),
      E('turn.awaiting_reply', 'a', { session_id: 'a', request_id: 'r1', transcript: 'Can I come at five?', holder: { kind: 'operator', name: 'Sam', mode: 'draft' }, deadline_ms: 35_000 }),
    ]);
    expect(s.calls.a.awaiting).toMatchObject({ requestId: 'r1', transcript: 'Can I come at five?', deadlineMs: 35_000, deadlineAt: 85_000, holder: { name: 'Sam' } });
    expect(s.calls.a.pending?.phase).toBe('awaiting_holder');
    s = run([E('turn.draft', 'a', { request_id: 'r1', transcript: 'Can I come at five?', draft: 'Five works.' })], s);
    expect(s.calls.a.awaiting).toMatchObject({ requestId: 'r1', draft: 'Five works.', deadlineAt: 85_000 });
    s = run([E('turn.holding', 'a', { request_id: 'r1', text: 'One moment, please.' })], s);
    expect(s.calls.a.awaiting?.holding).toBe(true);
    s = run([E('operator.typing', 'a', { agent: 'Sam', kind: 'operator', typing: true })], s);
    expect(s.calls.a.typing).toEqual({ name: 'Sam', kind: 'operator' });
    // the gateway ends the typing state when the reply is sent, then the reply goes out
    s = run([E('operator.typing', 'a', { agent: 'Sam', kind: 'operator', typing: false }), E('turn.reply', 'a', { reply: 'Five works.' })], s);
    expect(s.calls.a.awaiting).toBeNull();
    expect(s.calls.a.typing).toBeNull();

    s = run([E('turn.awaiting_reply', 'a', { request_id: 'r2', transcript: 'x', deadline_ms: 1000 })], s);
    s = run([E('turn.timeout', 'a', { request_id: 'r2', fallback: 'local' })], s);
    expect(s.calls.a.awaiting).toBeNull();
    expect(s.calls.a.lines.at(-1)?.text).toBe('No reply in time: the assistant answered this turn.');
    s = run([E('turn.awaiting_reply', 'a', { request_id: 'r3', transcript: 'y', deadline_ms: 1000 }), E('turn.cancelled', 'a', { request_id: 'other' })], s);
    expect(s.calls.a.awaiting?.requestId).toBe('r3');
    s = run([E('turn.cancelled', 'a', { request_id: 'r3', reason: 'released' })], s);
    expect(s.calls.a.awaiting).toBeNull();
  });

  it('shows takeover and hand-back, by an agent or an operator', () => {
    let s = run([E('session.started', 'a', summary('a') as unknown as Record<string, unknown>), E('agent.takeover', 'a', { session_id: 'a', agent: 'bot', kind: 'agent', mode: 'takeover' })]);
    expect(s.calls.a.summary).toMatchObject({ state: 'taken_over', holder: { kind: 'agent', name: 'bot', mode: 'takeover' } });
    expect(s.calls.a.lines.at(-1)?.text).toBe('Taken over by agent bot.');
    s = run([E('agent.release', 'a', { session_id: 'a', agent: 'bot', kind: 'agent' })], s);
    expect(s.calls.a.summary).toMatchObject({ state: 'active', holder: null });
    expect(s.calls.a.lines.at(-1)?.text).toBe('Handed back to the assistant by agent bot.');
  });

  it('attributes delivered speech to whoever queued it (the producer of its turn.complete)', () => {
    const s = run([
      E('session.started', 'a', summary('a') as unknown as Record<string, unknown>),
      E('agent.inject', 'a', { text: 'Your parcel arrives tomorrow.', producer: 'operator:Sam' }),
      E('agent.inject', 'a', { text: 'Plain inject.', producer: '' }),
      E('turn.started', 'a'),
      E('turn.reply', 'a', { reply: 'Your parcel arrives tomorrow.' }),
      E('turn.complete', 'a', { metrics: { asr_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0 }, transcript: '', reply: 'Your parcel arrives tomorrow.', model: 'inject', producer: 'operator:Sam' }),
      E('turn.started', 'a'),
      E('turn.reply', 'a', { reply: 'Plain inject.' }),
      E('turn.complete', 'a', { metrics: { asr_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0 }, transcript: '', reply: 'Plain inject.', model: 'inject', producer: 'inject' }),
    ]);
    const spoken = s.calls.a.lines.filter((l) => l.kind !== 'note');
    expect(spoken.map((l) => [l.kind, l.label])).toEqual([
      ['operator', 'Operator · Sam (queued)'],
      ['inject', 'Injected'],
    ]);
  });

  it('ends a call on session.ended; a late update does not bring it back', () => {
    let s = run([E('session.started', 'a', summary('a') as unknown as Record<string, unknown>), E('turn.started', 'a'), E('session.ended', 'a', { session_id: 'a', reason: 'hangup' }, 1100)]);
    expect(s.calls.a.summary).toMatchObject({ state: 'ended', ended_at: 1100, end_reason: 'hangup' });
    expect(s.calls.a.pending).toBeNull();
    s = run([E('session.updated', 'a', summary('a', { turn_count: 3 }) as unknown as Record<string, unknown>)], s);
    expect(s.calls.a.summary.state).toBe('ended');
    // events for unknown calls that do not start one are ignored
    const same = run([E('agent.release', 'zzz', {}), E('operator.typing', 'zzz', { typing: true })], s);
    expect(same).toBe(s);
  });

  it('keeps memory bounded: the newest MAX_LINES lines per call, the newest MAX_ENDED ended calls', () => {
    const events: EventEnvelope[] = [E('session.started', 'a', summary('a') as unknown as Record<string, unknown>)];
    for (let i = 0; i < MAX_LINES; i++) events.push(...turn('a', `q${i}`, `a${i}`, 'local:qwen'));
    const s = run(events);
    expect(s.calls.a.lines).toHaveLength(MAX_LINES);
    expect(s.calls.a.droppedLines).toBe(MAX_LINES);
    expect(s.calls.a.lines.at(-1)?.text).toBe(`a${MAX_LINES - 1}`);

    const many: EventEnvelope[] = [];
    for (let i = 0; i < MAX_ENDED + 5; i++) {
      many.push(E('session.started', `c${i}`, summary(`c${i}`) as unknown as Record<string, unknown>), E('session.ended', `c${i}`, { reason: 'hangup' }, 2000 + i));
    }
    const t = run(many, s);
    const ended = Object.values(t.calls).filter((c) => c.summary.state === 'ended');
    expect(ended).toHaveLength(MAX_ENDED);
    expect(t.calls.c0).toBeUndefined();
    expect(t.calls[`c${MAX_ENDED + 4}`]).toBeDefined();
    expect(t.calls.a).toBeDefined(); // live calls are never pruned
  });

  it('merges a REST snapshot: fresh summaries, new calls, calls gone meanwhile ended; an ended call stays ended', () => {
    let s = run([
      E('session.started', 'a', summary('a') as unknown as Record<string, unknown>),
      E('session.started', 'b', summary('b') as unknown as Record<string, unknown>),
      E('session.started', 'd', summary('d') as unknown as Record<string, unknown>),
      E('session.ended', 'd', { reason: 'hangup' }, 1500),
    ]);
    s = applySnapshot(s, [summary('a', { turn_count: 7 }), summary('c'), summary('d')], 2, 3000);
    expect(s.calls.a.summary.turn_count).toBe(7);
    expect(s.calls.c.summary.state).toBe('active');
    expect(s.calls.b.summary).toMatchObject({ state: 'ended', ended_at: 3000 });
    expect(s.calls.d.summary.state).toBe('ended');
    expect(s.agentCount).toBe(2);
  });

  it('loads waiting takeover requests and stored transcripts after a reconnect', () => {
    let s = run([E('session.started', 'a', summary('a') as unknown as Record<string, unknown>), E('turn.transcript', 'a', { transcript: 'newer line' }, 2000)]);
    s = applyPending(s, [{ request_id: 'r9', session_id: 'a', transcript: 'hello?', holder: { kind: 'operator', name: 'Sam', mode: 'takeover' }, deadline_ms: 20_000, draft: null }], 10_000);
    expect(s.calls.a.awaiting).toMatchObject({ requestId: 'r9', deadlineAt: 30_000 });
    s = applyPending(s, [], 11_000);
    expect(s.calls.a.awaiting).toBeNull();
    s = applyStoredTranscript(s, 'a', [
      { id: 'h1', at: 1001, kind: 'caller', label: 'Caller', text: 'stored question' },
      { id: 'h2', at: 1002, kind: 'assistant', label: 'Assistant · qwen', text: 'stored answer' },
    ]);
    expect(s.calls.a.lines.map((l) => l.text)).toEqual(['stored question', 'stored answer', 'newer line']);
  });

  it('barge-in: turn.interrupted marks the newest reply line with that text as heard only in part', () => {
    const LONG = 'We are open from nine to five on weekdays.';
    let s = run([
      E('session.started', 'a', summary('a') as unknown as Record<string, unknown>),
      ...turn('a', 'When are you open?', LONG, 'local:qwen'),
      ...turn('a', 'Pardon?', LONG, 'local:qwen'),
    ]);
    s = run([E('turn.interrupted', 'a', { session_id: 'a', reply: LONG, heard_text: 'We are open', played_ms: 800, total_ms: 3000 })], s);
    const lines = s.calls.a.lines;
    expect(lines.map((l) => l.heard)).toEqual([undefined, undefined, undefined, 'We are open']);
    expect(lines[3]).toMatchObject({ kind: 'assistant', text: LONG, label: 'Assistant · qwen' });
    // nothing heard is '' (still interrupted), not undefined
    s = run([E('turn.interrupted', 'a', { reply: LONG, heard_text: '', played_ms: 20, total_ms: 3000 })], s);
    expect(s.calls.a.lines[3].heard).toBe('');
    // a reply no longer in the transcript becomes a note; an unknown call is not created
    s = run([E('turn.interrupted', 'a', { reply: 'Gone long ago.', heard_text: 'Gone' })], s);
    expect(s.calls.a.lines.at(-1)).toMatchObject({ kind: 'note', text: 'The caller interrupted a reply and heard only: “Gone…”' });
    expect(run([E('turn.interrupted', 'zzz', { reply: LONG, heard_text: 'We' })], s).calls.zzz).toBeUndefined();
  });

  it('returns the same state object when a batch changes nothing', () => {
    const s = run([E('session.started', 'a', summary('a') as unknown as Record<string, unknown>)]);
    expect(applyEvents(s, [])).toBe(s);
    expect(applyEvents(s, [E('config.llm_updated', '', { model: 'x' })])).toBe(s);
  });
});
