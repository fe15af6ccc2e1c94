/**
 * A console operator's takeover ends when the console goes away: the console acts through the REST
 * operator routes and names its operator on `/ws/events?operator=<name>`; when its last events socket
 * has been closed for the grace, the takeover ends (`agent.release` reason `disconnected`) and a
 * waiting caller turn falls back to the local model at once, not at the deadline.
 */
import WebSocket from 'ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_GRACE } from '../../src-main/agents/hub';
import { eventsSocketUrl } from '../../src-renderer/store/sync';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';

let gw: TestGateway;
const sockets: WebSocket[] = [];
beforeAll(() => {
  CONSOLE_GRACE.ms = 300;
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  const g = gw;
  gw = undefined as unknown as TestGateway;
  await g?.close();
});

async function setup(config: Record<string, unknown> = {}) {
  gw = await startGateway({ config: { agent_takeover_timeout: 30, ...config } });
  const phone = new PhoneSim(gw.url, gw.bearer);
  await phone.greeting('Hello.');
  return { phone, sid: phone.sessionId };
}

/** The console's events socket, naming its operator. */
async function consoleSocket(operator: string): Promise<WebSocket> {
  const ws = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/ws/events?operator=${encodeURIComponent(operator)}`);
  sockets.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close();
  });
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

async function callState(sid: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${gw.url}/api/agent/call/${sid}`)).json()) as Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('console operator presence', () => {
  it('a closed console releases its takeover and the waiting caller turn falls back to the local model at once', async () => {
    const { phone, sid } = await setup();
    const watch = await eventStream(gw.url);
    const tab = await consoleSocket('Alice');
    expect((await post('/api/operator/takeover', { session_id: sid, operator: 'Alice' })).json).toMatchObject({ ok: true, agent: 'Alice' });

    gw.engines.transcripts.push('is anyone there');
    const started = Date.now();
    const turn = phone.say(utterance(2));
    await watch.waitFor((e) => e.type === 'turn.awaiting_reply' && e.session_id === sid);
    await closeSocket(tab); // the tab closes (or crashes) while holding the call

    const res = await turn;
    expect(res.status).toBe(200);
    expect(res.reply).toBe('You said: is anyone there. Anything else?');
    expect(Date.now() - started).toBeLessThan(10_000); // the 30 s deadline was not waited for
    const release = await watch.waitFor((e) => e.type === 'agent.release' && e.session_id === sid);
    expect(release.data).toMatchObject({ session_id: sid, agent: 'Alice', kind: 'operator', reason: 'disconnected' });
    expect(watch.events.find((e) => e.type === 'turn.cancelled' && e.session_id === sid)?.data).toMatchObject({ reason: 'disconnected' });
    expect(await callState(sid)).toMatchObject({ agent_takeover: false, holder: null });
    // the operator can take the call over again from a new tab
    await consoleSocket('Alice');
    expect((await post('/api/operator/takeover', { session_id: sid, operator: 'Alice' })).json).toMatchObject({ ok: true });
    watch.close();
  });

  it('a console that reconnects within the grace keeps its takeover', async () => {
    const { sid } = await setup();
    const tab = await consoleSocket('Alice');
    expect((await post('/api/operator/takeover', { session_id: sid, operator: 'Alice' })).status).toBe(200);
    await closeSocket(tab);
    await sleep(CONSOLE_GRACE.ms / 3);
    await consoleSocket('Alice');
    await sleep(CONSOLE_GRACE.ms * 2);
    expect(await callState(sid)).toMatchObject({ agent_takeover: true, holder: { kind: 'operator', name: 'Alice' } });
  });

  it('the takeover lasts while any of the operator’s consoles is open, and ends after the last one closes', async () => {
    const { sid } = await setup();
    const a = await consoleSocket('Alice');
    const b = await consoleSocket('Alice');
    const other = await consoleSocket('Bob');
    expect((await post('/api/operator/takeover', { session_id: sid, operator: 'Alice' })).status).toBe(200);
    await closeSocket(a);
    await closeSocket(other); // another operator's console says nothing about Alice
    await sleep(CONSOLE_GRACE.ms * 2);
    expect(await callState(sid)).toMatchObject({ agent_takeover: true });
    await closeSocket(b);
    await sleep(CONSOLE_GRACE.ms * 3);
    expect(await callState(sid)).toMatchObject({ agent_takeover: false, holder: null });
  });

  it('a console operator acting while its console is away gets the grace, then loses the call', async () => {
    const { sid } = await setup();
    const tab = await consoleSocket('Alice');
    await closeSocket(tab);
    await sleep(CONSOLE_GRACE.ms * 2);
    // the takeover arrives with no console open (e.g. sent just before the tab crashed)
    expect((await post('/api/operator/takeover', { session_id: sid, operator: 'Alice' })).status).toBe(200);
    expect(await callState(sid)).toMatchObject({ agent_takeover: true });
    await sleep(CONSOLE_GRACE.ms * 3);
    expect(await callState(sid)).toMatchObject({ agent_takeover: false });
  });

  it('an invalid operator name on the events socket is ignored: the stream works and nothing is tracked', async () => {
    const { sid } = await setup();
    const ws = await consoleSocket('bad<name>');
    const pong = new Promise<string>((resolve) => ws.once('message', (raw) => resolve(raw.toString())));
    ws.send(JSON.stringify({ type: 'ping' }));
    expect(JSON.parse(await pong)).toEqual({ type: 'pong' });
    expect((await post('/api/operator/takeover', { session_id: sid, operator: 'Alice' })).status).toBe(200);
    await closeSocket(ws);
    await sleep(CONSOLE_GRACE.ms * 2);
    // an operator never named by a console (a REST-only client) keeps its takeover as before
    expect(await callState(sid)).toMatchObject({ agent_takeover: true });
  });
});

describe('the console names its operator on the events socket', () => {
  it('adds ?operator= to the events URL and keeps the token', () => {
    const u = new URL(eventsSocketUrl('ws://127.0.0.1:8996/ws/events?token=abc', ' Alice Smith '));
    expect(u.pathname).toBe('/ws/events');
    expect(u.searchParams.get('token')).toBe('abc');
    expect(u.searchParams.get('operator')).toBe('Alice Smith');
    expect(eventsSocketUrl('ws://127.0.0.1:8996/ws/events', '')).toBe('ws://127.0.0.1:8996/ws/events');
  });
});
