/**
 * Who may open /api/agent/ws and call the agent/operator routes: web pages (a foreign Origin) never;
 * loopback clients without an Origin (the OpenClaw plugin, Python scripts) and the console's own
 * origin do, unless `agent_token_required`; the operator token works as Bearer or ?token=.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { AgentClient, tryConnect } from './agent-client';

let gw: TestGateway;
afterEach(async () => gw.close());

describe('agent socket access', () => {
  it('refuses a foreign Origin (403) and accepts no Origin or the console’s own origin', async () => {
    gw = await startGateway();
    const port = new URL(gw.url).port;
    for (const origin of ['https://evil.example', 'http://localhost:1', 'null']) {
      const r = await tryConnect(gw.url, { headers: { Origin: origin } });
      expect(r.ok, origin).toBe(false);
      if (!r.ok) expect(r.status).toBe(403);
    }
    // even with the token, a web page cannot connect
    const withToken = await tryConnect(gw.url, { headers: { Origin: 'https://evil.example' }, token: gw.operatorToken });
    expect(withToken.ok).toBe(false);

    for (const headers of [{}, { Origin: `http://127.0.0.1:${port}` }, { Origin: `http://localhost:${port}` }] as Record<string, string>[]) {
      const r = await tryConnect(gw.url, { headers });
      expect(r.ok, JSON.stringify(headers)).toBe(true);
      if (r.ok) {
        expect(await r.client.request({ type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
        await r.client.close();
      }
    }
    // a refused page never got to be an agent
    const status = (await (await fetch(`${gw.url}/api/status`)).json()) as { agents: unknown[] };
    expect(status.agents).toEqual([]);
  });

  it('refuses a foreign Host (DNS rebinding) on the socket', async () => {
    gw = await startGateway();
    const r = await tryConnect(gw.url, { headers: { Host: 'attacker.example' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.status).toBe(403);
  });

  it('with agent_token_required, needs the operator token as ?token= or Bearer', async () => {
    gw = await startGateway({ config: { agent_token_required: true } });
    const none = await tryConnect(gw.url);
    expect(none).toMatchObject({ ok: false, status: 401 });
    const wrong = await tryConnect(gw.url, { token: 'not-the-token-0123456789' });
    expect(wrong).toMatchObject({ ok: false, status: 401 });
    // the phone's bearer is not the operator token
    const phoneBearer = await tryConnect(gw.url, { headers: { Authorization: `Bearer ${gw.bearer}` } });
    expect(phoneBearer).toMatchObject({ ok: false, status: 401 });

    const q = await AgentClient.connect(gw.url, { token: gw.operatorToken });
    expect(await q.request({ type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
    const b = await AgentClient.connect(gw.url, { headers: { Authorization: `Bearer ${gw.operatorToken}` } });
    expect(await b.request({ type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
    await Promise.all([q.close(), b.close()]);

    const rest = await fetch(`${gw.url}/api/operator/pending`);
    expect(rest.status).toBe(401);
    const ok = await fetch(`${gw.url}/api/operator/pending`, { headers: { Authorization: `Bearer ${gw.operatorToken}` } });
    expect(ok.status).toBe(200);
  });

  it('refuses cross-site REST calls that would dial or take over (text/plain CSRF included)', async () => {
    gw = await startGateway();
    for (const [path, body] of [['/api/call/dial', { number: '+491701234567' }], ['/api/operator/takeover', { session_id: 'x' }], ['/api/agent/inject', { text: 'hi' }]] as const) {
      const r = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'text/plain', Origin: 'https://evil.example' }, body: JSON.stringify(body) });
      expect(r.status, path).toBe(403);
    }
  });
});
