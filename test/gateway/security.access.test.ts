/**
 * Access control on every route and socket: foreign Origins (CSRF / cross-site WebSocket hijacking),
 * non-loopback Host headers (DNS rebinding), the operator token when `agent_token_required` is on,
 * the phone bearer, and the /ws/events frame protocol.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, rawRequest, utterance } from '../helpers/phone-sim';
import { call, postForm } from './support';

let gw: TestGateway | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await gw?.close();
  gw = undefined;
});

const port = (g: TestGateway) => new URL(g.url).port;

/** Open /ws/events; resolves with the socket or the HTTP status that refused the upgrade. */
function openWs(g: TestGateway, opts: { origin?: string; host?: string; query?: string; headers?: Record<string, string> } = {}): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.host) headers.Host = opts.host;
    const ws = new WebSocket(`${g.url.replace(/^http/, 'ws')}/ws/events${opts.query ?? ''}`, { headers, ...(opts.origin ? { origin: opts.origin } : {}) });
    sockets.push(ws);
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    ws.once('error', (e) => reject(e));
  });
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (raw) => resolve(JSON.parse(raw.toString()) as Record<string, unknown>)));
}

describe('Origin checks', () => {
  it('any HTTP request with a foreign Origin → 403, including phone routes with a valid bearer', async () => {
    gw = await startGateway();
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${Number(port(gw)) + 1}`, 'https://127.0.0.1:' + port(gw)]) {
      const status = await call(gw, 'GET', '/api/status', undefined, { Origin: origin });
      expect(status.status, origin).toBe(403);
      expect(status.json).toEqual({ detail: 'origin not allowed' });
      // the CSRF case: a text/plain POST that upstream would have parsed as JSON
      const csrf = await call(gw, 'POST', '/api/config/call', JSON.stringify({ caller_blocklist: ['+1'] }), { Origin: origin, 'content-type': 'text/plain' });
      expect(csrf.status, origin).toBe(403);
      expect((await call(gw, 'GET', '/health', undefined, { Origin: origin, Authorization: `Bearer ${gw.bearer}` })).status).toBe(403);
      expect((await postForm(gw, [], utterance(0.5), { headers: { Origin: origin } })).status).toBe(403);
    }
    expect((await call(gw, 'GET', '/api/config/call')).json.caller_blocklist).toEqual([]);
  });

  it('a WebSocket upgrade with a foreign Origin → 403 and no subscription', async () => {
    gw = await startGateway();
    const before = gw.app.ctx.bus.subscriberCount;
    const r = await openWs(gw, { origin: 'http://evil.example' });
    expect(r.status).toBe(403);
    expect(gw.app.ctx.bus.subscriberCount).toBe(before);
  });

  it('the server closes the socket of a refused upgrade itself (no leaked connections, clean shutdown)', async () => {
    gw = await startGateway();
    const sock = net.connect(Number(port(gw)), '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.write(
      `GET /ws/events HTTP/1.1\r\nHost: 127.0.0.1:${port(gw)}\r\nOrigin: http://evil.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await closed; // without the fix the server never ended it
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 403/);
  });

  it('the console\'s own Origin is allowed for HTTP and WebSockets', async () => {
    gw = await startGateway();
    for (const origin of [`http://127.0.0.1:${port(gw)}`, `http://localhost:${port(gw)}`]) {
      expect((await call(gw, 'GET', '/api/status', undefined, { Origin: origin })).status, origin).toBe(200);
      expect((await call(gw, 'POST', '/api/config/call', { greeting_owner: 'Ada' }, { Origin: origin })).status).toBe(200);
      const r = await openWs(gw, { origin });
      expect(r.ws).toBeDefined();
      r.ws!.close();
    }
    // clients without an Origin (agents, the phone) are not browsers and pass
    expect((await call(gw, 'GET', '/api/status')).status).toBe(200);
  });
});

describe('Host header (DNS rebinding)', () => {
  it('a Host that is not this machine\'s loopback → 403 on HTTP and WebSocket', async () => {
    gw = await startGateway();
    for (const host of [`evil.example:${port(gw)}`, 'evil.example', `192.168.1.10:${port(gw)}`, `127.0.0.1.evil.example:${port(gw)}`]) {
      const r = await rawRequest(gw.url, { method: 'GET', path: '/api/status', headers: { Host: host } });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.body.toString()).detail).toMatch(/not allowed/);
      const ph = await rawRequest(gw.url, { method: 'GET', path: '/health', headers: { Host: host, Authorization: `Bearer ${gw.bearer}` } });
      expect(ph.status, host).toBe(403);
    }
    expect((await openWs(gw, { host: `evil.example:${port(gw)}` })).status).toBe(403);
  });

  it('loopback names are accepted', async () => {
    gw = await startGateway();
    for (const host of [`127.0.0.1:${port(gw)}`, `localhost:${port(gw)}`, 'localhost', `[::1]:${port(gw)}`]) {
      const r = await rawRequest(gw.url, { method: 'GET', path: '/api/status', headers: { Host: host } });
      expect(r.status, host).toBe(200);
    }
  });
});

describe('agent_token_required', () => {
  it('non-phone routes need the operator token (Bearer or ?token=); the phone bearer is not enough', async () => {
    gw = await startGateway({ config: { agent_token_required: true } });
    const none = await call(gw, 'GET', '/api/status');
    expect(none.status).toBe(401);
    expect(none.json.detail).toMatch(/operator token/);
    expect((await call(gw, 'GET', '/api/status', undefined, { Authorization: `Bearer ${gw.bearer}` })).status).toBe(401);
    expect((await call(gw, 'GET', '/api/status', undefined, { Authorization: 'Bearer not-the-token' })).status).toBe(401);
    expect((await call(gw, 'GET', '/api/status', undefined, { Authorization: `Bearer ${gw.operatorToken}` })).status).toBe(200);
    expect((await call(gw, 'GET', `/api/status?token=${encodeURIComponent(gw.operatorToken)}`)).status).toBe(200);
    expect((await call(gw, 'POST', '/api/config/call', { greeting_owner: 'X' })).status).toBe(401);
    expect((await call(gw, 'POST', '/api/config/call', { greeting_owner: 'X' }, { Authorization: `Bearer ${gw.operatorToken}` })).status).toBe(200);
    expect((await openWs(gw)).status).toBe(401);
    const ok = await openWs(gw, { query: `?token=${encodeURIComponent(gw.operatorToken)}` });
    expect(ok.ws).toBeDefined();
    const ok2 = await openWs(gw, { headers: { Authorization: `Bearer ${gw.operatorToken}` } });
    expect(ok2.ws).toBeDefined();
    // the phone keeps working with its bearer
    const phone = new PhoneSim(gw.url, gw.bearer);
    expect((await phone.greeting('Hi')).status).toBe(200);
  });

  it('an Origin check still applies to operator-token requests', async () => {
    gw = await startGateway({ config: { agent_token_required: true } });
    expect((await call(gw, 'GET', '/api/status', undefined, { Authorization: `Bearer ${gw.operatorToken}`, Origin: 'http://evil.example' })).status).toBe(403);
  });
});

describe('phone routes', () => {
  it('accept the phone bearer or the operator token, nothing else', async () => {
    gw = await startGateway();
    expect((await call(gw, 'GET', '/health', undefined, { Authorization: `Bearer ${gw.bearer}` })).status).toBe(200);
    expect((await call(gw, 'GET', '/health', undefined, { Authorization: `Bearer ${gw.operatorToken}` })).status).toBe(200);
    expect((await call(gw, 'GET', `/health?token=${encodeURIComponent(gw.operatorToken)}`)).status).toBe(200);
    expect((await call(gw, 'GET', '/health')).status).toBe(401);
    expect((await call(gw, 'GET', `/health?token=${encodeURIComponent(gw.bearer)}`)).status).toBe(401);
    const turn = await postForm(gw, [['reset_session', 'true'], ['forced_reply', 'Hi']], utterance(0.3), { bearer: gw.operatorToken });
    expect(turn.status).toBe(200);
    // doubled slashes from a trailing-slash base_url do not bypass the check
    expect((await rawRequest(gw.url, { method: 'GET', path: '//health' })).status).toBe(401);
    expect((await rawRequest(gw.url, { method: 'GET', path: '//health', headers: { Authorization: `Bearer ${gw.bearer}` } })).status).toBe(200);
  });
});

describe('/ws/events frames', () => {
  it('ping → pong; malformed frames → an error frame and the socket stays open', async () => {
    gw = await startGateway();
    const { ws } = await openWs(gw);
    const sock = ws!;
    sock.send(JSON.stringify({ type: 'ping' }));
    expect(await nextMessage(sock)).toEqual({ type: 'pong' });
    const bad: [string, RegExp][] = [
      ['not json at all', /invalid JSON/],
      ['[1,2]', /JSON object/],
      ['"text"', /JSON object/],
      ['null', /JSON object/],
      ['{"type":"subscribe"}', /unknown frame type "subscribe"/],
      ['{}', /unknown frame type null/],
    ];
    for (const [frame, msg] of bad) {
      sock.send(frame);
      const m = await nextMessage(sock);
      expect(m.type, frame).toBe('error');
      expect(String(m.detail), frame).toMatch(msg);
      expect(sock.readyState).toBe(WebSocket.OPEN);
    }
    sock.send(Buffer.from([0xff, 0x00, 0x13]), { binary: true });
    expect((await nextMessage(sock)).type).toBe('error');
    sock.send(JSON.stringify({ type: 'ping' }));
    expect(await nextMessage(sock)).toEqual({ type: 'pong' });
    // and it still streams bus events
    gw.app.ctx.bus.publish('status.update', '', { event: 'x' });
    expect(await nextMessage(sock)).toMatchObject({ type: 'status.update', session_id: '', data: { event: 'x' } });
  });

  it('closing a socket removes its subscription', async () => {
    gw = await startGateway();
    const base = gw.app.ctx.bus.subscriberCount;
    const { ws } = await openWs(gw);
    expect(gw.app.ctx.bus.subscriberCount).toBe(base + 1);
    const closed = new Promise((r) => ws!.once('close', r));
    ws!.close();
    await closed;
    // the server sees the close after the client does
    await expect.poll(() => gw!.app.ctx.bus.subscriberCount, { timeout: 5000 }).toBe(base);
  });
});

/** A tiny built console (index.html + one asset) for the static-file cases. */
function fakeConsoleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Clawfinger console</title><script src="/assets/app.js"></script>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log("console")');
  return dir;
}

describe('a gateway listening on every network (0.0.0.0): consoles on other machines', () => {
  it('serves the console page and its assets on any Host, but no data without the token (401, so the console asks)', async () => {
    gw = await startGateway({ app: { consoleDir: fakeConsoleDir() }, config: { host: '0.0.0.0' } });
    const H = `192.168.1.5:${port(gw)}`;
    const page = await rawRequest(gw.url, { method: 'GET', path: '/', headers: { Host: H } });
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('Clawfinger console');
    expect((await rawRequest(gw.url, { method: 'GET', path: '/assets/app.js', headers: { Host: H } })).status).toBe(200);
    for (const path of ['/api/status', '/api/calls', '/api/config/llm']) {
      const r = await rawRequest(gw.url, { method: 'GET', path, headers: { Host: H } });
      expect(r.status, path).toBe(401);
      expect(JSON.parse(r.body.toString()).detail).toMatch(/operator token required/);
    }
    // the page's own origin without the token: 401 too (never data); a foreign origin: 403
    const post = await rawRequest(gw.url, { method: 'POST', path: '/api/config/call', headers: { Host: H, Origin: `http://${H}`, 'content-type': 'application/json' }, body: Buffer.from('{"greeting_owner":"Mallory"}') });
    expect(post.status).toBe(401);
    const foreignPage = await rawRequest(gw.url, { method: 'GET', path: '/', headers: { Host: H, Origin: 'http://evil.example' } });
    expect(foreignPage.status).toBe(403);
    expect((await call(gw, 'GET', '/api/config/call')).json.greeting_owner).not.toBe('Mallory');
  });

  it('with the operator token the page\'s own origin may POST and open sockets; foreign origins are still refused', async () => {
    gw = await startGateway({ app: { consoleDir: fakeConsoleDir() }, config: { host: '0.0.0.0' } });
    const H = `192.168.1.5:${port(gw)}`;
    const auth = { Authorization: `Bearer ${gw.operatorToken}`, 'content-type': 'application/json' };
    const ok = await rawRequest(gw.url, { method: 'POST', path: '/api/config/call', headers: { Host: H, Origin: `http://${H}`, ...auth }, body: Buffer.from('{"greeting_owner":"Ada"}') });
    expect(ok.status).toBe(200);
    expect((await call(gw, 'GET', '/api/config/call')).json.greeting_owner).toBe('Ada');
    for (const origin of ['http://evil.example', `http://192.168.1.6:${port(gw)}`, `https://${H}`, 'null']) {
      const r = await rawRequest(gw.url, { method: 'POST', path: '/api/config/call', headers: { Host: H, Origin: origin, ...auth }, body: Buffer.from('{"greeting_owner":"Mallory"}') });
      expect(r.status, origin).toBe(403);
    }
    expect((await call(gw, 'GET', '/api/config/call')).json.greeting_owner).toBe('Ada');
    // a real socket to a second local address, as a browser on that address would open it (?token=, own Origin)
    const remoteUrl = `http://127.0.0.2:${port(gw)}`;
    const wsUrl = `ws://127.0.0.2:${port(gw)}/ws/events`;
    const open = (url: string, origin: string) => new Promise<number | 'open'>((resolve, reject) => {
      const ws = new WebSocket(url, { origin });
      sockets.push(ws);
      ws.once('open', () => resolve('open'));
      ws.once('unexpected-response', (_q, res) => { res.resume(); resolve(res.statusCode ?? 0); });
      ws.once('error', reject);
    });
    expect(await open(wsUrl, remoteUrl)).toBe(401);
    expect(await open(`${wsUrl}?token=${encodeURIComponent(gw.operatorToken)}`, remoteUrl)).toBe('open');
    expect(await open(`${wsUrl}?token=${encodeURIComponent(gw.operatorToken)}`, 'http://evil.example')).toBe(403);
  });

  it('DNS rebinding stays refused: a loopback-bound gateway refuses foreign Hosts even for the console page', async () => {
    gw = await startGateway({ app: { consoleDir: fakeConsoleDir() } });
    for (const path of ['/', '/assets/app.js', '/api/status']) {
      const r = await rawRequest(gw.url, { method: 'GET', path, headers: { Host: `evil.example:${port(gw)}` } });
      expect(r.status, path).toBe(403);
    }
    // the same Host with the page's "own" origin and no token: still 403
    const r = await rawRequest(gw.url, { method: 'POST', path: '/api/config/call', headers: { Host: `evil.example:${port(gw)}`, Origin: `http://evil.example:${port(gw)}`, 'content-type': 'application/json' }, body: Buffer.from('{"greeting_owner":"Mallory"}') });
    expect(r.status).toBe(403);
    expect((await call(gw, 'GET', '/api/status')).status).toBe(200);
  });
});

describe('GET /api/config/call for the phone', () => {
  it('accepts the phone bearer with agent_token_required (GET only; POST still needs the operator token)', async () => {
    gw = await startGateway({ config: { agent_token_required: true } });
    const r = await call(gw, 'GET', '/api/config/call', undefined, { Authorization: `Bearer ${gw.bearer}` });
    expect(r.status).toBe(200);
    expect(typeof r.json.auto_answer).toBe('boolean');
    expect((await call(gw, 'GET', '/api/config/call')).status).toBe(401);
    expect((await call(gw, 'GET', '/api/config/call', undefined, { Authorization: 'Bearer wrong' })).status).toBe(401);
    const post = await call(gw, 'POST', '/api/config/call', { auto_answer: false }, { Authorization: `Bearer ${gw.bearer}` });
    expect(post.status).toBe(401);
    expect((await call(gw, 'GET', '/api/config/llm', undefined, { Authorization: `Bearer ${gw.bearer}` })).status).toBe(401);
  });

  it('accepts the phone bearer from a phone on the LAN (non-loopback address, LAN Host)', async () => {
    gw = await startGateway({ config: { host: '0.0.0.0' } });
    const lan = (headers: Record<string, string>) => gw!.app.server.inject({ method: 'GET', url: '/api/config/call', remoteAddress: '192.168.1.20', headers: { host: `192.168.1.5:${port(gw!)}`, ...headers } });
    const ok = await lan({ authorization: `Bearer ${gw.bearer}` });
    expect(ok.statusCode).toBe(200);
    expect(typeof ok.json().auto_answer).toBe('boolean');
    expect((await lan({})).statusCode).toBe(401);
    expect((await lan({ authorization: 'Bearer nope' })).statusCode).toBe(401);
  });
});
