/** The device routes on a bare Fastify (127.0.0.1, port 0), called with real fetch; the bridge talks to the fake adb server. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { registerDeviceRoutes } from '../../src-main/gateway/routes/devices';
import type { FakeDevice } from '../helpers/fake-adb-server';
import { startHarness, until, waitForEvent, type Harness } from './harness';

let h: Harness;
let app: FastifyInstance;
let base: string;
let dev: FakeDevice;

afterEach(async () => {
  await app?.close();
  await h?.close();
});

async function setup() {
  h = await startHarness();
  await h.bridge.start();
  dev = h.fake.plug({ serial: 'P1', setUp: true });
  await waitForEvent(h.bridge, 'deviceReady');
  app = Fastify({ forceCloseConnections: true }); // as the gateway's server
  registerDeviceRoutes(app, h.bridge);
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (r: Response): Promise<any> => r.json();

const post = (path: string, body?: unknown, raw?: string) =>
  fetch(base + path, { method: 'POST', headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });

/** Read SSE events until `stop` says enough. */
async function readEvents(res: Response, stop: (events: { event: string; data: unknown }[]) => boolean) {
  const reader = res.body!.getReader();
  const events: { event: string; data: unknown }[] = [];
  let buf = '';
  while (!stop(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += Buffer.from(value).toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev = block.match(/^event: (.*)$/m)?.[1];
      const data = block.match(/^data: (.*)$/m)?.[1];
      if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

describe('GET /api/devices', () => {
  it('lists adb status and the phones; one phone in detail; 404/400 in words', async () => {
    await setup();
    const list = await json(await fetch(`${base}/api/devices`));
    expect(list.adb.ok).toBe(true);
    expect(list.devices).toEqual([expect.objectContaining({ serial: 'P1', state: 'device', ready: true, model: 'Pixel 7a' })]);

    const one = await json(await fetch(`${base}/api/devices/P1`));
    expect(one.checks).toHaveLength(18);
    expect(one.facts.app.installed).toBe(true);

    const missing = await fetch(`${base}/api/devices/NOPE`);
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({ detail: 'No phone with serial NOPE is connected.' });
    const bad = await fetch(`${base}/api/devices/${encodeURIComponent('a b;c')}`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).detail).toMatch(/not a device serial/);
  });
});

describe('POST /api/devices/:serial/actions/:action', () => {
  it('runs an action and returns its result with the fresh checks', async () => {
    await setup();
    const res = await post('/api/devices/P1/actions/push_profile', {});
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.ok).toBe(true);
    expect(body.checks.find((c: { id: string }) => c.id === 'profile').status).toBe('ok');
    const noBody = await post('/api/devices/P1/actions/recheck');
    expect(noBody.status).toBe(200);
  });

  it('dials through the route; an injection attempt is refused with no adb traffic', async () => {
    await setup();
    const ok = await json(await post('/api/devices/P1/actions/dial', { number: '+15550001111' }));
    expect(ok).toMatchObject({ ok: true, serial: 'P1' });
    await json(await post('/api/devices/P1/actions/hangup', {}));
    const before = h.fake.requests.length;
    const res = await post('/api/devices/P1/actions/dial', { number: '+1; reboot' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ ok: false, detail: expect.stringMatching(/invalid number/) });
    expect(h.fake.requests.length).toBe(before);
  });

  it('rejects bad input with clear words and stays up', async () => {
    await setup();
    const cases: [string, unknown, string | undefined, number, RegExp][] = [
      ['/api/devices/P1/actions/reboot', {}, undefined, 404, /Unknown action "reboot"\. Actions: recheck, /],
      ['/api/devices/P1/actions/dial', { number: 15550001111 }, undefined, 400, /number: .*string/],
      ['/api/devices/P1/actions/dial', {}, undefined, 400, /number/],
      ['/api/devices/P1/actions/mute', { muted: 'true' }, undefined, 400, /muted: .*boolean/],
      ['/api/devices/P1/actions/recheck', { extra: 1 }, undefined, 400, /extra|Unrecognized/],
      ['/api/devices/P1/actions/install_apk', { apk_path: '' }, undefined, 400, /apk_path/],
      ['/api/devices/NOPE/actions/recheck', {}, undefined, 404, /No phone with serial NOPE/],
      ['/api/devices/P1/actions/push_profile', { profile: [1, 2] }, undefined, 400, /profile/],
    ];
    for (const [path, body, raw, code, words] of cases) {
      const res = await post(path, body, raw);
      expect(res.status, path).toBe(code);
      expect((await json(res)).detail, path).toMatch(words);
    }
    const badJson = await post('/api/devices/P1/actions/recheck', undefined, '{nope');
    expect(badJson.status).toBe(400);
    expect((await json(badJson)).detail).toBeTruthy();
    expect((await fetch(`${base}/api/devices`)).status).toBe(200);
    expect(dev.broadcasts).toHaveLength(0);
  });
});

describe('GET /api/devices/:serial/diagnostics', () => {
  it('downloads the bundle as a JSON attachment', async () => {
    await setup();
    const res = await fetch(`${base}/api/devices/P1/diagnostics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="clawfinger-diagnostics-P1.json"');
    expect((await json(res)).device.serial).toBe('P1');
  });
});

describe('GET /api/devices/:serial/logcat (SSE)', () => {
  it('streams the backlog and new lines, filtered and masked, and ends when the phone goes away', async () => {
    await setup();
    dev.log('GatewayCallAssistant', 'call metadata: caller=+15550001111, direction=outgoing, maxDuration=300s');
    await until(() => (h.bridge.recentLogcat('P1') ?? []).length === 1, 20_000, 'backlog line');
    const ctl = new AbortController();
    const res = await fetch(`${base}/api/devices/P1/logcat?tags=GatewayCallAssistant,BridgeInCallService&q=call&backlog=10`, { signal: ctl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reading = readEvents(res, (ev) => ev.some((e) => e.event === 'end'));
    dev.log('AndroidTelecomCtrl', 'Dial command executed: +15550001111'); // other tag: filtered out
    dev.log('BridgeInCallService', 'incoming call from: +491701234567, autoAnswer=true');
    dev.log('GatewayCallAssistant', 'capture loop tick'); // no "call": filtered out
    await until(() => (h.bridge.recentLogcat('P1') ?? []).length === 4, 20_000, 'lines');
    h.fake.unplug('P1');
    const events = await reading;
    ctl.abort();
    const lines = events.filter((e) => e.event === 'line').map((e) => e.data as { tag: string; message: string });
    expect(lines.map((l) => l.tag)).toEqual(['GatewayCallAssistant', 'BridgeInCallService']);
    expect(lines[0].message).toBe('call metadata: caller=+15•••••••11, direction=outgoing, maxDuration=300s');
    expect(lines[1].message).toMatch(/^incoming call from: \+49•+67, autoAnswer=true$/);
    expect(events.at(-1)).toEqual({ event: 'end', data: { detail: 'The phone was disconnected.' } });
    await until(() => h.bridge.resources().logcatListeners === 0, 20_000, 'listeners released');
  });

  it('refuses a bad filter and an unknown phone in words', async () => {
    await setup();
    const bad = await fetch(`${base}/api/devices/P1/logcat?level=X`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).detail).toMatch(/level/);
    const tags = await fetch(`${base}/api/devices/P1/logcat?tags=${encodeURIComponent('a b')}`);
    expect(tags.status).toBe(400);
    const none = await fetch(`${base}/api/devices/NOPE/logcat`);
    expect(none.status).toBe(404);
  });

  it('releases its subscription when the client disconnects', async () => {
    await setup();
    const baseline = h.bridge.resources().logcatListeners;
    const ctl = new AbortController();
    const res = await fetch(`${base}/api/devices/P1/logcat`, { signal: ctl.signal });
    await until(() => h.bridge.resources().logcatListeners === baseline + 1, 20_000, 'subscribed');
    ctl.abort();
    await res.body?.cancel().catch(() => undefined);
    await until(() => h.bridge.resources().logcatListeners === baseline, 20_000, 'unsubscribed');
  });
});
