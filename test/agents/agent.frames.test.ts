/**
 * Frame handling on /api/agent/ws: every bad frame gets `{type:"error", detail, for}` and the socket
 * and server stay up; acks echo the request's `id`; a slow command never delays a takeover reply.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { AgentClient, FakeBridge } from './agent-client';

let gw: TestGateway;
const open: AgentClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
  await gw.close();
});

async function agent(o: { name?: string; query?: string } = {}) {
  const a = await AgentClient.connect(gw.url, o);
  open.push(a);
  return a;
}

describe('agent socket frames', () => {
  it('answers a frame that is not JSON, has no type or an unknown one with an error, and keeps the connection and server up', async () => {
    gw = await startGateway();
    const a = await agent();
    const cases: [unknown, string | null, RegExp][] = [
      ['{not json', null, /invalid JSON/],
      ['[1,2,3]', null, /JSON object/],
      ['42', null, /JSON object/],
      ['null', null, /JSON object/],
      ['"takeover"', null, /JSON object/],
      [{ session_id: 'x' }, null, /no "type"/],
      [{ type: 'launch_rockets' }, 'launch_rockets', /unknown frame type "launch_rockets"/],
      [{ type: 17 }, null, /unknown frame type 17/],
      [{ type: 'ping', id: { nested: true } }, 'ping', /id/],
    ];
    for (const [frame, forType, detail] of cases) {
      a.send(frame);
      const err = await a.direct('error');
      expect(err.for, JSON.stringify(frame)).toBe(forType);
      expect(String(err.detail), JSON.stringify(frame)).toMatch(detail);
    }
    expect(await a.request({ type: 'launch_rockets' })).toMatchObject({ type: 'error', for: 'launch_rockets' });
    expect(await a.request({ type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
    expect((await fetch(`${gw.url}/api/agent/sessions`)).status).toBe(200);
  });

  it('answers a known command with a missing or badly typed field by its own ack {ok:false, reason:"invalid"} naming the field', async () => {
    gw = await startGateway();
    const a = await agent();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ type: 'takeover' }, /session_id/],
      [{ type: 'takeover', session_id: 'x', mode: 'chaos' }, /mode/],
      [{ type: 'release' }, /session_id/],
      [{ type: 'get_call_state' }, /session_id/],
      [{ type: 'get_call_state', session_id: 42 }, /session_id/],
      [{ type: 'set_instructions', session_id: 'x' }, /instructions/],
      [{ type: 'inject', text: 5 }, /text/],
      [{ type: 'dial' }, /number/],
      [{ type: 'dial', number: true }, /number/],
      [{ type: 'set_call_config', config: 'all of it' }, /config/],
      [{ type: 'inject_context', session_id: 'x' }, /context/],
      [{ type: 'hello', name: '<script>' }, /name/],
      [{ type: 'hello', name: 'ok', role: 'admin' }, /role/],
      [{ type: 'typing', session_id: 'x', typing: 'yes' }, /typing/],
      [{ type: 'approve_draft' }, /request_id or session_id/],
      [{ type: 'steer', session_id: 'x', text: 'hi', scope: 'global' }, /scope/],
    ];
    for (const [frame, field] of cases) {
      a.send(frame);
      const ack = await a.direct(`${String(frame.type)}.ack`);
      const what = JSON.stringify(frame);
      expect(ack, what).toMatchObject({ ok: false, reason: 'invalid' });
      expect(ack, what).not.toHaveProperty('id');
      expect(String(ack.detail), what).toMatch(field);
      expect(ack.error, what).toBe(ack.detail);
    }
    expect(a.frames.some((f) => f.type === 'error')).toBe(false);
    // the request id and the session id come back with the refusal
    expect(await a.request({ type: 'takeover', session_id: 'x', mode: 'chaos' })).toMatchObject({ type: 'takeover.ack', ok: false, reason: 'invalid', session_id: 'x' });
    expect(await a.request({ type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
    expect((await fetch(`${gw.url}/api/agent/sessions`)).status).toBe(200);
  });

  it('takes a numeric dial number as its string, as REST does', async () => {
    const bridge = new FakeBridge();
    gw = await startGateway({ app: { phone: bridge } });
    const a = await agent();
    expect(await a.request({ type: 'dial', number: 4930123456 })).toMatchObject({ type: 'dial.ack', ok: true, number: '4930123456' });
    expect(bridge.dials).toEqual(['4930123456']);
  });

  it('echoes the request id in acks (two concurrent takeovers are told apart) and stays shape-compatible without one', async () => {
    gw = await startGateway();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi.');
    const a = await agent();
    a.send({ type: 'takeover', session_id: phone.sessionId, id: 'B' });
    a.send({ type: 'takeover', session_id: 'nope', id: 'A' });
    const ackA = await a.take((f) => f.id === 'A');
    const ackB = await a.take((f) => f.id === 'B');
    expect(ackA).toMatchObject({ type: 'takeover.ack', ok: false, reason: 'unknown_session' });
    expect(ackB).toMatchObject({ type: 'takeover.ack', ok: true });
    a.send({ type: 'ping' });
    expect(await a.direct('pong')).toEqual({ type: 'pong' });
    a.send({ type: 'release', session_id: 'nope' });
    const rel = await a.direct('release.ack');
    expect(rel).not.toHaveProperty('id');
    expect(rel).toMatchObject({ ok: false, session_id: 'nope' });
  });

  it('a slow dial does not delay the takeover ack or the reply to a waiting turn', async () => {
    const bridge = new FakeBridge();
    bridge.holdDial = true;
    gw = await startGateway({ app: { phone: bridge }, config: { agent_takeover_timeout: 600 } });
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi.');
    const a = await agent({ name: 'busy' });
    a.send({ type: 'dial', number: '+4930999', id: 'dial' });
    await bridge.dialStarted;
    expect(await a.request({ type: 'takeover', session_id: phone.sessionId })).toMatchObject({ ok: true });
    gw.engines.transcripts.push('quick question');
    const turn = phone.say(utterance(2));
    const req = await a.direct('turn.request');
    a.send({ request_id: req.request_id, reply: 'Quick answer.' });
    expect((await turn).reply).toBe('Quick answer.');
    // the dial is still running all along
    expect(a.frames.some((f) => f.id === 'dial')).toBe(false);
    bridge.releaseDial();
    expect(await a.take((f) => f.id === 'dial')).toMatchObject({ type: 'dial.ack', ok: true });
  });

  it('a slow inject (speech synthesis) does not delay a takeover on the same connection', async () => {
    gw = await startGateway();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi.');
    const a = await agent();
    gw.engines.delay.tts = 1_500;
    const t0 = Date.now();
    a.send({ type: 'inject', text: 'Please hold the line.', session_id: phone.sessionId, id: 'inj' });
    const ack = await a.request({ type: 'takeover', session_id: phone.sessionId });
    expect(ack).toMatchObject({ type: 'takeover.ack', ok: true });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(a.frames.some((f) => f.id === 'inj')).toBe(false);
    expect(await a.take((f) => f.id === 'inj')).toMatchObject({ type: 'inject.ack', ok: true });
  });

  it('bounds the slow commands one connection may have running, while pings and replies still get through', async () => {
    const bridge = new FakeBridge();
    bridge.holdDial = true;
    gw = await startGateway({ app: { phone: bridge }, config: { agent_takeover_timeout: 600 } });
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi.');
    const a = await agent();
    expect(await a.request({ type: 'takeover', session_id: phone.sessionId })).toMatchObject({ ok: true });
    for (let i = 0; i < 64; i++) a.send({ type: 'dial', number: `+49301234${i}`, id: `d${i}` });
    const refused = await a.request({ type: 'dial', number: '+4930999' });
    expect(refused).toMatchObject({ type: 'dial.ack', ok: false, reason: 'busy' });
    expect(String(refused.detail)).toContain('too many commands in flight');
    expect(await a.request({ type: 'inject', text: 'more' })).toMatchObject({ type: 'inject.ack', ok: false, reason: 'busy' });
    expect(await a.request({ type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
    // the synchronous commands are never refused by the cap
    const sid = phone.sessionId;
    expect(await a.request({ type: 'release', session_id: sid })).toMatchObject({ type: 'release.ack', ok: true });
    expect(await a.request({ type: 'takeover', session_id: sid })).toMatchObject({ type: 'takeover.ack', ok: true });
    expect(await a.request({ type: 'typing', session_id: sid, typing: false })).toMatchObject({ type: 'typing.ack', ok: true });
    expect(await a.request({ type: 'hello', name: 'still here' })).toMatchObject({ type: 'hello.ack', ok: true, name: 'still here' });
    expect(await a.request({ type: 'get_call_state', session_id: sid }, 'call_state')).toMatchObject({ type: 'call_state', status: 'active', agent_takeover: true });
    expect(await a.request({ type: 'steer', session_id: sid, text: 'be brief' })).toMatchObject({ type: 'steer.ack', ok: true });
    gw.engines.transcripts.push('still answering');
    const turn = phone.say(utterance(2));
    const req = await a.direct('turn.request');
    a.send({ request_id: req.request_id, reply: 'Yes, still answering.' });
    expect((await turn).reply).toBe('Yes, still answering.');
    bridge.holdDial = false;
    bridge.releaseDial();
    await a.take((f) => f.id === 'd63' && f.type === 'dial.ack');
    expect(bridge.dials).toHaveLength(64);
    expect(await a.request({ type: 'dial', number: '+4930999' })).toMatchObject({ type: 'dial.ack', ok: true });
  });

  it('rejects a bad name in the connection query but keeps the connection, with the default name', async () => {
    gw = await startGateway();
    const a = await agent({ query: 'name=%3Cscript%3E' });
    expect(await a.direct('error')).toMatchObject({ for: 'hello' });
    expect((await a.event('agent.connected')).data).toMatchObject({ agent: 'agent' });
    expect(await a.request({ type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
  });
});
