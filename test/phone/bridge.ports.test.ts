/**
 * The reverse rule leads the phone's port to the port the gateway is actually bound to: with config
 * `port` 0 the bound port, with `adb_reverse_port` R the rule is `tcp:R → tcp:<bound>`. Checked through
 * the fake adb server (the phone's /health fetch really travels through the rule) and the real app.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAdbServer } from '../helpers/fake-adb-server';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { startHarness, until, waitForEvent, type Harness } from './harness';

let h: Harness | undefined;
let adb: FakeAdbServer | undefined;
let gw: TestGateway | undefined;
afterEach(async () => {
  await h?.close();
  await gw?.close();
  await adb?.close();
  h = gw = adb = undefined;
});

const byId = (checks: { id: string; status: string; detail: string }[]) => Object.fromEntries(checks.map((c) => [c.id, c]));

describe('the reverse rule and the bound gateway port', () => {
  it('config port 0: the rule uses the bound port (from the gateway), and the phone reaches the gateway', async () => {
    h = await startHarness({ port: 0 }, { gatewayPort: () => h!.gateway.port });
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'P0', setUp: true });
    const [detail] = await waitForEvent(h.bridge, 'deviceReady');
    const bound = h.gateway.port;
    expect([...dev.reverses.entries()]).toEqual([[`tcp:${bound}`, `tcp:${bound}`]]);
    expect(h.fake.requests.some((r) => r.service.includes('tcp:0'))).toBe(false);
    const c = byId(detail.checks);
    expect(c.reverse.status).toBe('ok');
    expect(c.reachability.status).toBe('ok');
    expect(h.gateway.hits()).toBeGreaterThan(0);
    expect(detail.ready).toBe(true);
  });

  it('adb_reverse_port R: the phone\'s tcp:R leads to the gateway\'s bound port; checks and the pushed profile use R', async () => {
    h = await startHarness({ port: 0, adb_reverse_port: 8996 }, { gatewayPort: () => h!.gateway.port });
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'PR', setUp: true });
    const [detail] = await waitForEvent(h.bridge, 'deviceReady');
    const bound = h.gateway.port;
    expect(dev.reverses.get('tcp:8996')).toBe(`tcp:${bound}`);
    expect(dev.reverses.has(`tcp:${bound}`)).toBe(false);
    expect(h.fake.requests).toContainEqual({ serial: 'PR', service: `reverse:forward:tcp:8996;tcp:${bound}` });
    const c = byId(detail.checks);
    expect(c.reverse).toMatchObject({ status: 'ok' });
    expect(c.reverse.detail).toContain(`tcp:${bound}`);
    // reachability probes the phone's port R (which only works through the rule)
    expect(c.reachability.status).toBe('ok');
    expect(h.fake.shellCommands('PR').some((cmd) => cmd.endsWith('nc 127.0.0.1 8996'))).toBe(true);
    const pushed = await h.bridge.runAction('PR', 'push_profile', {});
    expect(pushed).toMatchObject({ ok: true });
    expect(String(pushed.detail)).toContain('http://127.0.0.1:8996');
    expect(byId(pushed.checks as never).profile.status).toBe('ok');
  });

  it('a leftover rule tcp:R → an old port is reported and replaced by create_reverse', async () => {
    h = await startHarness({ port: 0, adb_reverse_port: 8996, adb_auto_upkeep: false }, { gatewayPort: () => h!.gateway.port });
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'PS', setUp: true });
    await waitForEvent(h.bridge, 'deviceReady');
    const bound = h.gateway.port;
    dev.reverses.set('tcp:8996', 'tcp:1');
    const checks = await h.bridge.runChecks('PS');
    expect(byId(checks).reverse).toMatchObject({ status: 'fail' });
    expect(byId(checks).reverse.detail).toMatch(/leads to tcp:1 .*not to the gateway/);
    expect(byId(checks).reachability.status).toBe('skipped');
    const fixed = await h.bridge.runAction('PS', 'create_reverse');
    expect(fixed.ok).toBe(true);
    expect(dev.reverses.get('tcp:8996')).toBe(`tcp:${bound}`);
    expect(byId(fixed.checks as never).reachability.status).toBe('ok');
  });

  it('the real app started on port 0 gives the phone a rule to its bound port', async () => {
    adb = await FakeAdbServer.start();
    gw = await startGateway({ app: { phone: undefined }, config: { adb_host: '127.0.0.1', adb_port: adb.port, adb_start_server: false } });
    const bound = Number(new URL(gw.url).port);
    expect(bound).toBeGreaterThan(0);
    const dev = adb.plug({ serial: 'W1', setUp: true });
    const get = async () => (await (await fetch(`${gw!.url}/api/devices/W1`)).json()) as { ready: boolean; checks: { id: string; status: string; detail: string }[] };
    await until(() => dev.reverses.size > 0, 20_000, 'the reverse rule');
    let d = await get();
    for (let i = 0; i < 200 && !d.ready; i++) {
      await new Promise((r) => setTimeout(r, 50));
      d = await get();
    }
    expect([...dev.reverses.entries()]).toEqual([[`tcp:${bound}`, `tcp:${bound}`]]);
    expect(byId(d.checks).reachability.status).toBe('ok');
    expect(d.ready).toBe(true);
  });
});
