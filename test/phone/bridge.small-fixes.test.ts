/**
 * Upkeep waits for the first unlock after a boot before the dialer role and rootd; the SIM/network
 * check reads the network registration; a profile too large for one adb request is refused in words
 * (and the adb connection stays healthy); adb's own endpoint conventions win over an empty config.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdbClient } from '../../src-main/phone/adb-client';
import { resolveAdbEndpoint } from '../../src-main/phone/adb-server';
import { parseServiceStates } from '../../src-main/phone/checks';
import { templateProfile } from '../../src-main/phone/profile';
import { sh } from '../../src-main/phone/shell';
import { defaultConfig } from '../../src-shared/config/schema';
import { PKG } from '../helpers/fake-adb-server';
import { startHarness, until, waitForEvent, type Harness } from './harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('after a reboot, upkeep waits for the phone to be unlocked (phone spec §4.5 step 1)', () => {
  it('no dialer role or rootd while the user is locked; both follow the unlock', async () => {
    h = await startHarness();
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'LK1', setUp: true });
    await waitForEvent(h.bridge, 'deviceReady');
    dev.unlocked = false;
    const ready = waitForEvent(h.bridge, 'deviceReady');
    h.fake.reboot('LK1');
    await until(() => h!.bridge.getDevice('LK1')?.upkeep.some((u) => u.step === 'unlocked') === true, 20_000, 'the upkeep to wait for the unlock');
    const before = dev.shellLog.length;
    await sleep(1200);
    const during = dev.shellLog.slice(before);
    expect(during).toContain('dumpsys user');
    expect(during.filter((c) => c.startsWith('cmd role') || c.includes('phonebridge-rootd') || c.includes('CMD_B64'))).toEqual([]);
    expect(dev.dialerHolder).not.toBe(PKG);
    expect(dev.rootdRunning).toBe(false);
    expect(h.bridge.getDevice('LK1')!.upkeep.find((u) => u.step === 'unlocked')?.detail).toMatch(/unlock the phone/);

    dev.unlocked = true;
    const [detail] = await ready;
    expect(dev.dialerHolder).toBe(PKG);
    expect(dev.rootdRunning).toBe(true);
    expect(detail.upkeep.map((u) => [u.step, u.ok])).toEqual([['boot', true], ['reverse', true], ['unlocked', true], ['dialer role', true], ['rootd', true]]);
  });
});

describe('SIM and network check', () => {
  it('reads the network registration: out of service is a problem, in service is OK', async () => {
    h = await startHarness();
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'NET1', setUp: true });
    const [detail] = await waitForEvent(h.bridge, 'deviceReady');
    expect(detail.checks.find((c) => c.id === 'sim_network')).toMatchObject({ status: 'ok', detail: 'SIM ready, in service (TestNet).' });
    dev.serviceState = 1;
    let sim = (await h.bridge.runChecks('NET1')).find((c) => c.id === 'sim_network')!;
    expect(sim.status).toBe('fail');
    expect(sim.detail).toMatch(/no mobile network \(out of service\)/);
    dev.serviceState = 2;
    sim = (await h.bridge.runChecks('NET1')).find((c) => c.id === 'sim_network')!;
    expect(sim.detail).toMatch(/emergency calls only/);
  });

  it('parses both dumpsys formats, one state per SIM slot', () => {
    expect(parseServiceStates('  mServiceState={mVoiceRegState=0(IN_SERVICE), mDataRegState=0(IN_SERVICE)}\n  mServiceState={mVoiceRegState=1(OUT_OF_SERVICE)}')).toEqual(['IN_SERVICE', 'OUT_OF_SERVICE']);
    expect(parseServiceStates('mServiceState=3 3 voice home null null null')).toEqual(['POWER_OFF']);
    expect(parseServiceStates('mCallState=0')).toEqual([]);
  });
});

describe('a profile larger than one adb request', () => {
  it('is refused with a clear error before anything changes on the phone, and the bridge keeps working', async () => {
    h = await startHarness();
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'BIG1', setUp: true });
    await waitForEvent(h.bridge, 'deviceReady');
    const profile = { ...templateProfile('lynx', 'http://127.0.0.1:1', 'x')!, notes: 'n'.repeat(60_000) };
    const sendsBefore = h.fake.requests.filter((r) => r.service.startsWith('sync:SEND')).length;
    const r = await h.bridge.runAction('BIG1', 'push_profile', { profile });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/too large to send through adb \([\d,]+ bytes; at most about [\d,]+\).*Nothing was changed/);
    expect(h.fake.requests.filter((q) => q.service.startsWith('sync:SEND')).length).toBe(sendsBefore);
    expect([...dev.files.keys()].filter((k) => k.includes('profile'))).toEqual([]);
    // a profile that fits still goes through
    const ok = await h.bridge.runAction('BIG1', 'push_profile', { profile: { ...profile, notes: 'short' } });
    expect(ok.ok).toBe(true);
    expect((await h.bridge.dial('+15550001111')).ok).toBe(true);
  });

  it('the adb client refuses an over-long shell request in words, without corrupting the connection', async () => {
    h = await startHarness();
    const dev = h.fake.plug({ serial: 'BIG2', setUp: true });
    const client = new AdbClient({ host: '127.0.0.1', port: h.fake.port });
    try {
      await expect(client.shell('BIG2', sh('echo', 'x'.repeat(70_000)))).rejects.toThrow(/too long for adb \(\d+ bytes; adb allows at most 65535\)/);
      expect(dev.shellLog).toEqual([]);
      expect((await client.shell('BIG2', sh('getprop', 'ro.product.model'))).stdout.trim()).toBe('Pixel 7a');
      expect(client.openSocketCount).toBe(0);
    } finally {
      client.destroy();
    }
  });
});

describe('adb endpoint defaults', () => {
  it('the default adb_host leaves the host to ADB_SERVER_SOCKET, then 127.0.0.1', () => {
    const cfg = defaultConfig();
    expect(cfg.adb_host).toBe('');
    expect(resolveAdbEndpoint(cfg, { ADB_SERVER_SOCKET: 'tcp:10.0.0.5:6000' })).toEqual({ host: '10.0.0.5', port: 6000 });
    expect(resolveAdbEndpoint(cfg, {})).toEqual({ host: '127.0.0.1', port: 5037 });
    expect(resolveAdbEndpoint({ ...cfg, adb_host: '10.1.1.1' }, { ADB_SERVER_SOCKET: 'tcp:10.0.0.5:6000' })).toEqual({ host: '10.1.1.1', port: 6000 });
  });
});
