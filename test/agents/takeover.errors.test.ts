/**
 * Every row of the seed's takeover error table, through real sockets and the phone simulator:
 * holder disconnects mid-turn, reply after the deadline, the call ends during takeover, two agents
 * take over one call, takeover of an unknown/ended call, release without takeover; plus replies from
 * the wrong agent and empty / non-string replies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { AgentClient } from './agent-client';

let gw: TestGateway;
const open: AgentClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
  await gw.close();
});

async function setup(config: Record<string, unknown> = {}) {
  gw = await startGateway({ config });
  const phone = new PhoneSim(gw.url, gw.bearer);
  await phone.greeting('Hello.');
  return { phone, sid: phone.sessionId };
}

async function agent(name: string, role?: 'agent' | 'operator') {
  const a = await AgentClient.connect(gw.url, { name, role });
  open.push(a);
  return a;
}

describe('takeover error handling', () => {
  it('a holder that disconnects mid-turn releases the call and the waiting turn falls back at once', async () => {
    // a 600 s deadline: had the turn waited for it, this test would time out
    const { phone, sid } = await setup({ agent_takeover_timeout: 600 });
    const a = await agent('leaver');
    const watcher = await agent('watcher');
    expect(await a.request({ type: 'takeover', session_id: sid })).toMatchObject({ ok: true });
    gw.engines.transcripts.push('are you still there');
    const turn = phone.say(utterance(2));
    await a.direct('turn.request');
    await a.close();
    const r = await turn;
    expect(r.reply).toBe('You said: are you still there. Anything else?');
    expect(r.json.metrics).toMatchObject({ llm_model: 'instant-llm' });
    const rel = await watcher.event('agent.release', (e) => e.session_id === sid);
    expect(rel.data).toMatchObject({ agent: 'leaver', reason: 'disconnected' });
    const cancelled = await watcher.event('turn.cancelled');
    expect(cancelled.data).toMatchObject({ session_id: sid, reason: 'disconnected' });
    const state = (await (await fetch(`${gw.url}/api/agent/call/${sid}`)).json()) as Record<string, unknown>;
    expect(state).toMatchObject({ agent_takeover: false, holder: null });
  });

  it('a reply after the deadline is dropped and reported; the local model answered and the agent was told', async () => {
    const { phone, sid } = await setup({ agent_takeover_timeout: 1 });
    const a = await agent('slowpoke');
    await a.request({ type: 'takeover', session_id: sid });
    gw.engines.transcripts.push('hello');
    const turn = phone.say(utterance(2));
    const req = await a.direct('turn.request');
    expect(req.deadline_ms).toBeLessThanOrEqual(1000);
    const timeout = await a.direct('turn.timeout');
    expect(timeout).toMatchObject({ session_id: sid, request_id: req.request_id, fallback: 'local' });
    const r = await turn;
    expect(r.reply).toBe('You said: hello. Anything else?');
    a.send({ request_id: req.request_id, reply: 'Sorry, I was slow.' });
    const ack = await a.direct('reply.ack');
    expect(ack).toMatchObject({ ok: false, request_id: req.request_id, reason: 'not_pending' });
    expect(String(ack.detail)).toContain('timed out');
    // the takeover itself stays: the next turn asks the agent again
    gw.engines.transcripts.push('second try');
    const next = phone.say(utterance(2, 24000, 2));
    const req2 = await a.direct('turn.request');
    a.send({ request_id: req2.request_id, reply: 'On time now.' });
    expect((await next).reply).toBe('On time now.');
  });

  it('a call that ends during takeover cancels its waiting turn and releases the takeover; the agent is told', async () => {
    const { phone, sid } = await setup({ agent_takeover_timeout: 600 });
    const a = await agent('holder');
    await a.request({ type: 'takeover', session_id: sid });
    gw.engines.transcripts.push('hold on');
    const turn = phone.say(utterance(2));
    const req = await a.direct('turn.request');
    const end = await a.request({ type: 'end_session', session_id: sid });
    expect(end).toMatchObject({ type: 'end_session.ack', ok: true, session_id: sid });
    expect(await a.direct('turn.cancelled')).toMatchObject({ session_id: sid, request_id: req.request_id, reason: 'ended' });
    expect(await a.direct('takeover.lost')).toMatchObject({ session_id: sid, reason: 'ended', by: null });
    const r = await turn;
    // the phone is told the call is over
    expect(r.json).toMatchObject({ ok: false, ended: true, hangup: true });
    expect((await a.event('agent.release', (e) => e.session_id === sid)).data).toMatchObject({ reason: 'ended' });
    expect(await a.request({ type: 'release', session_id: sid })).toMatchObject({ ok: false, reason: 'not_taken_over' });
    a.send({ request_id: req.request_id, reply: 'too late' });
    expect(await a.direct('reply.ack')).toMatchObject({ ok: false, reason: 'not_pending' });
  });

  it('two agents take over one call: the last wins, the first is told, and the waiting turn moves to the winner', async () => {
    const { phone, sid } = await setup({ agent_takeover_timeout: 600 });
    const first = await agent('first');
    const second = await agent('second');
    await first.request({ type: 'takeover', session_id: sid });
    gw.engines.transcripts.push('who am I talking to');
    const turn = phone.say(utterance(2));
    const req = await first.direct('turn.request');

    const ack = await second.request({ type: 'takeover', session_id: sid });
    expect(ack).toMatchObject({ ok: true, agent: 'second', previous: { kind: 'agent', name: 'first' } });
    expect(await first.direct('takeover.lost')).toMatchObject({ session_id: sid, reason: 'taken_over', by: { kind: 'agent', name: 'second' } });
    const ev = await first.event('agent.takeover', (e) => e.data.agent === 'second');
    expect(ev.data).toMatchObject({ session_id: sid, previous: { name: 'first' } });

    // the same waiting request is now the second agent's; the first can no longer answer it
    const moved = await second.direct('turn.request');
    expect(moved).toMatchObject({ request_id: req.request_id, transcript: 'who am I talking to' });
    first.send({ request_id: req.request_id, reply: 'I am first' });
    expect(await first.direct('reply.ack')).toMatchObject({ ok: false, reason: 'not_holder' });
    second.send({ request_id: req.request_id, reply: 'You are talking to second.' });
    expect((await turn).reply).toBe('You are talking to second.');
    expect(await second.direct('reply.ack')).toMatchObject({ ok: true, delivery: 'spoken' });

    // the first agent's disconnect does not remove the second's takeover (upstream bug §16 #14)
    await first.close();
    gw.engines.transcripts.push('still there');
    const next = phone.say(utterance(2, 24000, 3));
    const req2 = await second.direct('turn.request');
    second.send({ request_id: req2.request_id, reply: 'Still here.' });
    expect((await next).reply).toBe('Still here.');
  });

  it('takeover of an unknown or ended call and release without takeover are refused with a reason', async () => {
    const { sid } = await setup();
    const a = await agent('a');
    const b = await agent('b');
    expect(await a.request({ type: 'takeover', session_id: 'no-such-call' })).toMatchObject({ type: 'takeover.ack', ok: false, session_id: 'no-such-call', reason: 'unknown_session' });
    expect(await a.request({ type: 'release', session_id: sid })).toMatchObject({ type: 'release.ack', ok: false, session_id: sid, reason: 'not_taken_over' });
    await a.request({ type: 'takeover', session_id: sid });
    const notMine = await b.request({ type: 'release', session_id: sid });
    expect(notMine).toMatchObject({ ok: false, reason: 'not_holder' });
    expect(String(notMine.detail)).toContain('agent:a');
    await a.request({ type: 'end_session', session_id: sid });
    expect(await b.request({ type: 'takeover', session_id: sid })).toMatchObject({ ok: false, reason: 'session_ended' });
    // a missing session id is a malformed command, answered by its ack (upstream clients wait for it)
    expect(await a.request({ type: 'takeover' })).toMatchObject({ type: 'takeover.ack', ok: false, reason: 'invalid' });
  });

  it('only the holder may answer; a non-string reply is refused and the turn still waits; an empty one hands over to the local model', async () => {
    const { phone, sid } = await setup({ agent_takeover_timeout: 600 });
    const holder = await agent('holder');
    const other = await agent('other');
    await holder.request({ type: 'takeover', session_id: sid });
    gw.engines.transcripts.push('question one');
    const t1 = phone.say(utterance(2));
    const r1 = await holder.direct('turn.request');
    // any client sees the request id on the bus, but only the holder's reply counts (§16 #18)
    const seen = await other.event('turn.awaiting_reply');
    expect(seen.data).toMatchObject({ request_id: r1.request_id, holder: { name: 'holder' } });
    other.send({ request_id: r1.request_id, reply: 'hijack!' });
    expect(await other.direct('reply.ack')).toMatchObject({ ok: false, reason: 'not_holder' });
    holder.send({ request_id: r1.request_id, reply: null });
    expect(await holder.direct('reply.ack')).toMatchObject({ ok: false, reason: 'invalid' });
    holder.send({ request_id: r1.request_id, reply: 42 });
    expect(await holder.direct('reply.ack')).toMatchObject({ ok: false, reason: 'invalid' });
    holder.send({ type: 'whatever', request_id: r1.request_id, reply: 'Real answer.' });
    expect((await t1).reply).toBe('Real answer.');
    expect(await holder.direct('reply.ack')).toMatchObject({ ok: true, delivery: 'spoken', request_id: r1.request_id });

    gw.engines.transcripts.push('question two');
    const llmBefore = gw.engines.llmCalls.length;
    const t2 = phone.say(utterance(2, 24000, 2));
    const r2 = await holder.direct('turn.request');
    holder.send({ request_id: r2.request_id, reply: '   ' });
    expect(await holder.direct('reply.ack')).toMatchObject({ ok: true, delivery: 'local' });
    const answer = await t2;
    expect(answer.reply).toBe('You said: question two. Anything else?');
    expect(gw.engines.llmCalls.length).toBe(llmBefore + 1);
    holder.send({ request_id: 'f'.repeat(32), reply: 'for nothing' });
    expect(await holder.direct('reply.ack')).toMatchObject({ ok: false, reason: 'unknown_request' });
  });
});
