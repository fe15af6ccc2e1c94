/** Setup helpers (phone spec §7) against the fake phone: each does its job, verifies it, answers in words. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PKG } from '../helpers/fake-adb-server';
import { BEARER, startHarness, waitForEvent, type Harness } from './harness';

const EXT = `/sdcard/Android/data/${PKG}/files/profiles/profile.json`;
const INT = `/data/data/${PKG}/files/profiles/profile.json`;

let h: Harness;
let tmp: string | null = null;
afterEach(async () => {
  await h?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  tmp = null;
});

async function phone(opts: { setUp?: boolean; codename?: string } = {}, harness: Parameters<typeof startHarness> = []) {
  h = await startHarness(...harness);
  await h.bridge.start();
  const dev = h.fake.plug({ serial: 'P1', setUp: opts.setUp ?? true, codename: opts.codename });
  await waitForEvent(h.bridge, 'deviceReady');
  return dev;
}

const status = (checks: unknown, id: string) => (checks as { id: string; status: string }[]).find((c) => c.id === id)?.status;

describe('push_profile', () => {
  it('builds the profile for the phone, pushes both copies (sync + run-as), verifies them, and the check turns green', async () => {
    const dev = await phone();
    const r = await h.bridge.runAction('P1', 'push_profile', {});
    expect(r).toMatchObject({ ok: true, profile_id: 'pixel7a_lynx_v1' });
    expect(r.detail).toMatch(/pushed to both locations and verified/);
    expect(JSON.stringify(r)).not.toContain(BEARER);
    const ext = dev.files.get(EXT)!;
    const int = dev.files.get(INT)!;
    expect(ext.equals(int)).toBe(true);
    const p = JSON.parse(ext.toString('utf8'));
    expect(p.gateway).toEqual({ base_url: `http://127.0.0.1:${h.gateway.port}`, bearer: BEARER });
    expect(p.logging.debug_wav_dump.enabled).toBe(false);
    expect(h.fake.requests).toContainEqual({ serial: 'P1', service: `sync:SEND ${EXT}` });
    expect(status(r.checks, 'profile')).toBe('ok');
  });

  it('keeps the audio tuning of the profile already on the phone, replacing only the gateway section', async () => {
    const dev = await phone();
    const old = { profile_id: 'custom', gateway: { baseUrl: 'http://10.0.0.2:8996', api_key: 'localdev' }, beep: { mode: 'off' }, playback: { candidate_order_in_app: [27] } };
    dev.files.set(INT, Buffer.from(JSON.stringify(old)));
    const r = await h.bridge.runAction('P1', 'push_profile', {});
    expect(r.ok).toBe(true);
    const p = JSON.parse(dev.files.get(EXT)!.toString());
    expect(p).toEqual({ profile_id: 'custom', gateway: { base_url: `http://127.0.0.1:${h.gateway.port}`, bearer: BEARER }, beep: { mode: 'off' }, playback: { candidate_order_in_app: [27] } });
  });

  it('generates and saves a per-install bearer when the gateway has none', async () => {
    let saved = '';
    const dev = await phone({}, [{}, { gatewayBearer: () => saved, ensureGatewayBearer: async () => (saved ||= 'generated-' + Math.random().toString(36).slice(2)) }]);
    const r = await h.bridge.runAction('P1', 'push_profile', {});
    expect(r.ok).toBe(true);
    expect(saved).toMatch(/^generated-/);
    expect(JSON.parse(dev.files.get(INT)!.toString()).gateway.bearer).toBe(saved);
  });

  it('refuses an invalid profile before touching the phone', async () => {
    await phone();
    const before = h.fake.requests.length;
    const r = await h.bridge.runAction('P1', 'push_profile', { profile: { playback: { candidate_order_in_app: [] } } });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/not valid: playback has no usable device numbers/);
    // only the re-check ran afterwards: no push, no write
    expect(h.fake.requests.slice(before).some((q) => q.service.startsWith('sync:') || /base64 -d >/.test(q.service))).toBe(false);
  });

  it('an unknown phone model without a profile needs profile training', async () => {
    await phone({ codename: 'husky' });
    const r = await h.bridge.runAction('P1', 'push_profile', {});
    expect(r).toMatchObject({ ok: false, detail: expect.stringMatching(/no built-in profile for this phone \(husky\)/) });
  });

  it('verify_profile finds copies that differ, and the check says so', async () => {
    const dev = await phone();
    await h.bridge.runAction('P1', 'push_profile', {});
    dev.files.set(INT, Buffer.from(JSON.stringify({ gateway: { base_url: 'http://127.0.0.1:1', bearer: 'x' } })));
    const r = await h.bridge.runAction('P1', 'verify_profile', {});
    expect(r).toMatchObject({ ok: false, detail: 'The two copies of the profile differ.' });
    const check = (r.checks as { id: string; status: string; detail: string }[]).find((c) => c.id === 'profile')!;
    expect(check.status).toBe('fail');
    expect(check.detail).toMatch(/points at http:\/\/127\.0\.0\.1:1.*different bearer.*differ/);
  });

  it('a release build is written through root and handed back to the app', async () => {
    const dev = await phone();
    dev.app.debuggable = false;
    await h.bridge.runAction('P1', 'recheck', {});
    const r = await h.bridge.runAction('P1', 'push_profile', {});
    expect(r.ok).toBe(true);
    expect(dev.files.get(INT)!.equals(dev.files.get(EXT)!)).toBe(true);
    expect(h.fake.shellCommands('P1').some((c) => c.startsWith(`/data/adb/ap/bin/su -c 'chown -R ${dev.app.userId}:${dev.app.userId}`))).toBe(true);
  });
});

describe('install_apk', () => {
  it('pushes the picked APK under a fixed name and installs it with permissions', async () => {
    const dev = await phone({ setUp: false });
    tmp = await mkdtemp(path.join(tmpdir(), 'cf-apk-'));
    const apk = path.join(tmp, "my app; $(reboot).apk");
    await writeFile(apk, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(500, 7)]));
    const r = await h.bridge.runAction('P1', 'install_apk', { apk_path: apk });
    expect(r).toMatchObject({ ok: true, detail: expect.stringMatching(/installed/) });
    expect(dev.app.installed).toBe(true);
    expect(status(r.checks, 'app_installed')).toBe('ok');
    expect(status(r.checks, 'permissions')).toBe('ok');
    expect(h.fake.requests).toContainEqual({ serial: 'P1', service: 'sync:SEND /data/local/tmp/clawfinger-install.apk' });
    expect(h.fake.shellCommands('P1').join('\n')).not.toContain('reboot');
  });

  it('refuses a file that is not an APK without any adb traffic', async () => {
    await phone({ setUp: false });
    tmp = await mkdtemp(path.join(tmpdir(), 'cf-apk-'));
    const notApk = path.join(tmp, 'x.apk');
    await writeFile(notApk, 'hello, this is not a zip file at all; it is long enough though............................................');
    const before = h.fake.requests.length;
    for (const [p, words] of [
      [notApk, /not an APK/],
      ['relative/x.apk', /full path/],
      [path.join(tmp, 'missing.apk'), /No file/],
      [path.join(tmp, 'x.txt'), /\.apk/],
    ] as const) {
      const r = await h.bridge.runAction('P1', 'install_apk', { apk_path: p });
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(words);
    }
    expect(h.fake.requests.slice(before).some((q) => q.service.startsWith('sync:') || q.service.includes('pm install'))).toBe(false);
  });
});

describe('one-click fixes', () => {
  it('grant permissions, dialer role, battery, launch, OTA, rootd each fix their check', async () => {
    const dev = await phone({ setUp: false });
    dev.app.installed = true;
    dev.su = '/debug_ramdisk/su';
    dev.rootdInstalled = true;
    await h.bridge.runAction('P1', 'recheck', {});
    for (const [action, check] of [
      ['grant_permissions', 'permissions'],
      ['set_dialer_role', 'dialer_role'],
      ['battery_unrestricted', 'battery_unrestricted'],
      ['disable_ota', 'ota'],
      ['start_rootd', 'rootd'],
    ] as const) {
      const r = await h.bridge.runAction('P1', action, {});
      expect(r.ok, `${action}: ${r.detail}`).toBe(true);
      expect(status(r.checks, check), action).toBe('ok');
    }
    expect(dev.rootdRunning).toBe(true);
    expect(h.fake.shellCommands('P1')).toContain(`/debug_ramdisk/su -c 'nohup /system/bin/sh /data/adb/service.d/phonebridge-rootd.sh > /dev/null 2>&1 &'`);
    expect(await h.bridge.runAction('P1', 'launch_app', {})).toMatchObject({ ok: true });
  });

  it('start_rootd without root says so', async () => {
    const dev = await phone({ setUp: false });
    dev.app.installed = true;
    const r = await h.bridge.runAction('P1', 'start_rootd', {});
    expect(r).toMatchObject({ ok: false, detail: expect.stringMatching(/No root access/) });
  });

  it('finds leftover test audio and removes it', async () => {
    const dev = await phone();
    dev.files.set(`/data/data/${PKG}/files/test-inject/001.wav`, Buffer.alloc(100));
    dev.files.set(`/data/data/${PKG}/files/test-inject/002.wav`, Buffer.alloc(100));
    const before = await h.bridge.runAction('P1', 'recheck', {});
    const check = (before.checks as { id: string; status: string; fix?: string; detail: string }[]).find((c) => c.id === 'test_audio')!;
    expect(check).toMatchObject({ status: 'fail', fix: 'remove_test_audio' });
    expect(check.detail).toMatch(/2 files/);
    const r = await h.bridge.runAction('P1', 'remove_test_audio', {});
    expect(r.ok).toBe(true);
    expect([...dev.files.keys()].some((k) => k.includes('test-inject'))).toBe(false);
    expect(status(r.checks, 'test_audio')).toBe('ok');
  });
});

describe('diagnostics', () => {
  it('bundles facts, checks, the app log and the gateway log with numbers and tokens masked', async () => {
    const dev = await phone({}, [{}, { gatewayLog: () => ['turn from +491701234567 ok', 'Authorization: Bearer sekrit'] }]);
    dev.incomingCall('+491701234567');
    await waitForEvent(h.bridge, 'callChanged', (c) => c.phase === 'active');
    const r = await h.bridge.runAction('P1', 'diagnostics', {});
    expect(r.ok).toBe(true);
    const bundle = r.bundle as Record<string, unknown>;
    const text = JSON.stringify(bundle);
    expect(text).not.toContain('1701234567');
    expect(text).not.toContain('sekrit');
    expect((bundle.logcat as string[]).some((l) => l.includes('incoming call from: +49'))).toBe(true);
    expect(bundle.device).toMatchObject({ serial: 'P1', model: 'Pixel 7a' });
    expect((bundle.device as { checks: unknown[] }).checks).toHaveLength(18);
  });
});
