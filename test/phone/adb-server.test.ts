/** Finding adb and its server: conventions, clear errors, starting a real server, and the fake's fidelity. */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adbInstallHint, defaultSerial, findAdbBinary, killAdbServer, resolveAdbEndpoint } from '../../src-main/phone/adb-server';
import { AdbPhoneBridge } from '../../src-main/phone/bridge';
import { defaultConfig } from '../../src-shared/config/schema';
import { FakeAdbServer } from '../helpers/fake-adb-server';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'cf-adb-'));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** A loopback port nobody listens on. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const realAdb = await findAdbBinary('', process.env);

describe('adb conventions', () => {
  it('config beats ANDROID_ADB_SERVER_PORT beats ADB_SERVER_SOCKET beats 5037', () => {
    const cfg = { adb_host: '', adb_port: 0 };
    expect(resolveAdbEndpoint(cfg, {})).toEqual({ host: '127.0.0.1', port: 5037 });
    expect(resolveAdbEndpoint(cfg, { ADB_SERVER_SOCKET: 'tcp:10.0.0.5:6000' })).toEqual({ host: '10.0.0.5', port: 6000 });
    expect(resolveAdbEndpoint(cfg, { ADB_SERVER_SOCKET: 'tcp:6000', ANDROID_ADB_SERVER_PORT: '7000' })).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(resolveAdbEndpoint({ adb_host: '127.0.0.2', adb_port: 8000 }, { ANDROID_ADB_SERVER_PORT: '7000' })).toEqual({ host: '127.0.0.2', port: 8000 });
    expect(resolveAdbEndpoint(cfg, { ANDROID_ADB_SERVER_PORT: 'junk' }).port).toBe(5037);
    expect(defaultSerial({ adb_serial: '' }, { ANDROID_SERIAL: 'X1' })).toBe('X1');
    expect(defaultSerial({ adb_serial: 'C1' }, { ANDROID_SERIAL: 'X1' })).toBe('C1');
  });

  it('finds adb through adb_path or PATH, and says how to install it per OS when missing', async () => {
    const dir = await tempDir();
    const fakeAdb = path.join(dir, 'adb');
    await writeFile(fakeAdb, '#!/bin/sh\nexit 0\n');
    await chmod(fakeAdb, 0o755);
    expect(await findAdbBinary('', { PATH: dir, HOME: dir })).toEqual({ ok: true, path: fakeAdb });
    expect(await findAdbBinary(fakeAdb, { PATH: '', HOME: dir })).toEqual({ ok: true, path: fakeAdb });
    const missing = await findAdbBinary('', { PATH: path.join(dir, 'nothing'), HOME: dir }, 'linux');
    expect(missing).toEqual({ ok: false, detail: expect.stringMatching(/adb was not found.*sudo apt install adb/) });
    const badPath = await findAdbBinary(path.join(dir, 'nope'), { PATH: dir, HOME: dir });
    expect(badPath.ok).toBe(false);
    expect(adbInstallHint('darwin')).toMatch(/brew install --cask android-platform-tools/);
    expect(adbInstallHint('win32')).toMatch(/winget install Google\.PlatformTools/);
  });
});

describe('no adb server and no adb binary', () => {
  it('start() reports it in words, calls say so, and nothing throws', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const cfg = { ...defaultConfig(), adb_port: port, adb_start_server: true };
    const bridge = new AdbPhoneBridge({ config: () => cfg, env: { PATH: path.join(dir, 'empty'), HOME: dir } });
    cleanups.push(() => bridge.stop());
    const st = await bridge.start();
    expect(st.ok).toBe(false);
    expect(st.detail).toMatch(/^adb was not found on this computer\. Install it/);
    const r = await bridge.dial('+15550001111');
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/No ADB device connected: adb is not available \(adb was not found/);
    expect(bridge.status()).toMatchObject({ adb: { ok: false }, devices: [] });
  });

  it('with starting switched off, names the setting', async () => {
    const port = await freePort();
    const cfg = { ...defaultConfig(), adb_port: port, adb_start_server: false };
    const bridge = new AdbPhoneBridge({ config: () => cfg, env: {} });
    cleanups.push(() => bridge.stop());
    expect((await bridge.start()).detail).toMatch(/No adb server is running at 127\.0\.0\.1:\d+ \(starting one is switched off: adb_start_server\)/);
  });
});

describe.skipIf(!realAdb.ok)('with the real adb binary (Debian adb)', () => {
  it('starts the adb server when none is running, then follows its (empty) device list', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const bin = realAdb.ok ? realAdb.path : 'adb';
    cleanups.push(() => killAdbServer(bin, port));
    const cfg = { ...defaultConfig(), adb_port: port, adb_start_server: true };
    const bridge = new AdbPhoneBridge({ config: () => cfg, env: { PATH: process.env.PATH, HOME: dir } });
    cleanups.push(() => bridge.stop());
    const st = await bridge.start();
    expect(st).toMatchObject({ ok: true, port, binary: bin });
    expect(st.version).toBeGreaterThan(30);
    expect(bridge.listDevices()).toEqual([]);
  });

  it('the real adb client talks to the fake server (devices -l, shell, reverse)', async () => {
    const fake = await FakeAdbServer.start();
    cleanups.push(() => fake.close());
    fake.plug({ serial: 'P1', setUp: true });
    const bin = realAdb.ok ? realAdb.path : 'adb';
    const adb = (...args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(bin, ['-P', String(fake.port), ...args], { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
      );
    expect(await adb('devices', '-l')).toMatch(/^P1\s+device usb:\S+ product:lynx model:Pixel_7a device:lynx transport_id:\d+$/m);
    expect((await adb('-s', 'P1', 'shell', 'getprop', 'ro.product.model')).trim()).toBe('Pixel 7a');
    await adb('-s', 'P1', 'reverse', 'tcp:8996', 'tcp:8996');
    expect(await adb('-s', 'P1', 'reverse', '--list')).toMatch(/tcp:8996 tcp:8996/);
  });
});
