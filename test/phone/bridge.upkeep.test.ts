/** Device tracking and automatic upkeep, against the fake adb server over real sockets. */
import { afterEach, describe, expect, it } from 'vitest';
import { PKG } from '../helpers/fake-adb-server';
import { startHarness, until, waitForEvent, type Harness } from './harness';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('a phone appears', () => {
  it('gets its reverse port, its checks run, and it is announced ready', async () => {
    h = await startHarness();
    expect((await h.bridge.start()).ok).toBe(true);
    h.fake.plug({ serial: 'PHONE1', setUp: true });
    const [detail] = await waitForEvent(h.bridge, 'deviceReady');
    const port = h.gateway.port;

    expect(h.fake.devices.get('PHONE1')!.reverses.get(`tcp:${port}`)).toBe(`tcp:${port}`);
    expect(h.fake.requests).toContainEqual({ serial: 'PHONE1', service: `reverse:forward:tcp:${port};tcp:${port}` });
    expect(detail).toMatchObject({ serial: 'PHONE1', state: 'device', ready: true, reverseActive: true, model: 'Pixel 7a', codename: 'lynx', androidVersion: '15' });
    const byId = Object.fromEntries(detail.checks.map((c) => [c.id, c]));
    expect(Object.keys(byId)).toHaveLength(18);
    for (const id of ['device_state', 'app_installed', 'permissions', 'dialer_role', 'rootd', 'reverse', 'reachability', 'test_audio']) expect(byId[id].status, id).toBe('ok');
    // the phone really fetched /health through the reverse rule
    expect(h.gateway.hits()).toBeGreaterThan(0);
    expect(byId.profile).toMatchObject({ status: 'fail', fix: 'push_profile' });

    const types = h.events.map((e) => e.type);
    expect(types[0]).toBe('device.added');
    expect(types).toContain('device.check');
    const last = h.events.filter((e) => e.type === 'device.changed').pop()!;
    expect(last.session_id).toBe('');
    expect(last.data).toMatchObject({ serial: 'PHONE1', ready: true });
  });

  it('a fresh phone gets checks that say what to do, each with its fix', async () => {
    h = await startHarness();
    await h.bridge.start();
    h.fake.plug({ serial: 'FRESH' });
    const [detail] = await waitForEvent(h.bridge, 'deviceReady');
    const byId = Object.fromEntries(detail.checks.map((c) => [c.id, c]));
    expect(byId.app_installed).toMatchObject({ status: 'fail', fix: 'install_apk' });
    expect(byId.app_installed.detail).toMatch(/not installed/);
    expect(byId.permissions.status).toBe('skipped');
    expect(byId.root.status).toBe('warn');
    expect(byId.ota).toMatchObject({ status: 'warn', fix: 'disable_ota' });
    expect(detail.health).toBe('fail');
  });

  it('an unauthorized phone is explained, and becomes ready once the prompt is accepted', async () => {
    h = await startHarness();
    await h.bridge.start();
    h.fake.plug({ serial: 'LOCKED', state: 'unauthorized', setUp: true });
    await until(() => h.bridge.getDevice('LOCKED')?.checks.length === 18, 20_000, 'checks of the unauthorized phone');
    const d = h.bridge.getDevice('LOCKED')!;
    expect(d.state).toBe('unauthorized');
    expect(d.stateDetail).toMatch(/Allow USB debugging/);
    expect(d.checks[0]).toMatchObject({ id: 'device_state', status: 'fail' });
    expect(h.fake.shellCommands('LOCKED')).toEqual([]);

    h.fake.setState('LOCKED', 'device');
    const [ready] = await waitForEvent(h.bridge, 'deviceReady');
    expect(ready).toMatchObject({ serial: 'LOCKED', state: 'device', ready: true });
  });

  it('a phone without the shell protocol v2 (plain shell:, no exit codes) works the same', async () => {
    h = await startHarness();
    await h.bridge.start();
    h.fake.plug({ serial: 'OLD', setUp: true, shellV2: false });
    const [detail] = await waitForEvent(h.bridge, 'deviceReady');
    const byId = Object.fromEntries(detail.checks.map((c) => [c.id, c.status]));
    expect(byId).toMatchObject({ app_installed: 'ok', permissions: 'ok', rootd: 'ok', reachability: 'ok', test_audio: 'ok', profile: 'fail' });
    expect(h.fake.requests.some((r) => r.serial === 'OLD' && r.service.startsWith('shell:'))).toBe(true);
    expect((await h.bridge.runAction('OLD', 'push_profile', {})).ok).toBe(true);
    expect((await h.bridge.dial('+15550001111')).ok).toBe(true);
  });

  it('Linux "no permissions" names the udev fix', async () => {
    h = await startHarness();
    await h.bridge.start();
    h.fake.plug({ serial: 'NOPERM', state: 'no permissions' });
    await until(() => h.bridge.getDevice('NOPERM') !== null, 20_000, 'device');
    expect(h.bridge.getDevice('NOPERM')!.stateDetail).toMatch(/udev/);
  });
});

describe('a phone goes away during a call', () => {
  it('raises a prominent alert, and on replug restores the reverse rule while the call continues', async () => {
    h = await startHarness();
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'P1', setUp: true });
    await waitForEvent(h.bridge, 'deviceReady');
    const active = waitForEvent(h.bridge, 'callChanged', (c) => c.phase === 'active');
    expect((await h.bridge.dial('+491701234567')).ok).toBe(true);
    await active;

    const lost = waitForEvent(h.bridge, 'alert', (a) => a.code === 'reverse_lost_in_call');
    h.fake.unplug('P1');
    const [alert] = await lost;
    expect(alert).toMatchObject({ serial: 'P1', level: 'critical' });
    expect(alert.message).toMatch(/cannot reach the gateway/);
    expect(h.events.find((e) => e.type === 'device.alert')?.data).toMatchObject({ code: 'reverse_lost_in_call', level: 'critical' });
    expect(h.bridge.callInfo('P1')).toMatchObject({ phase: 'active', observed: false });

    const restored = waitForEvent(h.bridge, 'alert', (a) => a.code === 'reverse_restored');
    h.fake.plug(dev);
    await restored;
    expect(dev.reverses.get(`tcp:${h.gateway.port}`)).toBe(`tcp:${h.gateway.port}`);
    expect(h.bridge.callInfo('P1')).toMatchObject({ phase: 'active', observed: true, number: '+491701234567' });

    const ended = waitForEvent(h.bridge, 'callEnded');
    dev.remoteHangup();
    const [e] = await ended;
    expect(e).toMatchObject({ serial: 'P1', reason: 'ended_on_phone', direction: 'outgoing', number: '+491701234567' });
  });

  it('a call that ended while the phone was unplugged ends with that reason when it returns', async () => {
    h = await startHarness();
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'P1', setUp: true });
    await waitForEvent(h.bridge, 'deviceReady');
    dev.incomingCall('+15550001111');
    await waitForEvent(h.bridge, 'callChanged', (c) => c.phase === 'active');
    const lost = waitForEvent(h.bridge, 'alert', (a) => a.code === 'reverse_lost_in_call');
    h.fake.unplug('P1');
    await lost;
    dev.call = { state: 'idle', number: null };
    const ended = waitForEvent(h.bridge, 'callEnded');
    h.fake.plug(dev);
    const [e] = await ended;
    expect(e).toMatchObject({ reason: 'ended_while_disconnected', direction: 'incoming', number: '+15550001111' });
  });

  it('a reverse rule removed during a call is noticed by the call poll and re-created', async () => {
    h = await startHarness({ adb_call_poll_ms: 50 });
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'P1', setUp: true });
    await waitForEvent(h.bridge, 'deviceReady');
    dev.incomingCall('+15550001111');
    await waitForEvent(h.bridge, 'callChanged', (c) => c.phase === 'active');
    const lost = waitForEvent(h.bridge, 'alert', (a) => a.code === 'reverse_lost_in_call');
    const restored = waitForEvent(h.bridge, 'alert', (a) => a.code === 'reverse_restored');
    dev.reverses.clear();
    await lost;
    await restored;
    expect(dev.reverses.size).toBe(1);
  });
});

describe('after a reboot', () => {
  it('waits for boot, then restores reverse, dialer role and rootd (phone spec §4.5)', async () => {
    h = await startHarness();
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'R1', setUp: true });
    await waitForEvent(h.bridge, 'deviceReady');
    const removed = waitForEvent(h.bridge, 'deviceRemoved');
    h.fake.reboot('R1', 30, 1500);
    await removed;
    expect(dev.dialerHolder).not.toBe(PKG);
    const [ready] = await waitForEvent(h.bridge, 'deviceReady');
    expect(dev.props['sys.boot_completed']).toBe('1');
    expect(dev.dialerHolder).toBe(PKG);
    expect(dev.rootdRunning).toBe(true);
    expect(dev.reverses.size).toBe(1);
    expect(ready.upkeep.map((s) => s.step)).toEqual(['boot', 'reverse', 'unlocked', 'dialer role', 'rootd']);
    expect(ready.upkeep.every((s) => s.ok)).toBe(true);
    const byId = Object.fromEntries(ready.checks.map((c) => [c.id, c.status]));
    expect(byId).toMatchObject({ dialer_role: 'ok', rootd: 'ok', reverse: 'ok', boot: 'ok' });
  });

  it('with automatic upkeep off, only reports what is wrong', async () => {
    h = await startHarness({ adb_auto_upkeep: false });
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'R1', setUp: true });
    dev.dialerHolder = 'com.google.android.dialer';
    dev.rootdRunning = false;
    const [ready] = await waitForEvent(h.bridge, 'deviceReady');
    expect(dev.dialerHolder).not.toBe(PKG);
    const byId = Object.fromEntries(ready.checks.map((c) => [c.id, c]));
    expect(byId.dialer_role).toMatchObject({ status: 'fail', fix: 'set_dialer_role' });
    expect(byId.rootd).toMatchObject({ status: 'fail', fix: 'start_rootd' });
  });
});

describe('the adb server restarts', () => {
  it('the bridge reconnects and re-creates the lost reverse rules', async () => {
    h = await startHarness();
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'S1', setUp: true });
    await waitForEvent(h.bridge, 'deviceReady');
    const down = waitForEvent(h.bridge, 'adbStatus', (s) => !s.ok);
    const again = waitForEvent(h.bridge, 'deviceReady');
    h.fake.restartServer();
    await down;
    expect(dev.reverses.size).toBe(0);
    await again;
    expect(dev.reverses.size).toBe(1);
    expect(h.bridge.status().adb.ok).toBe(true);
    // the console is told the server went away, and that it is back (which clears its banner)
    const alerts = h.events.filter((e) => e.type === 'device.alert').map((e) => (e.data as { code: string; level: string }));
    expect(alerts).toEqual([{ serial: '', level: 'warning', code: 'adb_server_lost', message: expect.any(String) }, { serial: '', level: 'info', code: 'adb_server_restored', message: expect.any(String) }]);
  });
});
