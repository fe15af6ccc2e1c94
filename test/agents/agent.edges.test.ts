/**
 * Edges of the agent interface: the access decision for a client on another machine, acks of
 * upstream clients that send no `id`, a bad role in the connection query, frames over the 1 MiB
 * limit, typing on a call that has ended.
 */
import type { FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { decideAccess } from '../../src-main/gateway/auth';
import { configSchema } from '../../src-shared/config/schema';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, SILENCE_WAV } from '../helpers/phone-sim';
import { AgentClient } from './agent-client';

let gw: TestGateway | undefined;
const open: AgentClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
  const g = gw;
  gw = undefined;
  await g?.close();
});

async function agent(o: { name?: string; role?: 'agent' | 'operator'; query?: string } = {}) {
  const a = await AgentClient.connect(gw!.url, o);
  open.push(a);
  return a;
}

describe('access decision for a client on another machine', () => {
  const TOKEN = 'operator-token-0123456789abcdef';
  const opts = (cfg: Record<string, unknown> = {}) => ({ config: () => configSchema.parse(cfg), operatorToken: () => TOKEN, port: () => 8996 });
  const req = (remoteAddress: string, url: string, headers: Record<string, string> = {}) =>
    ({ socket: { remoteAddress }, headers: { host: '127.0.0.1:8996', ...headers }, url, query: Object.fromEntries(new URL(url, 'http://x').searchParams) }) as unknown as FastifyRequest;

  it('needs the operator token for the agent socket and the agent/operator routes', () => {
    for (const url of ['/api/agent/ws', '/api/operator/takeover', '/api/call/dial', '/ws/events', '/api/status']) {
      expect(decideAccess(req('192.168.1.20', url), opts()), url).toMatchObject({ ok: false, status: 401, detail: expect.stringMatching(/other machines/) });
      expect(decideAccess(req('::ffff:10.0.0.7', url), opts()), url).toMatchObject({ ok: false, status: 401 });
      expect(decideAccess(req('192.168.1.20', `${url}?token=${TOKEN}`), opts()), url).toEqual({ ok: true, operator: true });
      expect(decideAccess(req('192.168.1.20', url, { authorization: `Bearer ${TOKEN}` }), opts()), url).toEqual({ ok: true, operator: true });
      expect(decideAccess(req('192.168.1.20', `${url}?token=wrong-token-0123456789abcdef`), opts()), url).toMatchObject({ ok: false, status: 401 });
      // the same request from this machine passes without a token
      expect(decideAccess(req('127.0.0.1', url), opts()), url).toEqual({ ok: true, operator: false });
    }
    // the phone's bearer is not the operator token
    expect(decideAccess(req('192.168.1.20', '/api/agent/ws', { authorization: 'Bearer test-bearer-0123456789' }), opts({ bearer_token: 'test-bearer-0123456789' }))).toMatchObject({ ok: false, status: 401 });
    // a remote client naming another host needs the token too (DNS rebinding)
    expect(decideAccess(req('192.168.1.20', '/api/agent/ws', { host: '192.168.1.5:8996' }), opts())).toMatchObject({ ok: false, status: 403 });
    expect(decideAccess(req('192.168.1.20', `/api/agent/ws?token=${TOKEN}`, { host: '192.168.1.5:8996' }), opts())).toEqual({ ok: true, operator: true });
  });

  it('the gateway applies it: a request from another address is refused without the token (injected, no network)', async () => {
    gw = await startGateway();
    const server = gw.app.server;
    const remote = { remoteAddress: '192.168.1.20', headers: { host: '127.0.0.1' } };
    expect((await server.inject({ method: 'GET', url: '/api/operator/pending', ...remote })).statusCode).toBe(401);
    expect((await server.inject({ method: 'GET', url: '/api/operator/pending', ...remote, headers: { ...remote.headers, authorization: `Bearer ${gw.operatorToken}` } })).statusCode).toBe(200);
    expect((await server.inject({ method: 'GET', url: '/api/operator/pending', headers: { host: '127.0.0.1' } })).statusCode).toBe(200);
  });
});

describe('agent socket edges', () => {
  it('acks carry no id when the command sent none (upstream clients), for every kind of command', async () => {
    gw = await startGateway();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi.');
    const sid = phone.sessionId;
    const a = await agent();
    const frames: [Record<string, unknown>, string][] = [
      [{ type: 'hello', name: 'bridge' }, 'hello.ack'],
      [{ type: 'takeover', session_id: sid }, 'takeover.ack'],
      [{ type: 'typing', session_id: sid }, 'typing.ack'],
      [{ type: 'get_call_state', session_id: sid }, 'call_state'],
      [{ type: 'set_instructions', session_id: sid, scope: 'session', instructions: 'Be brief.' }, 'set_instructions.ack'],
      [{ type: 'inject_context', session_id: sid, context: 'VIP caller' }, 'inject_context.ack'],
      [{ type: 'inject', text: 'One moment.', session_id: sid }, 'inject.ack'],
      [{ type: 'release', session_id: sid }, 'release.ack'],
      [{ type: 'release', session_id: sid }, 'release.ack'],
      [{ type: 'takeover' }, 'takeover.ack'],
      [{ type: 'ping' }, 'pong'],
    ];
    for (const [frame, answer] of frames) {
      a.send(frame);
      const ack = await a.direct(answer);
      expect(ack, JSON.stringify(frame)).not.toHaveProperty('id');
    }
    expect(a.frames.filter((f) => f.type === 'release.ack').map((f) => f.ok)).toEqual([true, false]);
  });

  it('a bogus role in the connection query is reported and the client connects as an agent', async () => {
    gw = await startGateway();
    const a = await agent({ name: 'bridge', query: 'role=bogus' });
    const err = await a.direct('error');
    expect(err).toMatchObject({ for: 'hello' });
    expect(String(err.detail)).toMatch(/role/);
    expect((await a.event('agent.connected')).data).toMatchObject({ kind: 'agent' });
    // a hello with a bad role changes nothing
    expect(await a.request({ type: 'hello', name: 'x', role: 'root' })).toMatchObject({ type: 'hello.ack', ok: false, reason: 'invalid' });
    expect(await a.request({ type: 'hello', name: 'x', role: 'operator' })).toMatchObject({ type: 'hello.ack', ok: true, name: 'x', role: 'operator' });
  });

  it('closes a connection that sends a frame over 1 MiB (1009); the server and other agents stay up', async () => {
    gw = await startGateway();
    const big = await agent({ name: 'big' });
    const other = await agent({ name: 'other' });
    const code = new Promise<number>((resolve) => big.ws.once('close', (c) => resolve(c)));
    big.send(JSON.stringify({ type: 'inject', text: 'x'.repeat(1024 * 1024 + 10) }));
    expect(await code).toBe(1009);
    expect((await other.event('agent.disconnected', (e) => e.data.agent === 'big')).data).toMatchObject({ agent: 'big' });
    expect(await other.request({ type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
    // just under the limit is a frame like any other (refused for its length, not by closing)
    const ok = await agent();
    ok.send(JSON.stringify({ type: 'inject', text: 'x'.repeat(1024 * 1024 - 64) }));
    expect(await ok.direct('inject.ack')).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('typing on a call that has ended, or never existed, is refused', async () => {
    gw = await startGateway();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi.');
    const sid = phone.sessionId;
    const op = await agent({ name: 'Alice', role: 'operator' });
    expect(await op.request({ type: 'typing', session_id: sid })).toMatchObject({ ok: true, typing: true });
    expect(await op.request({ type: 'end_session', session_id: sid })).toMatchObject({ ok: true });
    expect(await op.request({ type: 'typing', session_id: sid })).toMatchObject({ type: 'typing.ack', ok: false, reason: 'session_ended' });
    expect(await op.request({ type: 'typing', session_id: 'no-such-call' })).toMatchObject({ type: 'typing.ack', ok: false, reason: 'unknown_session' });
    const r = await fetch(`${gw.url}/api/operator/typing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session_id: sid, operator: 'Alice' }) });
    expect(r.status).toBe(409);
    expect(await r.json()).toMatchObject({ ok: false, reason: 'session_ended' });
  });

  it('a session reset (a new call on the same id) ends the takeover: the holder is told and the new call is not held', async () => {
    gw = await startGateway();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi.');
    const sid = phone.sessionId;
    const a = await agent({ name: 'bot' });
    expect(await a.request({ type: 'takeover', session_id: sid })).toMatchObject({ ok: true });
    const fields: [string, string][] = [['reset_session', 'true'], ['session_id', sid], ['transcript_hint', 'Hello again.'], ['forced_reply', 'Hello again.']];
    const raw = phone as unknown as { post(path: string, f: [string, string][], audio: Uint8Array): Promise<{ status: number }> };
    expect((await raw.post('/api/turn', fields, SILENCE_WAV)).status).toBe(200);
    expect(await a.direct('takeover.lost')).toMatchObject({ session_id: sid, reason: 'ended' });
    expect((await a.event('agent.release', (e) => e.session_id === sid)).data).toMatchObject({ reason: 'ended' });
    expect(await a.request({ type: 'get_call_state', session_id: sid }, 'call_state')).toMatchObject({ status: 'active', agent_takeover: false, holder: null });
  });
});
