/**
 * The human operator's modes, over the agent WebSocket and the operator REST routes: the holding
 * phrase while typing (nothing lost, no LLM jump-in), draft (approve / edit / not approved in time),
 * steer, say now, hand back, hang up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CallSummary, TurnRecord } from '../../src-main/calls/types';
import { KNOWLEDGE_HEADER } from '../../src-main/calls/prompt';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { AgentClient } from './agent-client';

let gw: TestGateway;
const records: TurnRecord[] = [];
const open: AgentClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
  await gw.close();
});

async function setup(config: Record<string, unknown> = {}) {
  gw = await startGateway({ config });
  records.length = 0;
  gw.app.ctx.calls.addObserver({ turnCompleted: (_c: CallSummary, t: TurnRecord) => void records.push(t) });
  const phone = new PhoneSim(gw.url, gw.bearer);
  await phone.greeting('Hello.');
  return { phone, sid: phone.sessionId };
}

async function operator(name = 'Alice') {
  const a = await AgentClient.connect(gw.url, { name, role: 'operator' });
  open.push(a);
  return a;
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

const producers = (sid: string) => records.filter((t) => t.session_id === sid).map((t) => t.producer);

describe('operator: holding phrase while typing', () => {
  it('answers the phone with the holding phrase at the deadline and speaks the operator’s reply on the next poll', async () => {
    const { phone, sid } = await setup({ agent_takeover_timeout: 1 });
    const op = await operator();
    expect(await op.request({ type: 'takeover', session_id: sid })).toMatchObject({ ok: true, agent: 'Alice' });
    expect(await op.request({ type: 'typing', session_id: sid })).toMatchObject({ type: 'typing.ack', ok: true, typing: true });
    expect((await op.event('operator.typing')).data).toMatchObject({ session_id: sid, agent: 'Alice', kind: 'operator', typing: true });

    const llmBefore = gw.engines.llmCalls.length;
    gw.engines.transcripts.push('where is my order', 'okay');
    const turn = phone.say(utterance(2));
    const req = await op.direct('turn.request');
    expect(req).toMatchObject({ transcript: 'where is my order', mode: 'takeover' });
    const holding = await turn;
    expect(holding.status).toBe(200);
    expect(holding.reply).toBe('One moment, please.');
    expect(holding.audio).not.toBeNull();
    expect(await op.direct('turn.holding')).toMatchObject({ session_id: sid, request_id: req.request_id, text: 'One moment, please.' });

    op.send({ request_id: req.request_id, reply: 'Your order ships on Monday.' });
    expect(await op.direct('reply.ack')).toMatchObject({ ok: true, request_id: req.request_id, delivery: 'queued' });
    expect((await op.event('agent.inject')).data).toMatchObject({ text: 'Your order ships on Monday.', producer: 'operator:Alice' });
    // sending the reply ends the typing state, and every console is told
    expect((await op.event('operator.typing', (e) => e.data.typing === false)).data).toMatchObject({ session_id: sid, agent: 'Alice', kind: 'operator', typing: false });

    const next = await phone.say(utterance(2, 24000, 2));
    expect(next.reply).toBe('Your order ships on Monday.');
    // the delivered speech's turn.complete names who queued it
    expect((await op.event('turn.complete', (e) => e.data.reply === 'Your order ships on Monday.')).data).toMatchObject({ model: 'inject', producer: 'operator:Alice', session_id: sid });
    expect(gw.engines.llmCalls.length).toBe(llmBefore);
    expect(producers(sid)).toEqual(['forced', 'holding', 'operator:Alice']);
    // nothing lost: both caller utterances and the operator's answer are in the history
    const state = await op.request({ type: 'get_call_state', session_id: sid }, 'call_state');
    expect((state.history as { role: string; content: string }[]).map((m) => m.content)).toEqual(['where is my order', 'okay', 'Your order ships on Monday.']);
  });

  it('a reply to a held request answers the caller’s newer waiting turn directly', async () => {
    const { phone, sid } = await setup({ agent_takeover_timeout: 1 });
    const op = await operator();
    await op.request({ type: 'takeover', session_id: sid });
    await op.request({ type: 'typing', session_id: sid });
    gw.engines.transcripts.push('first question', 'hello are you there');
    const t1 = phone.say(utterance(2));
    const r1 = await op.direct('turn.request');
    expect((await t1).reply).toBe('One moment, please.');
    gw.app.ctx.config.update({ agent_takeover_timeout: 600 });

    const t2 = phone.say(utterance(2, 24000, 2));
    const r2 = await op.direct('turn.request');
    expect(r2.transcript).toBe('hello are you there');
    op.send({ request_id: r1.request_id, reply: 'Yes, here is your answer.' });
    expect(await op.direct('reply.ack')).toMatchObject({ ok: true, request_id: r2.request_id, delivery: 'spoken' });
    expect((await t2).reply).toBe('Yes, here is your answer.');
    expect(producers(sid)).toEqual(['forced', 'holding', 'operator:Alice']);
    const pending = (await (await fetch(`${gw.url}/api/operator/pending`)).json()) as { requests: unknown[] };
    expect(pending.requests).toEqual([]);
  });

  it('works the same for a console using only the REST routes and the event stream', async () => {
    const { phone, sid } = await setup({ agent_takeover_timeout: 1 });
    const events = await eventStream(gw.url);
    expect((await post('/api/operator/takeover', { session_id: sid, operator: 'Bob' })).json).toMatchObject({ ok: true, agent: 'Bob', mode: 'takeover' });
    expect((await post('/api/operator/typing', { session_id: sid, operator: 'Bob' })).json).toMatchObject({ ok: true, typing: true });
    gw.engines.transcripts.push('can I change my address', 'thanks');
    const turn = phone.say(utterance(2));
    const awaiting = await events.waitFor((e) => e.type === 'turn.awaiting_reply');
    expect(awaiting.data).toMatchObject({ session_id: sid, transcript: 'can I change my address', holder: { kind: 'operator', name: 'Bob', mode: 'takeover' } });
    expect((await turn).reply).toBe('One moment, please.');
    await events.waitFor((e) => e.type === 'turn.holding' && e.session_id === sid);
    const pending = (await (await fetch(`${gw.url}/api/operator/pending`)).json()) as { requests: Record<string, unknown>[] };
    expect(pending.requests).toEqual([expect.objectContaining({ session_id: sid, state: 'held', transcript: 'can I change my address' })]);

    const r = await post('/api/operator/reply', { session_id: sid, text: 'Yes, tell me the new one.', operator: 'Bob' });
    expect(r).toMatchObject({ status: 200, json: { ok: true, delivery: 'queued' } });
    expect((await phone.say(utterance(2, 24000, 2))).reply).toBe('Yes, tell me the new one.');
    expect(producers(sid)).toEqual(['forced', 'holding', 'operator:Bob']);
    const status = (await (await fetch(`${gw.url}/api/status`)).json()) as { agents: Record<string, unknown>[] };
    expect(status.agents).toEqual([expect.objectContaining({ name: 'Bob', kind: 'operator', transport: 'rest', takeover_sessions: [sid] })]);
    events.close();
  });
});

describe('operator: draft mode', () => {
  it('speaks an approved draft as the model’s, an edited one as the operator’s, and an unapproved one at the deadline', async () => {
    const { phone, sid } = await setup();
    const op = await operator();
    expect(await op.request({ type: 'draft', session_id: sid })).toMatchObject({ type: 'draft.ack', ok: true, mode: 'draft' });

    gw.engines.transcripts.push('what are your hours', 'do you deliver', 'bye');
    const t1 = phone.say(utterance(2));
    const r1 = await op.direct('turn.request');
    expect(r1.mode).toBe('draft');
    const d1 = await op.direct('turn.draft');
    expect(d1).toMatchObject({ request_id: r1.request_id, draft: 'You said: what are your hours. Anything else?' });
    expect(await op.request({ type: 'approve_draft', request_id: r1.request_id })).toMatchObject({ ok: true, delivery: 'spoken' });
    const a1 = await t1;
    expect(a1.reply).toBe('You said: what are your hours. Anything else?');
    expect(a1.json.metrics).toMatchObject({ llm_model: 'instant-llm' });

    const t2 = phone.say(utterance(2, 24000, 2));
    const r2 = await op.direct('turn.request');
    await op.direct('turn.draft');
    expect(await op.request({ type: 'approve_draft', session_id: sid, text: 'Yes, we deliver within the city.' })).toMatchObject({ ok: true, request_id: r2.request_id });
    const a2 = await t2;
    expect(a2.reply).toBe('Yes, we deliver within the city.');
    expect(a2.json.metrics).toMatchObject({ llm_model: 'operator' });

    gw.app.ctx.config.update({ agent_takeover_timeout: 1 });
    const llmBefore = gw.engines.llmCalls.length;
    const t3 = phone.say(utterance(2, 24000, 3));
    const r3 = await op.direct('turn.request');
    expect(await op.direct('turn.timeout')).toMatchObject({ request_id: r3.request_id, fallback: 'draft' });
    expect((await t3).reply).toBe('You said: bye. Anything else?');
    // the draft was spoken as it was: the model ran once for this turn
    expect(gw.engines.llmCalls.length).toBe(llmBefore + 1);
    expect(producers(sid)).toEqual(['forced', 'local:instant-llm', 'operator:Alice', 'local:instant-llm']);
  });

  it('refuses to approve a draft that is still being written; the operator can answer meanwhile', async () => {
    const { phone, sid } = await setup();
    const op = await operator();
    await op.request({ type: 'draft', session_id: sid });
    let letDraftFinish!: () => void;
    gw.engines.gate = new Promise<void>((r) => (letDraftFinish = r));
    gw.engines.transcripts.push('tell me a joke');
    const t = phone.say(utterance(2));
    const req = await op.direct('turn.request');
    await op.event('turn.awaiting_reply');
    expect(await op.request({ type: 'approve_draft', request_id: req.request_id })).toMatchObject({ ok: false, reason: 'no_draft' });
    expect(await op.request({ type: 'reply', session_id: sid, reply: 'I only know knock-knock jokes.' })).toMatchObject({ type: 'reply.ack', ok: true, delivery: 'spoken' });
    expect((await t).reply).toBe('I only know knock-knock jokes.');
    letDraftFinish();
  });
});

describe('operator: steer, say now, hand back, hang up', () => {
  it('steers the local model with a one-shot turn instruction and persistent knowledge without taking over', async () => {
    const { phone, sid } = await setup();
    expect((await post('/api/operator/steer', { session_id: sid, text: 'Offer a 10% discount.', scope: 'turn' })).json).toMatchObject({ ok: true, scope: 'turn' });
    expect((await post('/api/operator/steer', { session_id: sid, text: 'The caller is Dana, a regular.', scope: 'knowledge' })).json).toMatchObject({ ok: true, scope: 'knowledge' });
    await phone.say(utterance(2));
    await phone.say(utterance(2, 24000, 2));
    const [first, second] = gw.engines.llmCalls.slice(-2).map((c) => c.messages[0].content);
    expect(first).toContain('Offer a 10% discount.');
    expect(second).not.toContain('Offer a 10% discount.');
    for (const sys of [first, second]) expect(sys).toContain(`${KNOWLEDGE_HEADER}\nThe caller is Dana, a regular.`);
    const ctx = (await (await fetch(`${gw.url}/api/agent/context/${sid}`)).json()) as Record<string, unknown>;
    expect(ctx).toEqual({ session_id: sid, knowledge: 'The caller is Dana, a regular.', has_knowledge: true });
    expect((await post('/api/operator/steer', { session_id: 'gone', text: 'x' })).status).toBe(404);
  });

  it('say now queues the operator’s words; hand back returns the call to the local model', async () => {
    const { phone, sid } = await setup();
    const op = await operator('Carol');
    await op.request({ type: 'takeover', session_id: sid });
    const say = await post('/api/operator/say', { session_id: sid, text: 'Let me check that for you.', operator: 'Carol' });
    expect(say).toMatchObject({ status: 200, json: { ok: true, session_id: sid } });
    expect((await phone.say(utterance(2))).reply).toBe('Let me check that for you.');
    // the same over the socket, credited to the operator who said it
    expect(await op.request({ type: 'say', text: 'Found it.' })).toMatchObject({ type: 'say.ack', ok: true, session_id: sid });
    expect((await phone.say(utterance(2, 24000, 5))).reply).toBe('Found it.');
    // REST acts as the connected console of the same name: it is the holder
    expect((await post('/api/operator/release', { session_id: sid, operator: 'Carol' })).json).toMatchObject({ ok: true });
    expect((await op.event('agent.release')).data).toMatchObject({ agent: 'Carol', kind: 'operator', reason: 'released' });
    expect((await post('/api/operator/release', { session_id: sid, operator: 'Carol' })).status).toBe(409);
    gw.engines.transcripts.push('anything new');
    expect((await phone.say(utterance(2, 24000, 2))).reply).toBe('You said: anything new. Anything else?');
    expect(producers(sid)).toEqual(['forced', 'operator:Carol', 'operator:Carol', 'local:instant-llm']);
  });

  it('the operator’s hang up ends the call even without a phone bridge; the phone hangs up on its next turn', async () => {
    const { phone, sid } = await setup();
    const upstream = await post('/api/call/hangup', { session_id: sid });
    expect(upstream.json).toMatchObject({ ok: false });
    expect(String(upstream.json.detail)).toContain('phone bridge not available');
    expect(gw.app.ctx.calls.get(sid)?.ended).toBe(false);

    const r = await post('/api/operator/hangup', { session_id: sid });
    expect(r).toMatchObject({ status: 200, json: { ok: true, session_id: sid, phone: { ok: false } } });
    expect(gw.app.ctx.calls.get(sid)?.ended).toBe(true);
    const next = await phone.say(utterance(2));
    expect(next.json).toMatchObject({ ended: true, hangup: true });
    expect((await post('/api/operator/hangup', { session_id: sid })).status).toBe(409);
    expect((await post('/api/operator/hangup', {})).status).toBe(404);
  });
});
