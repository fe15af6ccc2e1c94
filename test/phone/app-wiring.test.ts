/**
 * The phone bridge as the real app wires it (createApp with no `phone` stand-in, pointed at the fake
 * adb server): the diagnostics bundle carries the gateway's own log, redacted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAdbServer } from '../helpers/fake-adb-server';
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
