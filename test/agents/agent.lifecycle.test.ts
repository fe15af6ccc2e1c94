/**
 * The seed's agent test case, end to end through a real WebSocket agent and the phone simulator:
 * dial → session discovered from events → inject a greeting → takeover → three turn.request/reply
 * turns → release → the next turn is the local model's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallSummary, TurnRecord } from '../../src-main/calls/types';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { AgentClient, FakeBridge } from './agent-client';

let gw: TestGateway;
let bridge: FakeBridge;
const records: TurnRecord[] = [];

beforeEach(async () => {
  bridge = new FakeBridge();
  gw = await startGateway({ app: { phone: bridge } });
  records.length = 0;
  gw.app.ctx.calls.addObserver({ turnCompleted: (_c: CallSummary, t: TurnRecord) => void records.push(t) });
});
afterEach(async () => gw.close());

describe('an agent drives a call over /api/agent/ws', () => {
  it('dials, finds the call from events, injects, takes over for three turns, releases to the local model', async () => {
    const agent = await AgentClient.connect(gw.url, { name: 'Claw Bot' });
    const connected = await agent.event('agent.connected');
    expect(connected.data).toMatchObject({ agent_count: 1, agent: 'Claw Bot', kind: 'agent' });

    // dial through the (fake) phone bridge; the number is validated and normalised first
    const dial = await agent.request({ type: 'dial', number: '+49 (170) 123-4567' });
    expect(dial).toMatchObject({ type: 'dial.ack', ok: true });
    expect(bridge.dials).toEqual(['+491701234567']);
    expect((await agent.event('call.dial')).data).toEqual({ number: '+491701234567' });

    // the phone places the call and greets; the agent discovers the session from the event stream
    const phone = new PhoneSim(gw.url, gw.bearer, '+491701234567', 'outgoing');
    await phone.greeting("Hello, this is the owner's assistant calling.");
    const started = await agent.event('session.started');
    const sid = started.session_id;
    expect(sid).toBe(phone.sessionId);
    expect(started.data).toMatchObject({ direction: 'outgoing', number: '+491701234567' });

    // inject a greeting (no session id: the oldest active call) — spoken on the next poll
    const inj = await agent.request({ type: 'inject', text: 'Hi, I am calling about your order.' });
    expect(inj).toMatchObject({ type: 'inject.ack', ok: true, session_id: sid });
    expect((await agent.event('agent.inject')).data).toMatchObject({ text: 'Hi, I am calling about your order.', producer: 'inject' });
    gw.engines.transcripts.push('hello who is this');
    const injected = await phone.say(utterance(2, 24000, 1));
    expect(injected.reply).toBe('Hi, I am calling about your order.');
    expect(injected.json.model).toBe('inject');
    // the caller's words of that poll were still heard and shown to the agent
    expect((await agent.event('turn.transcript', (e) => e.session_id === sid)).data).toEqual({ transcript: 'hello who is this' });

    const take = await agent.request({ type: 'takeover', session_id: sid });
    expect(take).toMatchObject({ type: 'takeover.ack', ok: true, session_id: sid, agent: 'Claw Bot', mode: 'takeover' });
    expect((await agent.event('agent.takeover')).data).toMatchObject({ session_id: sid, agent: 'Claw Bot', previous: null });

    const llmBefore = gw.engines.llmCalls.length;
    const said = ['I would like to move my delivery', 'to next friday please', 'great thanks'];
    gw.engines.transcripts.push(...said);
    for (let i = 0; i < 3; i++) {
      const turn = phone.say(utterance(2, 24000, i + 2));
      const req = await agent.direct('turn.request');
      // upstream's flat shape: no envelope
      expect(req).toMatchObject({ type: 'turn.request', session_id: sid, transcript: said[i], mode: 'takeover' });
      expect(req.request_id).toMatch(/^[0-9a-f]{32}$/);
      expect(req).not.toHaveProperty('data');
      // upstream reply form: request_id + reply, no type
      agent.send({ request_id: req.request_id, reply: `Agent answer ${i + 1}.` });
      const r = await turn;
      expect(r.status).toBe(200);
      expect(r.reply).toBe(`Agent answer ${i + 1}.`);
      expect(r.audio).not.toBeNull();
      expect(r.json.metrics).toMatchObject({ llm_model: 'agent' });
    }
    expect(gw.engines.llmCalls.length).toBe(llmBefore);

    // the agent's replies are in the call's history, as upstream keeps them
    const state = await agent.request({ type: 'get_call_state', session_id: sid }, 'call_state');
    expect(state).toMatchObject({ type: 'call_state', status: 'active', agent_takeover: true, holder: { kind: 'agent', name: 'Claw Bot', mode: 'takeover' } });
    expect((state.history as { content: string }[]).slice(-2).map((m) => m.content)).toEqual(['great thanks', 'Agent answer 3.']);

    const rel = await agent.request({ type: 'release', session_id: sid });
    expect(rel).toMatchObject({ type: 'release.ack', ok: true, session_id: sid });
    expect((await agent.event('agent.release')).data).toMatchObject({ session_id: sid, agent: 'Claw Bot', reason: 'released' });

    gw.engines.transcripts.push('one more thing');
    const after = await phone.say(utterance(2, 24000, 9));
    expect(after.reply).toBe('You said: one more thing. Anything else?');
    expect(after.json.metrics).toMatchObject({ llm_model: 'instant-llm' });
    expect(gw.engines.llmCalls.length).toBe(llmBefore + 1);

    // who produced each reply, per transcript entry
    const mine = records.filter((t) => t.session_id === sid).map((t) => t.producer);
    expect(mine).toEqual(['forced', 'inject', 'agent:Claw Bot', 'agent:Claw Bot', 'agent:Claw Bot', 'local:instant-llm']);
    const complete = await agent.event('turn.complete', (e) => (e.data as { reply?: string }).reply === 'Agent answer 2.');
    expect(complete.data).toMatchObject({ producer: 'agent:Claw Bot' });
    await agent.close();
  });

  it('an agent that names itself with a hello frame is listed under that name in /api/status', async () => {
    const agent = await AgentClient.connect(gw.url);
    expect((await agent.event('agent.connected')).data).toMatchObject({ agent: 'agent' });
    const hello = await agent.request({ type: 'hello', name: 'planner-7', role: 'agent' });
    expect(hello).toMatchObject({ type: 'hello.ack', ok: true, name: 'planner-7', role: 'agent' });
    const status = (await (await fetch(`${gw.url}/api/status`)).json()) as { agents: { name: string; takeover_sessions: string[] }[] };
    expect(status.agents).toEqual([expect.objectContaining({ name: 'planner-7', takeover_sessions: [], kind: 'agent', transport: 'ws' })]);
    await agent.close();
  });
});
