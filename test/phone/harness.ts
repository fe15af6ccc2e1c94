/** Shared set-up for the phone-bridge tests: a fake adb server, a tiny gateway, a bridge pointed at both. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBus } from '../../src-main/events/bus';
import { AdbPhoneBridge, type PhoneBridgeConfig, type PhoneBridgeEvents, type PhoneBridgeOptions } from '../../src-main/phone/bridge';
import { defaultConfig } from '../../src-shared/config/schema';
import type { EventEnvelope } from '../../src-shared/protocol/events';
import { FakeAdbServer } from '../helpers/fake-adb-server';

export const BEARER = 'test-bearer-token';

/** A stand-in gateway: GET /health with the bearer → 200, else 401. */
export async function startGateway(): Promise<{ port: number; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    const ok = req.url === '/health' && req.headers.authorization === `Bearer ${BEARER}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', connection: 'close' });
    res.end(ok ? '{"ok":true}' : '{"detail":"Unauthorized"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface Harness {
  fake: FakeAdbServer;
  gateway: Awaited<ReturnType<typeof startGateway>>;
  bus: EventBus;
  events: EventEnvelope[];
  bridge: AdbPhoneBridge;
  cfg: PhoneBridgeConfig;
  close(): Promise<void>;
}

export async function startHarness(over: Partial<PhoneBridgeConfig> = {}, opts: Partial<PhoneBridgeOptions> = {}): Promise<Harness> {
  const fake = await FakeAdbServer.start();
  const gateway = await startGateway();
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((e) => events.push(e));
  const cfg: PhoneBridgeConfig = {
    ...defaultConfig(),
    adb_host: '127.0.0.1',
    adb_port: fake.port,
    port: gateway.port,
    adb_start_server: false,
    adb_confirm_timeout_ms: 5000,
    adb_command_timeout_ms: 5000,
    adb_call_poll_ms: 0,
    ...over,
  };
  const bridge = new AdbPhoneBridge({ config: () => cfg, bus, env: {}, gatewayBearer: () => BEARER, ...opts });
  return {
    fake,
    gateway,
    bus,
    events,
    bridge,
    cfg,
    async close() {
      await bridge.stop();
      await fake.close();
      await gateway.close();
    },
  };
}

/** Wait for a bridge event that satisfies `pred` (generous timeout for loaded CI machines). */
export function waitForEvent<K extends keyof PhoneBridgeEvents>(
  bridge: AdbPhoneBridge,
  name: K,
  pred: (...args: PhoneBridgeEvents[K]) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<PhoneBridgeEvents[K]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      bridge.off(name, handler as never);
      reject(new Error(`timed out waiting for ${String(name)}`));
    }, timeoutMs);
    const handler = (...args: PhoneBridgeEvents[K]) => {
      if (!pred(...args)) return;
      clearTimeout(t);
      bridge.off(name, handler as never);
      resolve(args);
    };
    bridge.on(name, handler as never);
  });
}

/** Poll a condition (for state that has no event), up to a generous limit. */
export async function until(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
