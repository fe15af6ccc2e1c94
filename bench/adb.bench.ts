/**
 * Phone-bridge benchmark against the fake adb server (real sockets, adbkit, the full bridge):
 *  - attach → ready: plug a set-up phone until `deviceReady` (reverse created + all health checks run)
 *  - dial → confirmed ack, hangup → confirmed ack (logcat confirmation + call-state check)
 *  - 10 attach/detach cycles: nothing may leak (bridge sockets and listeners, fake-side connections,
 *    process handles, heap after GC).
 * Prints a summary and writes bench/results/adb.json. Run: `npm run bench:adb`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBus } from '../src-main/events/bus';
import { AdbPhoneBridge, type PhoneBridgeConfig } from '../src-main/phone/bridge';
import { defaultConfig } from '../src-shared/config/schema';
import { FakeAdbServer } from '../test/helpers/fake-adb-server';

const CYCLES = Number(process.env.ADB_BENCH_CYCLES) || 10;
const DIALS = CYCLES * 2;

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, min_ms: +s[0].toFixed(2), median_ms: +q(0.5).toFixed(2), p95_ms: +q(0.95).toFixed(2), max_ms: +s[s.length - 1].toFixed(2) };
}

function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

function heapMb(): number {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
  return +(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(2);
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

function once<T>(bridge: AdbPhoneBridge, name: 'deviceReady' | 'deviceRemoved' | 'callEnded', pred: (v: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${name}`)), 30_000);
    const h = (v: T) => {
      if (!pred(v)) return;
      clearTimeout(t);
      bridge.off(name, h as never);
      resolve(v);
    };
    bridge.on(name, h as never);
  });
}

async function main() {
  const started = Date.now();
  const gateway = http.createServer((_req, res) => res.writeHead(200, { connection: 'close' }).end('{"ok":true}'));
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
  const fake = await FakeAdbServer.start();
  const bus = new EventBus();
  let busEvents = 0;
  bus.subscribe(() => busEvents++);
  const cfg: PhoneBridgeConfig = {
    ...defaultConfig(),
    adb_port: fake.port,
    port: (gateway.address() as AddressInfo).port,
    adb_start_server: false,
    adb_call_poll_ms: 0,
  };
  const bridge = new AdbPhoneBridge({ config: () => cfg, bus, env: {}, gatewayBearer: () => '' });
  await bridge.start();

  // warm-up cycle (module loading, first connections)
  const warmDev = fake.plug({ serial: 'WARM', setUp: true });
  await once(bridge, 'deviceReady');
  const gone = once(bridge, 'deviceRemoved');
  fake.unplug(warmDev.serial);
  await gone;
  await settle(50);
  // the fake's own request logs live in this process too: keep them out of the heap figures
  const forgetFakeLogs = () => {
    fake.requests.length = 0;
    for (const d of [warmDev, ...fake.devices.values()]) {
      d.shellLog.length = 0;
      d.broadcasts.length = 0;
    }
  };
  forgetFakeLogs();

  const baseline = { bridge: bridge.resources(), fakeConnections: fake.connectionCount, handles: handles(), heap_mb: heapMb(), listeners: bridge.eventNames().length };

  // attach → ready, and dial/hangup acks, over CYCLES attach/detach cycles
  const attach: number[] = [];
  const dial: number[] = [];
  const hangup: number[] = [];
  const dev = fake.plug({ serial: 'BENCH1', setUp: true });
  fake.unplug('BENCH1');
  for (let i = 0; i < CYCLES; i++) {
    const ready = once(bridge, 'deviceReady');
    const t0 = performance.now();
    fake.plug(dev);
    await ready;
    attach.push(performance.now() - t0);
    for (let k = 0; k < DIALS / CYCLES; k++) {
      const d0 = performance.now();
      const r = await bridge.dial('+15550001111');
      dial.push(performance.now() - d0);
      if (!r.ok) throw new Error(`dial failed: ${r.detail}`);
      const ended = once(bridge, 'callEnded');
      const h0 = performance.now();
      const hr = await bridge.hangup();
      hangup.push(performance.now() - h0);
      if (!hr.ok) throw new Error(`hangup failed: ${hr.detail}`);
      await ended;
    }
    const removed = once(bridge, 'deviceRemoved');
    fake.unplug('BENCH1');
    await removed;
  }
  await settle(100);
  forgetFakeLogs();
  dev.shellLog.length = 0;
  dev.broadcasts.length = 0;

  const after = { bridge: bridge.resources(), fakeConnections: fake.connectionCount, handles: handles(), heap_mb: heapMb(), listeners: bridge.eventNames().length };
  const leaks: string[] = [];
  for (const k of ['sockets', 'logcatListeners', 'polls', 'callTrackers', 'devices'] as const) if (after.bridge[k] > baseline.bridge[k]) leaks.push(`bridge.${k}: ${baseline.bridge[k]} → ${after.bridge[k]}`);
  if (after.fakeConnections > baseline.fakeConnections) leaks.push(`adb connections: ${baseline.fakeConnections} → ${after.fakeConnections}`);
  for (const k of ['TCPSocketWrap', 'Timeout']) if ((after.handles[k] ?? 0) > (baseline.handles[k] ?? 0)) leaks.push(`process ${k}: ${baseline.handles[k] ?? 0} → ${after.handles[k] ?? 0}`);
  if (after.listeners > baseline.listeners) leaks.push(`bridge event names: ${baseline.listeners} → ${after.listeners}`);
  const heapGrowth = +(after.heap_mb - baseline.heap_mb).toFixed(2);
  if (heapGrowth > 5) leaks.push(`heap grew ${heapGrowth} MB`);

  await bridge.stop();
  await fake.close();
  await new Promise<void>((r) => gateway.close(() => r()));

  const result = {
    benchmark: 'adb',
    date: new Date().toISOString(),
    node: process.version,
    gc_exposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
    cycles: CYCLES,
    attach_to_ready: stats(attach),
    dial_to_confirmed_ack: stats(dial),
    hangup_to_confirmed_ack: stats(hangup),
    resources: { baseline, after, heap_growth_mb: heapGrowth },
    bus_events: busEvents,
    leaks,
    ok: leaks.length === 0,
    duration_s: +((Date.now() - started) / 1000).toFixed(1),
  };

  const row = (name: string, s: ReturnType<typeof stats>) => console.log(`${name.padEnd(26)} n=${String(s.n).padStart(3)}  median ${s.median_ms.toFixed(1).padStart(7)} ms  p95 ${s.p95_ms.toFixed(1).padStart(7)} ms  max ${s.max_ms.toFixed(1).padStart(7)} ms`);
  row('attach → ready', result.attach_to_ready);
  row('dial → confirmed ack', result.dial_to_confirmed_ack);
  row('hangup → confirmed ack', result.hangup_to_confirmed_ack);
  console.log(`resources before/after ${CYCLES} cycles: bridge ${JSON.stringify(baseline.bridge)} → ${JSON.stringify(after.bridge)}; adb connections ${baseline.fakeConnections} → ${after.fakeConnections}; heap ${baseline.heap_mb} → ${after.heap_mb} MB`);
  console.log(leaks.length ? `LEAKS: ${leaks.join('; ')}` : 'no leaks');

  const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'adb.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote bench/results/adb.json in ${result.duration_s} s`);
  if (leaks.length) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
