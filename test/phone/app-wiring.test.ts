/**
 * The phone bridge as the real app wires it (createApp with no `phone` stand-in, pointed at the fake
 * adb server): the diagnostics bundle carries the gateway's own log, redacted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAdbServer } from '../helpers/fake-adb-server';
import { PhoneSim } from '../helpers/phone-sim';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { tailLogLines } from '../../src-main/phone/log-tail';

let adb: FakeAdbServer | undefined;
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  await adb?.close();
  gw = adb = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function appWithPhone(serial: string, config: Record<string, unknown> = {}) {
  adb = await FakeAdbServer.start();
  gw = await startGateway({ app: { phone: undefined }, config: { adb_host: '127.0.0.1', adb_port: adb.port, adb_start_server: false, adb_call_poll_ms: 0, ...config } });
  const dev = adb.plug({ serial, setUp: true });
  for (let i = 0; i < 400; i++) {
    const d = (await (await fetch(`${gw.url}/api/devices/${serial}`)).json()) as { ready?: boolean };
    if (d.ready) break;
    await sleep(25);
  }
  return { adb, gw, dev };
}

describe('diagnostics bundle in the real app', () => {
  it('contains the tail of the gateway log file, with secrets and phone numbers redacted', async () => {
    const { gw } = await appWithPhone('DIAG1');
    gw.app.ctx.logger.warn({ bearer_token: 'very-secret-bearer-value', number: '+4917012345678' }, 'diagnostics marker line');
    const res = await fetch(`${gw.url}/api/devices/DIAG1/diagnostics`);
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as { gateway_log: string[] };
    expect(bundle.gateway_log.length).toBeGreaterThan(1);
    expect(bundle.gateway_log.some((l) => l.includes('gateway listening'))).toBe(true);
    const marker = bundle.gateway_log.find((l) => l.includes('diagnostics marker line'));
    expect(marker).toBeDefined();
    expect(marker).not.toContain('very-secret-bearer-value');
    expect(marker).not.toContain('+4917012345678');
    expect(bundle.gateway_log.join('\n')).not.toContain(gw.bearer);
  });
});

describe('tailLogLines', () => {
  it('returns the last lines, topped up from the rotated file, and [] for a missing log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-tail-'));
    try {
      const file = join(dir, 'app.log');
      expect(await tailLogLines(file, 10)).toEqual([]);
      writeFileSync(`${file}.1`, Array.from({ length: 20 }, (_, i) => `old ${i}`).join('\n') + '\n');
      writeFileSync(file, 'new 0\nnew 1\n');
      expect(await tailLogLines(file, 5)).toEqual(['old 17', 'old 18', 'old 19', 'new 0', 'new 1']);
      // only the end of a big file is read; a cut first line is dropped
      writeFileSync(file, Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(50)}`).join('\n') + '\n');
      const tail = await tailLogLines(file, 3, 200);
      expect(tail).toHaveLength(3);
      expect(tail.at(-1)).toMatch(/^line 999 /);
      expect(tail.every((l) => l.startsWith('line '))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a new call's caller fields are cross-checked with the phone's call state (phone spec §8.5)", () => {
  const STALE = '+4917099999999';

  async function waitForCall(url: string, serial: string, phase: string) {
    for (let i = 0; i < 400; i++) {
      const d = (await (await fetch(`${url}/api/devices/${serial}`)).json()) as { call?: { phase: string } | null };
      if (d.call?.phase === phase) return;
      await sleep(25);
    }
    throw new Error(`the bridge never saw the call ${phase}`);
  }

  it('an outgoing call whose greeting turn carries the previous caller\'s incoming fields is treated as outgoing', async () => {
    // the previous caller is blocklisted: taken as incoming, this call would be rejected
    const { gw } = await appWithPhone('X1', { caller_blocklist: [STALE] });
    const dial = await fetch(`${gw.url}/api/call/dial`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ number: '+15550001111', greeting: 'Hi, the assistant calling back.' }) });
    expect(((await dial.json()) as { ok: boolean }).ok).toBe(true);
    await waitForCall(gw.url, 'X1', 'active');

    const phone = new PhoneSim(gw.url, gw.bearer, STALE, 'incoming');
    const r = await phone.greeting('Hello.');
    expect(r.disconnect).toBe(false);
    // the dial's own greeting applies: the call was matched to the dial by its real number
    expect(r.reply).toBe('Hi, the assistant calling back.');
    const s = gw.app.ctx.calls.get(phone.sessionId)!;
    expect(s.direction).toBe('outgoing');
    expect(s.number).toBe('+15550001111');
    expect(s.device).toBe('X1');
    expect(s.ended).toBe(false);
    // and it is logged (numbers masked)
    const log = readFileSync(join(gw.dataDir, 'logs', 'app.log'), 'utf8');
    const line = log.split('\n').find((l) => l.includes('disagree with its call state'));
    expect(line).toBeDefined();
    expect(line).not.toContain(STALE);
    expect(JSON.parse(line!)).toMatchObject({ serial: 'X1', sent: { direction: 'incoming' }, phone: { direction: 'outgoing' } });
  });

  it('matching fields are left alone and nothing is logged; a blocklisted real caller is still rejected', async () => {
    const { gw, dev } = await appWithPhone('X2', { caller_blocklist: [STALE] });
    dev.incomingCall(STALE);
    await waitForCall(gw.url, 'X2', 'active');
    const phone = new PhoneSim(gw.url, gw.bearer, STALE, 'incoming');
    const r = await phone.greeting('Hello.');
    expect(r.disconnect).toBe(true);
    expect(gw.app.ctx.calls.get(phone.sessionId)?.direction).toBe('incoming');
    expect(readFileSync(join(gw.dataDir, 'logs', 'app.log'), 'utf8')).not.toContain('disagree with its call state');
  });
});

describe('adb settings changed at runtime', () => {
  it('a new adb_port restarts the bridge against the new adb server', async () => {
    const { gw } = await appWithPhone('OLD1');
    const adb2 = await FakeAdbServer.start();
    try {
      adb2.plug({ serial: 'NEW1', setUp: true });
      gw.app.ctx.config.update({ adb_port: adb2.port });
      const serials = async () => ((await (await fetch(`${gw.url}/api/devices`)).json()) as { adb: { port: number }; devices: { serial: string }[] });
      let d = await serials();
      for (let i = 0; i < 400 && !(d.devices.length === 1 && d.devices[0].serial === 'NEW1'); i++) {
        await sleep(25);
        d = await serials();
      }
      expect(d.devices.map((x) => x.serial)).toEqual(['NEW1']);
      expect(d.adb.port).toBe(adb2.port);
      // other settings do not restart it
      const trackers = adb2.trackerCount;
      gw.app.ctx.config.update({ adb_confirm_timeout_ms: 9000 });
      await sleep(100);
      expect(adb2.trackerCount).toBe(trackers);
      expect(adb2.connectionCount).toBeGreaterThan(0);
    } finally {
      await adb2.close();
    }
  });
});

describe('a call ending on one of two phones', () => {
  it('ends only sessions of that phone, and a session whose phone is unknown only when it is the only phone', async () => {
    const { gw, adb, dev } = await appWithPhone('PA');
    const devB = adb.plug({ serial: 'PB', setUp: true });
    for (let i = 0; i < 400 && !((await (await fetch(`${gw.url}/api/devices/PB`)).json()) as { ready?: boolean }).ready; i++) await sleep(25);

    // two phones: the new session cannot tell which one it came from
    const unknown = new PhoneSim(gw.url, gw.bearer, '+4917012345678', 'incoming');
    await unknown.greeting('Hello.');
    const su = gw.app.ctx.calls.get(unknown.sessionId)!;
    expect(su.device).toBeNull();
    // one on phone B, known from the dial
    await fetch(`${gw.url}/api/call/dial`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ number: '+15550002222', device: 'PB' }) });
    const onB = new PhoneSim(gw.url, gw.bearer, '+15550002222', 'outgoing');
    await onB.greeting('Hello.');
    const sb = gw.app.ctx.calls.get(onB.sessionId)!;
    expect(sb.device).toBe('PB');

    // a call on phone A ends: neither session is phone A's for sure
    dev.incomingCall('+4930111111');
    for (let i = 0; i < 200 && !((await (await fetch(`${gw.url}/api/devices/PA`)).json()) as { call?: unknown }).call; i++) await sleep(25);
    dev.remoteHangup();
    await sleep(300);
    expect(gw.app.ctx.calls.isEnded(unknown.sessionId)).toBe(false);
    expect(gw.app.ctx.calls.isEnded(onB.sessionId)).toBe(false);

    // phone B's call ends: its session ends, the unknown one stays
    devB.remoteHangup();
    for (let i = 0; i < 200 && !gw.app.ctx.calls.isEnded(onB.sessionId); i++) await sleep(25);
    expect(gw.app.ctx.calls.isEnded(onB.sessionId)).toBe(true);
    expect(gw.app.ctx.calls.isEnded(unknown.sessionId)).toBe(false);

    // with phone B gone, phone A is the only phone: its call ending ends the unknown session
    adb.unplug('PB');
    for (let i = 0; i < 200 && ((await (await fetch(`${gw.url}/api/devices`)).json()) as { devices: unknown[] }).devices.length !== 1; i++) await sleep(25);
    dev.incomingCall('+4930111111');
    for (let i = 0; i < 200 && !((await (await fetch(`${gw.url}/api/devices/PA`)).json()) as { call?: unknown }).call; i++) await sleep(25);
    dev.remoteHangup();
    for (let i = 0; i < 200 && !gw.app.ctx.calls.isEnded(unknown.sessionId); i++) await sleep(25);
    expect(gw.app.ctx.calls.isEnded(unknown.sessionId)).toBe(true);
  });
});
