/**
 * Setup helpers (phone spec §7): each does one job with the exact commands of the spec, verifies the
 * result on the phone, and answers in words. No user input reaches a shell: the APK is pushed under a
 * fixed name, the profile travels base64-encoded.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { ADB_MAX_REQUEST, shellRequestBytes, type AdbClient, type ShellResult } from './adb-client';
import {
  DIALER_ROLE,
  EXTERNAL_PROFILE,
  EXTERNAL_PROFILE_DIR,
  INTERNAL_ACTIVE_PROFILE,
  INTERNAL_PROFILE,
  MAIN_ACTIVITY,
  PKG,
  REMOTE_APK,
  ROOTD_SCRIPT,
  RUNTIME_PERMISSIONS,
  TEST_INJECT_DIR,
} from './constants';
import { findSu, hasReverseRule, readInternal, reverseRule, ROOTD_PROBE } from './checks';
import { generateBearer, profileBytes, profileGateway, sha256, templateProfile, validateProfile, withGateway, type Profile } from './profile';
import { b64, op, sh, type ShellCommand } from './shell';
import type { ActionResult, DeviceFacts } from './types';

export interface SetupContext {
  client: AdbClient;
  serial: string;
  timeoutMs: number;
  /** the phone's side of the reverse rule (the profile's gateway URL uses it) */
  reversePort: number;
  /** the port the gateway is bound to on this computer (default: reversePort) */
  gatewayPort?: number;
  facts: DeviceFacts | null;
}

function run(ctx: SetupContext, cmd: ShellCommand, timeoutMs = ctx.timeoutMs): Promise<ShellResult> {
  return ctx.client.shell(ctx.serial, cmd, timeoutMs);
}

const firstLine = (r: ShellResult) => (r.stdout + r.stderr).trim().split('\n')[0]?.trim() ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function createReverse(ctx: SetupContext): Promise<ActionResult> {
  const rule = reverseRule(ctx);
  if (!/^tcp:[1-9]\d*$/.test(rule.remote) || !/^tcp:[1-9]\d*$/.test(rule.local)) return { ok: false, detail: 'The gateway is not listening on a port yet: no reverse rule can be made.' };
  await ctx.client.reverse(ctx.serial, rule.remote, rule.local);
  const list = await ctx.client.listReverses(ctx.serial);
  const ok = hasReverseRule(list, ctx);
  const to = rule.local === rule.remote ? 'this computer' : `port ${rule.local.slice(4)} on this computer (the gateway)`;
  return ok ? { ok, detail: `The phone's port ${ctx.reversePort} now leads to ${to}.` } : { ok, detail: 'adb accepted the reverse rule, but the phone does not list it.' };
}

const INSTALL_ERRORS: [RegExp, string][] = [
  [/INSTALL_FAILED_UPDATE_INCOMPATIBLE/, 'the installed app was signed with a different key: uninstall it on the phone first'],
  [/INSTALL_FAILED_VERSION_DOWNGRADE/, 'the phone has a newer version: allow downgrade to replace it'],
  [/INSTALL_FAILED_INSUFFICIENT_STORAGE/, 'the phone is out of storage'],
  [/INSTALL_PARSE_FAILED|INVALID_APK/, 'the file is not a valid APK'],
  [/INSTALL_FAILED_USER_RESTRICTED|INSTALL_FAILED_ABORTED/, 'the phone refused the install: accept the prompt on the phone or enable "Install via USB" in developer options'],
  [/INSTALL_FAILED_TEST_ONLY/, 'the APK is a test-only build'],
];

/** Validate a user-picked local APK path: absolute, .apk, a regular file starting with the ZIP magic. */
export async function checkApkFile(apkPath: string): Promise<{ ok: true; size: number } | { ok: false; detail: string }> {
  if (!path.isAbsolute(apkPath)) return { ok: false, detail: 'Give the full path of the APK file.' };
  if (!/\.apk$/i.test(apkPath)) return { ok: false, detail: 'The file must be an .apk.' };
  let size: number;
  try {
    const s = await stat(apkPath);
    if (!s.isFile()) return { ok: false, detail: 'That path is not a file.' };
    size = s.size;
  } catch {
    return { ok: false, detail: `No file at ${apkPath}.` };
  }
  if (size < 100 || size > 1024 * 1024 * 1024) return { ok: false, detail: 'That file is not a plausible APK (size).' };
  const fh = await open(apkPath, 'r');
  try {
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    if (head.readUInt32LE(0) !== 0x04034b50) return { ok: false, detail: 'That file is not an APK (not a ZIP archive).' };
  } finally {
    await fh.close();
  }
  return { ok: true, size };
}

export async function installApk(ctx: SetupContext, apkPath: string, allowDowngrade: boolean): Promise<ActionResult> {
  const file = await checkApkFile(apkPath);
  if (!file.ok) return { ok: false, detail: file.detail };
  await ctx.client.push(ctx.serial, { file: apkPath }, REMOTE_APK, 0o644, Math.max(ctx.timeoutMs, 300_000));
  try {
    const args = ['pm', 'install', '-r', '-g', ...(allowDowngrade ? ['-d'] : []), REMOTE_APK];
    const r = await run(ctx, sh(...args), Math.max(ctx.timeoutMs, 180_000));
    const text = `${r.stdout}\n${r.stderr}`;
    if (/^Success/m.test(text)) return { ok: true, detail: 'The Clawfinger app is installed, with its permissions granted.' };
    const code = text.match(/\[?(INSTALL_[A-Z_]+)/)?.[1] ?? '';
    const words = INSTALL_ERRORS.find(([re]) => re.test(text))?.[1];
    return { ok: false, detail: `Install failed: ${words ?? (code || firstLine(r) || 'no answer from the package manager')}${words && code ? ` (${code})` : ''}.` };
  } finally {
    await run(ctx, sh('rm', '-f', REMOTE_APK)).catch(() => undefined);
  }
}

export async function grantPermissions(ctx: SetupContext): Promise<ActionResult> {
  const sdk = ctx.facts?.sdk ?? 33;
  const perms = RUNTIME_PERMISSIONS.filter((p) => p !== 'android.permission.POST_NOTIFICATIONS' || sdk >= 33);
  const failed: string[] = [];
  for (const p of perms) {
    const r = await run(ctx, sh('pm', 'grant', PKG, p));
    if (r.exitCode !== null ? r.exitCode !== 0 : /Exception|Error|not/i.test(r.stdout + r.stderr)) failed.push(`${p.replace('android.permission.', '')} (${firstLine(r) || 'refused'})`);
  }
  return failed.length ? { ok: false, detail: `Could not grant: ${failed.join(', ')}.` } : { ok: true, detail: `Granted ${perms.map((p) => p.replace('android.permission.', '')).join(', ')}.` };
}

export async function setDialerRole(ctx: SetupContext): Promise<ActionResult> {
  await run(ctx, sh('cmd', 'role', 'add-role-holder', DIALER_ROLE, PKG, '1'));
  const r = await run(ctx, sh('cmd', 'role', 'get-role-holders', DIALER_ROLE));
  return r.stdout.split(/\s+/).includes(PKG)
    ? { ok: true, detail: 'Clawfinger is now the default phone app.' }
    : { ok: false, detail: 'The phone did not accept Clawfinger as the default phone app: open the app on the phone and accept the prompt.' };
}

export async function batteryUnrestricted(ctx: SetupContext): Promise<ActionResult> {
  await run(ctx, sh('dumpsys', 'deviceidle', 'whitelist', `+${PKG}`));
  await run(ctx, sh('cmd', 'appops', 'set', PKG, 'RUN_ANY_IN_BACKGROUND', 'allow'));
  const [idle, ops] = await Promise.all([run(ctx, sh('dumpsys', 'deviceidle', 'whitelist')), run(ctx, sh('cmd', 'appops', 'get', PKG, 'RUN_ANY_IN_BACKGROUND'))]);
  const ok = idle.stdout.includes(PKG) && /RUN_ANY_IN_BACKGROUND:\s*allow/i.test(ops.stdout);
  return ok ? { ok, detail: 'Battery use is unrestricted for the app.' } : { ok, detail: 'The phone did not accept the battery setting: set "Unrestricted" in the app\'s battery settings by hand.' };
}

export async function launchApp(ctx: SetupContext): Promise<ActionResult> {
  const r = await run(ctx, sh('am', 'start', '-n', MAIN_ACTIVITY));
  const text = r.stdout + r.stderr;
  if (/Error|Exception|does not exist/i.test(text)) return { ok: false, detail: `The app did not start: ${firstLine(r)}` };
  return { ok: true, detail: 'The app is open on the phone: accept any prompts shown there.' };
}

export async function disableOta(ctx: SetupContext): Promise<ActionResult> {
  await run(ctx, sh('settings', 'put', 'global', 'ota_disable_automatic_update', '1'));
  const r = await run(ctx, sh('settings', 'get', 'global', 'ota_disable_automatic_update'));
  return r.stdout.trim() === '1' ? { ok: true, detail: 'Automatic system updates are off.' } : { ok: false, detail: 'The phone did not keep the setting.' };
}

async function rootdAnswers(ctx: SetupContext): Promise<boolean> {
  try {
    const r = await run(ctx, ROOTD_PROBE, 4000);
    return /uid=0\(root\)/.test(r.stdout) && /__PB_EXIT__:0/.test(r.stdout);
  } catch {
    return false;
  }
}

export async function startRootd(ctx: SetupContext): Promise<ActionResult> {
  if (await rootdAnswers(ctx)) return { ok: true, detail: 'The root helper is already running.' };
  const su = ctx.facts?.su ?? (await findSu({ run: (c, t) => run(ctx, c, t), listReverses: async () => [] }, 8000));
  if (!su) return { ok: false, detail: 'No root access on this phone: the root helper cannot be started.' };
  const daemon = sh('nohup', '/system/bin/sh', ROOTD_SCRIPT, op('>'), '/dev/null', op('2>&1'), op('&'));
  await run(ctx, sh(su, '-c', daemon));
  for (let i = 0; i < 6; i++) {
    if (await rootdAnswers(ctx)) return { ok: true, detail: 'The root helper is running.' };
    await sleep(500);
  }
  return { ok: false, detail: `Started ${ROOTD_SCRIPT} with ${su}, but it does not answer: check that the rootd scripts are installed on the phone.` };
}

/** The command line that runs `build` inside the app's private files dir: run-as on a debug build, else root (null: neither). */
function asAppCommand(ctx: SetupContext, build: (base: string) => ShellCommand): ShellCommand | null {
  const debuggable = ctx.facts?.app.debuggable;
  if (debuggable !== false) return sh('run-as', PKG, 'sh', '-c', build('files'));
  const su = ctx.facts?.su;
  if (!su) return null;
  return sh(su, '-c', build(`/data/data/${PKG}/files`));
}

/** A command run inside the app's private files dir: run-as on a debug build, else root. */
async function asApp(ctx: SetupContext, build: (base: string) => ShellCommand): Promise<ShellResult | null> {
  const cmd = asAppCommand(ctx, build);
  return cmd ? run(ctx, cmd) : null;
}

export async function removeTestAudio(ctx: SetupContext): Promise<ActionResult> {
  const r = await asApp(ctx, (base) => sh('rm', '-rf', `${base}/${TEST_INJECT_DIR.replace(/^files\//, '')}`));
  if (!r) return { ok: false, detail: 'The app is a release build and the phone has no root: the test audio cannot be removed from here.' };
  const check = await asApp(ctx, (base) => sh('ls', `${base}/${TEST_INJECT_DIR.replace(/^files\//, '')}`));
  const text = check ? check.stdout + check.stderr : '';
  return /No such file/i.test(text) || !text.trim()
    ? { ok: true, detail: 'Leftover test audio removed.' }
    : { ok: false, detail: `The test audio is still there: ${text.trim().split('\n')[0]}` };
}

export interface PushProfileInput {
  /** a full profile to push (its gateway section is replaced) */
  profile?: Record<string, unknown>;
  /** the gateway bearer to put in the profile */
  bearer: string;
}

async function readCopies(ctx: SetupContext): Promise<{ external: string | null; internal: string | null }> {
  const [ext, int] = await Promise.all([
    run(ctx, sh('cat', EXTERNAL_PROFILE)).catch(() => null),
    run(ctx, readInternal(INTERNAL_PROFILE, ctx.facts?.su ?? null, ctx.facts?.app.debuggable ?? null)).catch(() => null),
  ]);
  const text = (r: ShellResult | null) => (r && r.exitCode !== 1 && r.stdout.trim().startsWith('{') ? r.stdout : null);
  return { external: text(ext), internal: text(int) };
}

function parseProfile(text: string | null): Profile | null {
  if (!text) return null;
  try {
    const v = validateProfile(JSON.parse(text));
    return v.ok ? v.profile : null;
  } catch {
    return null;
  }
}

/** Build the profile (given one, else the phone's current one, else the built-in template), push both copies, verify. */
export async function pushProfile(ctx: SetupContext, input: PushProfileInput): Promise<ActionResult> {
  const baseUrl = `http://127.0.0.1:${ctx.reversePort}`;
  const bearer = input.bearer || generateBearer();
  let profile: Profile | null = null;
  let source: string;
  if (input.profile) {
    const v = validateProfile(withGateway(input.profile as Profile, baseUrl, bearer));
    if (!v.ok) return { ok: false, detail: `The profile is not valid: ${v.problems.join('; ')}.` };
    profile = v.profile;
    source = 'the given profile';
  } else {
    const current = await readCopies(ctx);
    const existing = parseProfile(current.internal) ?? parseProfile(current.external);
    if (existing) {
      profile = withGateway(existing, baseUrl, bearer);
      source = "the phone's current profile";
    } else {
      const codename = ctx.facts?.codename ?? '';
      profile = templateProfile(codename, baseUrl, bearer);
      source = `the built-in ${codename} profile`;
      if (!profile) return { ok: false, detail: `There is no built-in profile for this phone (${codename || 'unknown model'}): its audio routes need profile training; push a profile made for it.` };
    }
  }
  const v = validateProfile(profile);
  if (!v.ok) return { ok: false, detail: `The profile is not valid: ${v.problems.join('; ')}.` };
  const bytes = profileBytes(profile);
  const hash = sha256(bytes);
  const encoded = b64(bytes);
  const activeName = INTERNAL_ACTIVE_PROFILE.replace(/^files\//, '');
  const writeInternal = (base: string) =>
    sh('mkdir', '-p', `${base}/profiles`, op('&&'), 'echo', encoded, op('|'), 'base64', '-d', op('>'), `${base}/${INTERNAL_PROFILE.replace(/^files\//, '')}`, op('&&'), 'rm', '-f', `${base}/${activeName}`);
  // the private copy travels inside one adb request (at most 65,535 bytes): refuse before touching the phone
  const internalCmd = asAppCommand(ctx, writeInternal);
  if (internalCmd && shellRequestBytes(internalCmd) > ADB_MAX_REQUEST) {
    const overhead = shellRequestBytes(internalCmd) - encoded.length;
    const maxBytes = Math.floor(((ADB_MAX_REQUEST - overhead) / 4) * 3);
    return { ok: false, detail: `The profile is too large to send through adb (${bytes.length.toLocaleString('en')} bytes; at most about ${maxBytes.toLocaleString('en')}): make it smaller. Nothing was changed on the phone.` };
  }

  await run(ctx, sh('mkdir', '-p', EXTERNAL_PROFILE_DIR));
  await ctx.client.push(ctx.serial, bytes, EXTERNAL_PROFILE, 0o660);
  await run(ctx, sh('rm', '-f', `${EXTERNAL_PROFILE_DIR}/active-profile.json`)).catch(() => undefined);
  const written = internalCmd ? await run(ctx, internalCmd) : null;
  if (!written) return { ok: false, detail: 'Pushed the shared copy, but the private copy needs a debug build of the app or root.' };
  if (written.exitCode !== null && written.exitCode !== 0) return { ok: false, detail: `Pushed the shared copy, but writing the private copy failed: ${firstLine(written) || `exit ${written.exitCode}`}.` };
  if (ctx.facts?.app.debuggable === false && ctx.facts.su) {
    // root wrote it: hand it back to the app
    const uidLine = await run(ctx, sh('dumpsys', 'package', PKG));
    const uid = uidLine.stdout.match(/userId=(\d+)/)?.[1];
    if (uid) await run(ctx, sh(ctx.facts.su, '-c', sh('chown', '-R', `${uid}:${uid}`, `/data/data/${PKG}/files/profiles`, op('&&'), 'restorecon', '-R', `/data/data/${PKG}/files/profiles`)));
  }
  const verify = await verifyProfile(ctx, hash);
  if (!verify.ok) return verify;
  const { baseUrl: url } = profileGateway(profile);
  return { ok: true, detail: `Profile from ${source} pushed to both locations and verified (gateway ${url}).`, sha256: hash, profile_id: String(profile.profile_id ?? '') };
}

/** Both copies present and identical (and equal to `expectedHash` when given). */
export async function verifyProfile(ctx: SetupContext, expectedHash?: string): Promise<ActionResult> {
  const copies = await readCopies(ctx);
  if (!copies.external) return { ok: false, detail: 'The shared copy of the profile is missing on the phone.' };
  if (!copies.internal) return { ok: false, detail: "The app's private copy of the profile is missing on the phone." };
  const he = sha256(copies.external);
  const hi = sha256(copies.internal);
  if (he !== hi) return { ok: false, detail: 'The two copies of the profile differ.' };
  if (expectedHash && he !== expectedHash) return { ok: false, detail: 'The profile on the phone is not the one just pushed.' };
  return { ok: true, detail: 'Both copies of the profile are present and identical.', sha256: he };
}
