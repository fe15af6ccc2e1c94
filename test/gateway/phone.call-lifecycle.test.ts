/** A whole call as the real phone makes it: config fetch, greeting, utterances with /api/asr first, goodbye. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseWav } from '../../src-shared/audio/wav';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';

let gw: TestGateway;
beforeEach(async () => {
  gw = await startGateway({ config: { greeting_owner: 'Ada', llm_system_prompt: 'You answer for Ada.' } });
});
afterEach(async () => gw.close());

describe('a phone call through the gateway', () => {
  it('greets, answers three utterances with history, transcribes each utterance once, and emits events in order', async () => {
    const events = await eventStream(gw.url);
    const phone = new PhoneSim(gw.url, gw.bearer);
    const cfg = await phone.getCallConfig();
    expect(cfg.greeting_incoming).toBe("Hello, I am Ada's assistant. Please wait for the beep before speaking.");
    expect(cfg.auto_answer).toBe(true);

    const g = await phone.greeting(String(cfg.greeting_incoming));
    expect(g.status).toBe(200);
    expect(g.reply).toBe(cfg.greeting_incoming);
    expect(g.audio).not.toBeNull();
    expect(phone.sessionId).toMatch(/^[0-9a-f]{32}$/);
    const wav = parseWav(g.audio!);
    expect(wav.sampleRate).toBe(24000);
    expect(wav.samples.length).toBeGreaterThan(0);

    gw.engines.transcripts.push('what time do you open', 'and on sunday', 'thank you');
    const replies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await phone.say(utterance(3, 24000, i + 1));
      expect(r.status).toBe(200);
      expect(r.reply).toBeTruthy();
      expect(r.audio).not.toBeNull();
      replies.push(r.reply!);
      expect(r.json.metrics).toMatchObject({ llm_model: 'instant-llm' });
    }
    expect(replies[0]).toBe('You said: what time do you open. Anything else?');
    // one ASR run per utterance although the phone posted each to /api/asr and /api/turn
    expect(gw.engines.asrCalls).toHaveLength(3);
    // the third LLM call saw the first two exchanges
    const third = gw.engines.llmCalls[2].messages;
    expect(third[0]).toEqual({ role: 'system', content: 'You answer for Ada.' });
    expect(third.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(third[1].content).toBe('what time do you open');
    expect(third[2].content).toBe(replies[0]);

    const bye = await phone.goodbye("I'm sorry, but we have reached the maximum call duration. Goodbye!");
    expect(bye.reply).toContain('maximum call duration');

    await events.waitFor((e) => e.type === 'turn.complete' && (e.data as { reply: string }).reply.includes('maximum call duration'));
    const sid = phone.sessionId;
    const types = events.events.filter((e) => e.session_id === sid && e.type.startsWith('turn.') && e.type !== 'turn.metrics').map((e) => e.type);
    expect(types).toEqual([
      'turn.started', 'turn.reply', 'turn.complete',
      ...Array(3).fill(['turn.started', 'turn.transcript', 'turn.reply', 'turn.complete']).flat(),
      'turn.started', 'turn.reply', 'turn.complete',
    ]);
    const started = events.events.find((e) => e.type === 'session.started' && e.session_id === sid);
    expect(started?.data).toMatchObject({ direction: 'incoming', number: '+4917012345678', state: 'active' });
    for (const e of events.events) {
      expect(typeof e.timestamp).toBe('number');
      expect(e).toHaveProperty('data');
    }
    events.close();
  });

  it('works with a doubled slash from a trailing-slash base_url', async () => {
    const phone = new PhoneSim(gw.url, gw.bearer);
    phone.pathPrefix = '/';
    const cfg = await phone.getCallConfig();
    const g = await phone.greeting(String(cfg.greeting_incoming));
    expect(g.status).toBe(200);
    const r = await phone.say(utterance(1.5));
    expect(r.status).toBe(200);
    expect(r.reply).toMatch(/^You said/);
  });

  it('a new call from the phone ends the previous open call and starts a fresh session', async () => {
    const events = await eventStream(gw.url);
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const first = phone.sessionId;
    await phone.greeting('Hi again');
    expect(phone.sessionId).not.toBe(first);
    const ended = await events.waitFor((e) => e.type === 'session.ended' && e.session_id === first);
    expect(ended.data).toMatchObject({ reason: 'new_call' });
    events.close();
  });

  it('without a phone bridge, two phones on different addresses keep their calls; each new call ends only the previous call of its own phone', async () => {
    const a = new PhoneSim(gw.url, gw.bearer, '+4917011111', 'incoming');
    const b = new PhoneSim(gw.url, gw.bearer, '+4917022222', 'incoming');
    a.localAddress = '127.0.0.2';
    b.localAddress = '127.0.0.3';
    await a.greeting('Hi A');
    await b.greeting('Hi B');
    const [a1, b1] = [a.sessionId, b.sessionId];
    expect(gw.app.ctx.calls.active().map((s) => s.id).sort()).toEqual([a1, b1].sort());
    // both phones keep talking: neither call was hung up
    expect((await a.say(utterance(1))).disconnect).toBe(false);
    expect((await b.say(utterance(1))).disconnect).toBe(false);
    // phone A starts its next call: only A's previous call ends
    await a.greeting('Hi A again');
    expect(gw.app.ctx.calls.isEnded(a1)).toBe(true);
    expect(gw.app.ctx.calls.isEnded(b1)).toBe(false);
    expect((await b.say(utterance(1))).disconnect).toBe(false);
  });
});
