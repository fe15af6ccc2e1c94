/**
 * The upstream REST side (spec §3.4, §3.5) as the OpenClaw plugin uses it: dial, hangup, the two
 * injects with their default-session rules (§8.11, ended calls never picked), sessions, call state,
 * context with `_active`, the takeover stubs; and every bad input answered clearly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { FakeBridge } from './agent-client';

let gw: TestGateway;
afterEach(async () => gw.close());

/** the plugin sends its bearer and JSON to every route */
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(gw.url + path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.bearer}` },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

/** Two active calls: a session opened through the API (a phone's new call ends only earlier phone calls) and a phone call. */
async function twoCalls() {
  gw.app.ctx.calls.ensure('older-call', 'api');
  gw.app.ctx.calls.announce(gw.app.ctx.calls.get('older-call')!);
  await new Promise((r) => setTimeout(r, 5)); // distinct creation times
  const phone = new PhoneSim(gw.url, gw.bearer);
  await phone.greeting('Hello.');
  return { older: 'older-call', newer: phone.sessionId, phone };
}

describe('call control REST', () => {
  it('dial: validates the number, goes through the bridge, publishes call.dial; no bridge → ok:false with the reason', async () => {
    gw = await startGateway();
    expect(await call('POST', '/api/call/dial', { number: '+49 170 1234567' })).toEqual({ status: 200, json: { ok: false, detail: 'phone bridge not available: connect a phone over USB with adb installed' } });
    expect(await call('POST', '/api/call/dial', {})).toEqual({ status: 200, json: { ok: false, detail: 'number required' } });
    expect(await call('POST', '/api/call/dial', { number: '0170;rm -rf /' })).toMatchObject({ status: 200, json: { ok: false } });
    expect((await call('POST', '/api/call/dial', { number: ['+1'] })).status).toBe(400);
    expect((await call('POST', '/api/call/dial', '{oops')).status).toBe(400);
  });

  it('dial and hangup through a working bridge', async () => {
    const bridge = new FakeBridge();
    gw = await startGateway({ app: { phone: bridge } });
    expect(await call('POST', '/api/call/dial', { number: 4930123456 })).toMatchObject({ status: 200, json: { ok: true } });
    expect(bridge.dials).toEqual(['4930123456']);
    const { older, newer } = await twoCalls();
    // two active calls and no id: the phone hangs up, no session is ended (upstream: exactly one)
    const h1 = await call('POST', '/api/call/hangup', { session_id: '' });
    expect(h1.json).toEqual({ ok: true, detail: 'Broadcast completed: result=0' });
    expect(gw.app.ctx.calls.active().map((s) => s.id)).toEqual([older, newer]);
    // an empty body is {}
    const r = await fetch(`${gw.url}/api/call/hangup`, { method: 'POST' });
    expect(r.status).toBe(200);
    const h2 = await call('POST', '/api/call/hangup', { session_id: newer });
    expect(h2.json).toMatchObject({ ok: true, session_id: newer });
    // now exactly one is active: it is the default
    expect((await call('POST', '/api/call/hangup', {})).json).toMatchObject({ ok: true, session_id: older });
    expect(gw.app.ctx.calls.active()).toEqual([]);
  });

  it('inject: /api/call/inject picks the most recent active call, /api/agent/inject the oldest; ended calls are never picked', async () => {
    gw = await startGateway();
    const { older, newer, phone } = await twoCalls();
    const recent = await call('POST', '/api/call/inject', { text: 'For the newest call.' });
    expect(recent).toMatchObject({ status: 200, json: { ok: true, session_id: newer } });
    const oldest = await call('POST', '/api/agent/inject', { text: 'For the oldest call.', session_id: '' });
    expect(oldest).toMatchObject({ status: 200, json: { ok: true, session_id: older } });
    expect((await phone.say(utterance(2))).reply).toBe('For the newest call.');

    gw.app.ctx.calls.end(older, 'hangup');
    expect((await call('POST', '/api/agent/inject', { text: 'Now for the oldest active.' })).json).toMatchObject({ session_id: newer });
    gw.app.ctx.calls.end(newer, 'hangup');
    expect(await call('POST', '/api/call/inject', { text: 'anyone?' })).toEqual({ status: 400, json: { detail: 'no active session', reason: 'no_active_session' } });
    expect(await call('POST', '/api/agent/inject', { text: '' })).toMatchObject({ status: 400, json: { detail: 'text required' } });
    expect((await call('POST', '/api/call/inject', { text: 'x', session_id: 'ghost' })).status).toBe(404);
    expect((await call('POST', '/api/call/inject', { text: 'x', session_id: older })).status).toBe(409);
    expect((await call('POST', '/api/call/inject', { text: 'x'.repeat(20_001) })).status).toBe(400);
  });
});

describe('agent REST', () => {
  it('sessions, call state, context with _active, and the takeover stubs', async () => {
    gw = await startGateway();
    expect(await call('GET', '/api/agent/sessions')).toEqual({ status: 200, json: [] });
    expect(await call('GET', '/api/agent/context/_active')).toEqual({ status: 404, json: { detail: 'no active session' } });
    const { older, newer } = await twoCalls();
    expect((await call('GET', '/api/agent/sessions')).json).toEqual([older, newer]);

    const st = (await call('GET', `/api/agent/call/${newer}`)).json as Record<string, unknown>;
    expect(st).toMatchObject({ session_id: newer, status: 'active', ended_at: null, turn_count: 1, agent_takeover: false, instructions: { base: '', session: '', pending_turn: '' } });
    expect(typeof st.created_at).toBe('number');
    expect((await call('GET', '/api/agent/call/nobody')).json).toMatchObject({ status: 'unknown', created_at: null });

    expect(await call('POST', '/api/agent/context/_active', { context: 'VIP caller.' })).toEqual({ status: 200, json: { ok: true, session_id: newer } });
    expect((await call('GET', `/api/agent/context/${newer}`)).json).toEqual({ session_id: newer, knowledge: 'VIP caller.', has_knowledge: true });
    expect(await call('POST', `/api/agent/context/${older}`, { context: '' })).toMatchObject({ status: 400, json: { detail: 'context is required' } });
    expect((await call('POST', '/api/agent/context/ghost', { context: 'x' })).status).toBe(404);
    expect(await call('DELETE', '/api/agent/context/_active')).toEqual({ status: 200, json: { ok: true, session_id: newer } });
    expect((await call('GET', '/api/agent/context/_active')).json).toEqual({ session_id: newer, knowledge: '', has_knowledge: false });

    expect(await call('POST', '/api/agent/takeover', { session_id: newer })).toEqual({ status: 200, json: { ok: false, detail: 'Use WebSocket /api/agent/ws for takeover' } });
    expect(await call('POST', '/api/agent/release', { session_id: newer })).toEqual({ status: 200, json: { ok: false, detail: 'Use WebSocket /api/agent/ws for release' } });
  });

  it('operator routes validate their bodies and refuse unknown calls and non-holders', async () => {
    gw = await startGateway();
    const { newer } = await twoCalls();
    expect((await call('POST', '/api/operator/takeover', {})).status).toBe(400);
    expect((await call('POST', '/api/operator/takeover', { session_id: newer, mode: 'sideways' })).status).toBe(400);
    expect((await call('POST', '/api/operator/takeover', { session_id: newer, operator: '../../etc' })).status).toBe(400);
    expect(await call('POST', '/api/operator/takeover', { session_id: 'ghost' })).toMatchObject({ status: 404, json: { ok: false, reason: 'unknown_session' } });
    expect((await call('POST', '/api/operator/takeover', { session_id: newer, operator: 'Dee' })).json).toMatchObject({ ok: true, agent: 'Dee' });
    expect(await call('POST', '/api/operator/reply', { session_id: newer, text: 'hi', operator: 'Eve' })).toMatchObject({ status: 409, json: { reason: 'not_holder' } });
    expect(await call('POST', '/api/operator/approve', { session_id: newer, operator: 'Dee' })).toMatchObject({ status: 404, json: { reason: 'unknown_request' } });
    expect((await call('POST', '/api/operator/approve', { operator: 'Dee' })).status).toBe(400);
    expect(await call('POST', '/api/operator/typing', { session_id: 'ghost' })).toMatchObject({ status: 404 });
    // a reply with nothing waiting is spoken on the next poll
    expect((await call('POST', '/api/operator/reply', { session_id: newer, text: 'Hello from Dee.', operator: 'Dee' })).json).toMatchObject({ ok: true, delivery: 'queued' });
    expect((await call('POST', '/api/operator/say', { text: '' })).status).toBe(400);
  });
});
