/** Barge-in in the call model: a reply the caller spoke over is cut to what they heard in the LLM history. */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src-shared/config/schema';
import type { EventEnvelope } from '../../src-shared/protocol/events';
import { EventBus } from '../../src-main/events/bus';
import { CallManager, interruptedReplyText } from '../../src-main/calls/manager';
import { InMemoryCallerMemory, type CallObserver, type CallSummary, type ReplyCut } from '../../src-main/calls/types';

const FULL = 'We are open from nine to five on weekdays and from ten to two on Saturdays.';

function setup() {
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((e) => events.push(e));
  const calls = new CallManager({ bus, config: () => defaultConfig(), callerMemory: new InMemoryCallerMemory() });
  const seen: { call: CallSummary; cut: ReplyCut }[] = [];
  const observer: CallObserver = { replyInterrupted: (call, cut) => seen.push({ call, cut }) };
  calls.addObserver(observer);
  const s = calls.ensure('sid1', 'mock');
  return { bus, events, calls, seen, s };
}

describe('CallManager.replyInterrupted', () => {
  it('replaces the newest assistant message equal to the reply with the heard words and "…"', () => {
    const h = setup();
    h.s.history = [
      { role: 'user', content: 'When are you open?' },
      { role: 'assistant', content: FULL },
      { role: 'user', content: 'Pardon?' },
      { role: 'assistant', content: FULL },
    ];
    expect(h.calls.replyInterrupted('sid1', { reply: FULL, heard_text: 'We are open from nine', played_ms: 900, total_ms: 4000 })).toBe(true);
    expect(h.s.history.map((m) => m.content)).toEqual(['When are you open?', FULL, 'Pardon?', 'We are open from nine…']);
    expect(h.s.history[3].role).toBe('assistant');
  });

  it('publishes turn.interrupted and tells observers, with the full reply and the heard part', () => {
    const h = setup();
    h.s.history = [{ role: 'user', content: 'When?' }, { role: 'assistant', content: FULL }];
    h.calls.replyInterrupted('sid1', { reply: FULL, heard_text: 'We are', played_ms: 400, total_ms: 4000 });
    const ev = h.events.find((e) => e.type === 'turn.interrupted');
    expect(ev?.session_id).toBe('sid1');
    expect(ev?.data).toEqual({ session_id: 'sid1', reply: FULL, heard_text: 'We are', played_ms: 400, total_ms: 4000 });
    expect(h.seen).toHaveLength(1);
    expect(h.seen[0].call.session_id).toBe('sid1');
    expect(h.seen[0].cut).toEqual({ reply: FULL, heard_text: 'We are', played_ms: 400, total_ms: 4000 });
  });

  it('nothing heard: the message becomes "…" so user and assistant turns still alternate', () => {
    const h = setup();
    h.s.history = [{ role: 'user', content: 'When?' }, { role: 'assistant', content: FULL }];
    h.calls.replyInterrupted('sid1', { reply: FULL, heard_text: '', played_ms: 40, total_ms: 4000 });
    expect(h.s.history).toEqual([{ role: 'user', content: 'When?' }, { role: 'assistant', content: '…' }]);
    expect(interruptedReplyText('  ')).toBe('…');
    expect(h.events.find((e) => e.type === 'turn.interrupted')?.data.heard_text).toBe('');
  });

  it('a reply not in the history (the greeting) still reaches the transcript, history untouched', () => {
    const h = setup();
    h.s.history = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Something else.' }];
    expect(h.calls.replyInterrupted('sid1', { reply: 'Hello, this is the assistant of Sam.', heard_text: 'Hello,', played_ms: 300, total_ms: 2000 })).toBe(true);
    expect(h.s.history.map((m) => m.content)).toEqual(['Hi', 'Something else.']);
    expect(h.seen).toHaveLength(1);
  });

  it('does nothing for an unknown session or a reply heard in full', () => {
    const h = setup();
    h.s.history = [{ role: 'user', content: 'When?' }, { role: 'assistant', content: FULL }];
    expect(h.calls.replyInterrupted('nope', { reply: FULL, heard_text: 'We', played_ms: 1, total_ms: 2 })).toBe(false);
    expect(h.calls.replyInterrupted('sid1', { reply: FULL, heard_text: FULL, played_ms: 4000, total_ms: 4000 })).toBe(false);
    expect(h.s.history[1].content).toBe(FULL);
    expect(h.events.some((e) => e.type === 'turn.interrupted')).toBe(false);
    expect(h.seen).toHaveLength(0);
  });
});
