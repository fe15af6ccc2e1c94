/**
 * Per-device health checks (phone spec §6). `gatherFacts` runs the read-only device commands (in
 * parallel, a few at a time); `evaluateChecks` turns the outputs into checks with a status, one line
 * for a person and, where one exists, the action that fixes it. Evaluation is pure.
 */
import type { ShellResult } from './adb-client';
import { EXTERNAL_PROFILE, INTERNAL_ACTIVE_PROFILE, INTERNAL_PROFILE, PKG, ROOTD_PORT, RUNTIME_PERMISSIONS, SU_CANDIDATES, TEST_INJECT_DIR, DIALER_ROLE } from './constants';
import { NO_PERMISSIONS_HINT } from './adb-server';
import { parseTelephonyCallState } from './call-tracker';
import { normaliseBaseUrl, profileGateway, sha256, validateProfile } from './profile';
import { b64, op, sh, type ShellCommand } from './shell';
import type { CheckId, CheckStatus, DeviceFacts, HealthCheck } from './types';

export interface Probe {
  run(cmd: ShellCommand, timeoutMs?: number): Promise<ShellResult>;
  listReverses(): Promise<{ remote: string; local: string }[]>;
}

export interface CheckContext {
  /** adb state of the device */
  state: string;
  /** the phone's side of the reverse rule (what the app's profile points at) */
  reversePort: number;
  /** this computer's side: the port the gateway is bound to (default: reversePort) */
  gatewayPort?: number;
  /** the running gateway's bearer ('' = none) */
  bearer: string;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** `[key]: [value]` lines of `getprop`. */
export function parseGetprop(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\[([^\]]+)\]: \[([^\]]*)\]/gm)) out[m[1]] = m[2];
  return out;
}

const SAFE_APK_PATH = /^\/data\/app\/[A-Za-z0-9._=~+\/-]+\.apk$/;

export interface RawFacts {
  props: Outcome<Record<string, string>>;
  user: Outcome<ShellResult>;
  pmPath: Outcome<ShellResult>;
  dumpsysPackage: Outcome<ShellResult> | null;
  apkSha: Outcome<ShellResult> | null;
  role: Outcome<ShellResult>;
  idle: Outcome<ShellResult>;
  appops: Outcome<ShellResult>;
  bucket: Outcome<ShellResult>;
  lock: Outcome<ShellResult>;
  su: string | null;
  rootd: Outcome<ShellResult>;
  reverses: Outcome<{ remote: string; local: string }[]>;
  reach: Outcome<ShellResult> | null;
  profileExternal: Outcome<ShellResult> | null;
  profileInternal: Outcome<ShellResult> | null;
  profileDir: Outcome<ShellResult> | null;
  testInject: Outcome<ShellResult> | null;
  airplane: Outcome<ShellResult>;
  battery: Outcome<ShellResult>;
  telephony: Outcome<ShellResult>;
  ota: Outcome<ShellResult>;
}

/** A tiny concurrency limiter so a check run does not open 20 adb sockets at once. */
function limiter(max: number) {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

export function healthRequest(port: number, bearer: string): string {
  const auth = bearer ? `Authorization: Bearer ${bearer}\r\n` : '';
  return `GET /health HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\n${auth}\r\n`;
}

/** The reverse rule the phone needs: its `tcp:<reversePort>` leads to this computer's `tcp:<gatewayPort>`. */
export function reverseRule(ctx: { reversePort: number; gatewayPort?: number }): { remote: string; local: string } {
  return { remote: `tcp:${ctx.reversePort}`, local: `tcp:${ctx.gatewayPort || ctx.reversePort}` };
}

/** Is the rule in the phone's reverse list? */
export function hasReverseRule(list: { remote: string; local: string }[], ctx: { reversePort: number; gatewayPort?: number }): boolean {
  const want = reverseRule(ctx);
  return list.some((r) => r.remote === want.remote && r.local === want.local);
}

/** Ask the phone to fetch the gateway's /health through its reverse port (no quoting: base64). */
export function reachabilityCommand(port: number, bearer: string): ShellCommand {
  return sh('echo', b64(healthRequest(port, bearer)), op('|'), 'base64', '-d', op('|'), 'nc', '127.0.0.1', port);
}

export const ROOTD_PROBE = sh('echo', 'CMD_B64:aWQ=', op('|'), 'nc', '127.0.0.1', ROOTD_PORT);

/** Which su gives uid=0, or null. */
export async function findSu(probe: Probe, timeoutMs: number): Promise<string | null> {
  for (const su of SU_CANDIDATES) {
    const r = await attempt(() => probe.run(sh(su, '-c', 'id'), timeoutMs));
    if (r.ok && /uid=0\(root\)/.test(r.value.stdout)) return su;
  }
  return null;
}

/** Read the app-private profile copy: run-as on a debuggable build, else root. */
export function readInternal(relPath: string, su: string | null, debuggable: boolean | null): ShellCommand {
  if (debuggable === false && su) return sh(su, '-c', sh('cat', `/data/data/${PKG}/${relPath}`));
  return sh('run-as', PKG, 'cat', relPath);
}

export async function gatherFacts(probe: Probe, ctx: CheckContext, timeoutMs: number): Promise<RawFacts> {
  const limit = limiter(4);
  const run = (cmd: ShellCommand, t = timeoutMs) => attempt(() => limit(() => probe.run(cmd, t)));
  const [props, user, pmPath, role, idle, appops, bucket, lock, airplane, battery, telephony, ota, reverses] = await Promise.all([
    attempt(() => limit(() => probe.run(sh('getprop'), timeoutMs)).then((r) => parseGetprop(r.stdout))),
    run(sh('dumpsys', 'user')),
    run(sh('pm', 'path', PKG)),
    run(sh('cmd', 'role', 'get-role-holders', DIALER_ROLE)),
    run(sh('dumpsys', 'deviceidle', 'whitelist')),
    run(sh('cmd', 'appops', 'get', PKG, 'RUN_ANY_IN_BACKGROUND')),
    run(sh('am', 'get-standby-bucket', PKG)),
    run(sh('locksettings', 'get-disabled')),
    run(sh('settings', 'get', 'global', 'airplane_mode_on')),
    run(sh('dumpsys', 'battery')),
    run(sh('dumpsys', 'telephony.registry')),
    run(sh('settings', 'get', 'global', 'ota_disable_automatic_update')),
    attempt(() => limit(() => probe.listReverses())),
  ]);
  const installed = pmPath.ok && /^package:/m.test(pmPath.value.stdout);
  let dumpsysPackage: RawFacts['dumpsysPackage'] = null;
  let apkSha: RawFacts['apkSha'] = null;
  if (installed) {
    const apk = pmPath.value.stdout.split('\n').map((l) => l.trim().replace(/^package:/, '')).find((p) => p.endsWith('/base.apk')) ??
      pmPath.value.stdout.trim().split('\n')[0].replace(/^package:/, '').trim();
    [dumpsysPackage, apkSha] = await Promise.all([
      run(sh('dumpsys', 'package', PKG)),
      SAFE_APK_PATH.test(apk) ? run(sh('sha256sum', apk), Math.max(timeoutMs, 30_000)) : Promise.resolve(null),
    ]);
  }
  const debuggable = dumpsysPackage?.ok ? /pkgFlags=\[[^\]]*\bDEBUGGABLE\b/.test(dumpsysPackage.value.stdout) : null;
  const [su, rootd] = await Promise.all([findSu(probe, Math.min(timeoutMs, 8000)), run(ROOTD_PROBE, Math.min(timeoutMs, 4000))]);
  const reverseOk = reverses.ok && hasReverseRule(reverses.value, ctx);
  const reach = reverseOk ? await run(reachabilityCommand(ctx.reversePort, ctx.bearer), Math.min(timeoutMs, 6000)) : null;
  let profileExternal: RawFacts['profileExternal'] = null;
  let profileInternal: RawFacts['profileInternal'] = null;
  let profileDir: RawFacts['profileDir'] = null;
  let testInject: RawFacts['testInject'] = null;
  if (installed) {
    const viaRoot = debuggable === false && su;
    [profileExternal, profileInternal, profileDir, testInject] = await Promise.all([
      run(sh('cat', EXTERNAL_PROFILE)),
      run(readInternal(INTERNAL_PROFILE, su, debuggable)),
      run(viaRoot ? sh(su, '-c', sh('ls', `/data/data/${PKG}/files/profiles`)) : sh('run-as', PKG, 'ls', 'files/profiles')),
      run(viaRoot ? sh(su, '-c', sh('ls', `/data/data/${PKG}/${TEST_INJECT_DIR}`)) : sh('run-as', PKG, 'ls', TEST_INJECT_DIR)),
    ]);
  }
  return { props, user, pmPath, dumpsysPackage, apkSha, role, idle, appops, bucket, lock, su, rootd, reverses, reach, profileExternal, profileInternal, profileDir, testInject, airplane, battery, telephony, ota };
}

const TITLES: Record<CheckId, string> = {
  device_state: 'USB connection',
  boot: 'Phone started',
  user_unlocked: 'Unlocked since start',
  app_installed: 'Clawfinger app',
  permissions: 'App permissions',
  dialer_role: 'Default phone app',
  battery_unrestricted: 'Battery use unrestricted',
  lock_screen: 'No screen lock',
  root: 'Root access',
  rootd: 'Root helper (rootd)',
  reverse: 'USB link to the gateway (adb reverse)',
  reachability: 'Phone reaches the gateway',
  profile: 'App profile',
  test_audio: 'No leftover test audio',
  sim_network: 'SIM and network',
  battery: 'Battery',
  call_state: 'Call state',
  ota: 'Automatic system updates off',
};

function check(id: CheckId, status: CheckStatus, detail: string, fix?: HealthCheck['fix']): HealthCheck {
  return fix ? { id, title: TITLES[id], status, detail, fix } : { id, title: TITLES[id], status, detail };
}

const out = (o: Outcome<ShellResult> | null): string | null => (o && o.ok ? o.value.stdout : null);
const failed = (o: Outcome<unknown> | null): string => (o && !o.ok ? `could not read it (${o.error})` : 'could not read it');

/** The adb state in words ('' when fine). */
export function explainState(state: string): string {
  switch (state) {
    case 'device':
      return '';
    case 'unauthorized':
      return 'The phone has not allowed USB debugging from this computer yet: unlock the phone and accept the "Allow USB debugging?" prompt (tick "Always allow").';
    case 'authorizing':
      return 'The phone is being authorised: accept the "Allow USB debugging?" prompt on the phone.';
    case 'offline':
      return 'The phone is connected but not answering (offline): unplug and replug the USB cable, or restart adb.';
    case 'no permissions':
      return NO_PERMISSIONS_HINT;
    case 'recovery':
    case 'sideload':
    case 'rescue':
      return `The phone is in ${state} mode: reboot it normally.`;
    case 'bootloader':
      return 'The phone is in the bootloader (fastboot): reboot it normally.';
    case 'connecting':
      return 'The phone is connecting: wait a moment.';
    default:
      return `The phone is in the adb state "${state}", which cannot be used: unplug and replug it.`;
  }
}

const SERVICE_STATES = ['IN_SERVICE', 'OUT_OF_SERVICE', 'EMERGENCY_ONLY', 'POWER_OFF'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

/**
 * The voice registration state of every phone slot in `dumpsys telephony.registry`:
 * `mServiceState={mVoiceRegState=0(IN_SERVICE), …}` (Android 8+) or `mServiceState=0 …` (older).
 */
export function parseServiceStates(dumpsys: string): ServiceState[] {
  const out: ServiceState[] = [];
  for (const m of dumpsys.matchAll(/mServiceState=\{?(?:mVoiceRegState=)?(\d)/g)) {
    const st = SERVICE_STATES[Number(m[1])];
    if (st) out.push(st);
  }
  return out;
}

export interface Evaluated {
  checks: HealthCheck[];
  facts: DeviceFacts;
  reverseActive: boolean;
  telephonyState: 0 | 1 | 2 | null;
  profileHashes: { external: string | null; internal: string | null };
}

export function emptyFacts(): DeviceFacts {
  return {
    model: null,
    codename: null,
    manufacturer: null,
    androidVersion: null,
    sdk: null,
    buildId: null,
    app: { installed: false, versionName: null, versionCode: null, debuggable: null, apkSha256: null, buildMarker: null },
    su: null,
    battery: null,
  };
}

export function skippedChecks(state: string): HealthCheck[] {
  const detail = 'Needs a working USB connection first.';
  return [check('device_state', 'fail', explainState(state)), ...CHECK_ORDER.slice(1).map((id) => check(id, 'skipped', detail))];
}

const CHECK_ORDER: CheckId[] = ['device_state', 'boot', 'user_unlocked', 'app_installed', 'permissions', 'dialer_role', 'battery_unrestricted', 'lock_screen', 'root', 'rootd', 'reverse', 'reachability', 'profile', 'test_audio', 'sim_network', 'battery', 'call_state', 'ota'];

export function evaluateChecks(raw: RawFacts, ctx: CheckContext): Evaluated {
  const checks: HealthCheck[] = [check('device_state', 'ok', 'Connected and authorised.')];
  const props = raw.props.ok ? raw.props.value : {};
  const facts = emptyFacts();
  facts.model = props['ro.product.model'] || null;
  facts.codename = props['ro.product.device'] || null;
  facts.manufacturer = props['ro.product.manufacturer'] || null;
  facts.androidVersion = props['ro.build.version.release'] || null;
  facts.sdk = props['ro.build.version.sdk'] ? Number(props['ro.build.version.sdk']) : null;
  facts.buildId = props['ro.build.id'] || null;
  facts.su = raw.su;

  // boot + user
  if (!raw.props.ok) checks.push(check('boot', 'unknown', `Could not read the phone's properties: ${raw.props.error}`));
  else checks.push(props['sys.boot_completed'] === '1' ? check('boot', 'ok', 'Started.') : check('boot', 'warn', 'The phone is still starting up: wait a moment.'));
  const user = out(raw.user);
  if (user === null) checks.push(check('user_unlocked', 'unknown', `User state: ${failed(raw.user)}`));
  else checks.push(/RUNNING_UNLOCKED/.test(user) ? check('user_unlocked', 'ok', 'Unlocked.') : check('user_unlocked', 'fail', 'Unlock the phone once after it started: apps cannot run until then.'));

  // app
  const installed = raw.pmPath.ok && /^package:/m.test(raw.pmPath.value.stdout);
  const pkgDump = out(raw.dumpsysPackage) ?? '';
  facts.app.installed = installed;
  if (installed) {
    facts.app.versionName = pkgDump.match(/versionName=(\S+)/)?.[1] ?? null;
    facts.app.versionCode = pkgDump.match(/versionCode=(\d+)/)?.[1] ?? null;
    facts.app.debuggable = raw.dumpsysPackage?.ok ? /pkgFlags=\[[^\]]*\bDEBUGGABLE\b/.test(pkgDump) : null;
    facts.app.apkSha256 = out(raw.apkSha)?.match(/^([0-9a-f]{64})\b/)?.[1] ?? null;
    const v = [facts.app.versionName && `version ${facts.app.versionName}`, facts.app.debuggable ? 'debug build' : facts.app.debuggable === false ? 'release build' : null, facts.app.apkSha256 && `APK ${facts.app.apkSha256.slice(0, 12)}…`].filter(Boolean).join(', ');
    checks.push(check('app_installed', 'ok', `Installed${v ? ` (${v})` : ''}.`));
  } else if (!raw.pmPath.ok) checks.push(check('app_installed', 'unknown', `Could not ask the phone: ${raw.pmPath.error}`, 'install_apk'));
  else checks.push(check('app_installed', 'fail', 'The Clawfinger app is not installed: install the APK.', 'install_apk'));

  // permissions
  if (!installed) checks.push(check('permissions', 'skipped', 'Install the app first.'));
  else if (!raw.dumpsysPackage?.ok) checks.push(check('permissions', 'unknown', `Permissions: ${failed(raw.dumpsysPackage)}`, 'grant_permissions'));
  else {
    const needed = RUNTIME_PERMISSIONS.filter((p) => p !== 'android.permission.POST_NOTIFICATIONS' || (facts.sdk ?? 33) >= 33);
    const missing = needed.filter((p) => !new RegExp(`${p.replace(/\./g, '\\.')}: granted=true`).test(pkgDump));
    checks.push(
      missing.length
        ? check('permissions', 'fail', `Missing: ${missing.map((p) => p.replace('android.permission.', '')).join(', ')}.`, 'grant_permissions')
        : check('permissions', 'ok', 'All granted.'),
    );
  }

  // dialer role
  const role = out(raw.role);
  if (!installed) checks.push(check('dialer_role', 'skipped', 'Install the app first.'));
  else if (role === null) checks.push(check('dialer_role', 'unknown', `Dialer role: ${failed(raw.role)}`, 'set_dialer_role'));
  else
    checks.push(
      role.split(/\s+/).includes(PKG)
        ? check('dialer_role', 'ok', 'Clawfinger is the default phone app.')
        : check('dialer_role', 'fail', 'Clawfinger is not the default phone app, so calls never reach the assistant (Android resets this after every reboot).', 'set_dialer_role'),
    );

  // battery unrestricted
  if (!installed) checks.push(check('battery_unrestricted', 'skipped', 'Install the app first.'));
  else {
    const idle = out(raw.idle);
    const ops = out(raw.appops);
    const bucket = out(raw.bucket)?.trim() ?? '';
    const whitelisted = idle !== null && idle.includes(PKG);
    const bgAllowed = ops !== null && /RUN_ANY_IN_BACKGROUND:\s*allow/i.test(ops);
    if (idle === null && ops === null) checks.push(check('battery_unrestricted', 'unknown', 'Battery settings: could not read them.', 'battery_unrestricted'));
    else if (whitelisted && bgAllowed) checks.push(check('battery_unrestricted', 'ok', `Unrestricted${bucket ? ` (standby bucket ${bucket})` : ''}.`));
    else
      checks.push(
        check('battery_unrestricted', 'warn', `Android may stop the app in the background (${[!whitelisted && 'not on the battery whitelist', !bgAllowed && 'background running not allowed'].filter(Boolean).join(', ')}).`, 'battery_unrestricted'),
      );
  }

  // lock screen
  const lock = out(raw.lock)?.trim();
  if (lock === undefined) checks.push(check('lock_screen', 'unknown', `Screen lock: ${failed(raw.lock)}`));
  else if (lock === 'true') checks.push(check('lock_screen', 'ok', 'No screen lock.'));
  else checks.push(check('lock_screen', 'warn', 'A screen lock may be set: after a reboot the phone must be unlocked by hand. Set the lock to None in the phone settings.'));

  // root + rootd
  checks.push(raw.su ? check('root', 'ok', `Root via ${raw.su}.`) : check('root', 'warn', 'No root access found: calls cannot carry audio without root (see the root runbooks).'));
  const rootdOut = out(raw.rootd) ?? '';
  if (/uid=0\(root\)/.test(rootdOut) && /__PB_EXIT__:0/.test(rootdOut)) checks.push(check('rootd', 'ok', 'Running.'));
  else if (raw.su) checks.push(check('rootd', 'fail', 'The root helper is not running (it does not start by itself after a reboot): calls would be silent.', 'start_rootd'));
  else checks.push(check('rootd', 'fail', 'The root helper is not running, and there is no root to start it.'));

  // reverse + reachability
  const reverseActive = raw.reverses.ok && hasReverseRule(raw.reverses.value, ctx);
  const rule = reverseRule(ctx);
  const stale = raw.reverses.ok ? raw.reverses.value.find((r) => r.remote === rule.remote && r.local !== rule.local) : undefined;
  if (!raw.reverses.ok) checks.push(check('reverse', 'unknown', `Reverse rules: could not read them (${raw.reverses.error}).`, 'create_reverse'));
  else if (reverseActive) checks.push(check('reverse', 'ok', `The phone's ${rule.remote} → this computer's ${rule.local} (the gateway).`));
  else if (stale) checks.push(check('reverse', 'fail', `The phone's ${rule.remote} leads to ${stale.local} on this computer, not to the gateway (${rule.local}).`, 'create_reverse'));
  else checks.push(check('reverse', 'fail', `The phone has no link to the gateway (${rule.remote} → ${rule.local}).`, 'create_reverse'));
  if (!raw.reach) checks.push(check('reachability', 'skipped', 'Needs the USB link (adb reverse) first.', 'create_reverse'));
  else {
    const status = out(raw.reach)?.match(/^HTTP\/1\.[01] (\d{3})/m)?.[1];
    if (status === '200') checks.push(check('reachability', 'ok', 'The phone reaches the gateway.'));
    else if (status === '401') checks.push(check('reachability', 'warn', 'The phone reaches the gateway, but the gateway refused the bearer token.'));
    else if (status) checks.push(check('reachability', 'warn', `The phone reaches the gateway, which answered HTTP ${status}.`));
    else checks.push(check('reachability', 'fail', `The phone cannot reach the gateway on 127.0.0.1:${ctx.reversePort}: is the gateway running?`, 'create_reverse'));
  }

  // profile
  const hashes = { external: null as string | null, internal: null as string | null };
  if (!installed) checks.push(check('profile', 'skipped', 'Install the app first.'));
  else {
    const ext = raw.profileExternal?.ok && raw.profileExternal.value.exitCode !== 1 ? raw.profileExternal.value.stdout : null;
    const int = raw.profileInternal?.ok && raw.profileInternal.value.exitCode !== 1 ? raw.profileInternal.value.stdout : null;
    const problems: string[] = [];
    const expectUrl = `http://127.0.0.1:${ctx.reversePort}`;
    const readOne = (label: string, text: string | null) => {
      if (text === null || !text.trim() || /No such file|Permission denied|not debuggable|unknown package/i.test(text) && !text.trim().startsWith('{')) {
        problems.push(`the ${label} copy is missing`);
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        problems.push(`the ${label} copy is not valid JSON`);
        return;
      }
      const v = validateProfile(parsed);
      if (!v.ok) {
        problems.push(`the ${label} copy is invalid (${v.problems.join('; ')})`);
        return;
      }
      const gw = profileGateway(v.profile);
      if (normaliseBaseUrl(gw.baseUrl) !== expectUrl) problems.push(`the ${label} copy points at ${gw.baseUrl}, not ${expectUrl}`);
      if (ctx.bearer && gw.bearer !== ctx.bearer) problems.push(`the ${label} copy has a different bearer than the gateway`);
      hashes[label === 'internal' ? 'internal' : 'external'] = sha256(text);
    };
    readOne('internal', int);
    readOne('external', ext);
    if (hashes.internal && hashes.external && hashes.internal !== hashes.external) problems.push('the two copies differ');
    const dir = out(raw.profileDir) ?? '';
    const leftover = dir.split(/\s+/).includes(INTERNAL_ACTIVE_PROFILE.split('/').pop()!);
    if (problems.length) checks.push(check('profile', 'fail', `Profile: ${problems.join('; ')}.`, 'push_profile'));
    else if (leftover) checks.push(check('profile', 'warn', 'Both copies match the gateway, but an old active-profile.json is also present.', 'push_profile'));
    else checks.push(check('profile', 'ok', 'Both copies present, identical, and matching this gateway.'));
  }

  // leftover test audio
  if (!installed) checks.push(check('test_audio', 'skipped', 'Install the app first.'));
  else if (!raw.testInject?.ok) checks.push(check('test_audio', 'unknown', `Test audio: ${failed(raw.testInject)}`));
  else {
    const r = raw.testInject.value;
    const text = (r.stdout + r.stderr).trim();
    const files = text.split(/\s+/).filter((f) => /\.wav$/i.test(f));
    if (/No such file/i.test(text) || (!files.length && r.exitCode === 0)) checks.push(check('test_audio', 'ok', 'None.'));
    else if (files.length) checks.push(check('test_audio', 'fail', `Leftover test audio (${files.length} file${files.length > 1 ? 's' : ''}) replaces every caller's voice: remove it.`, 'remove_test_audio'));
    else checks.push(check('test_audio', 'unknown', `Test audio: could not look (${text.split('\n')[0].slice(0, 120)}).`));
  }

  // SIM / network
  const sim = props['gsm.sim.state'] ?? '';
  const airplane = out(raw.airplane)?.trim();
  const operator = props['gsm.operator.alpha'] ?? '';
  const network = parseServiceStates(out(raw.telephony) ?? '');
  const networkName = operator.split(',').map((o) => o.trim()).find(Boolean);
  if (airplane === '1') checks.push(check('sim_network', 'fail', 'Airplane mode is on.'));
  else if (!sim) checks.push(check('sim_network', 'unknown', 'SIM state unknown.'));
  else if (!sim.split(',').some((s) => s.trim() === 'READY' || s.trim() === 'LOADED')) checks.push(check('sim_network', 'fail', `SIM not ready (${sim}).`));
  else if (network.length && !network.includes('IN_SERVICE')) {
    const why = network.includes('EMERGENCY_ONLY') ? 'emergency calls only' : network.includes('POWER_OFF') ? 'the radio is off' : 'out of service';
    checks.push(check('sim_network', 'fail', `SIM ready, but no mobile network (${why}): calls cannot be made or received.`));
  } else if (!network.length) checks.push(check('sim_network', 'warn', `SIM ready${networkName ? `, operator ${networkName}` : ''}, but the network state could not be read.`));
  else checks.push(check('sim_network', 'ok', `SIM ready, in service${networkName ? ` (${networkName})` : ''}.`));

  // battery
  const bat = out(raw.battery);
  if (bat === null) checks.push(check('battery', 'unknown', `Battery: ${failed(raw.battery)}`));
  else {
    const level = Number(bat.match(/^\s*level:\s*(\d+)/m)?.[1] ?? NaN);
    const usb = /USB powered:\s*true/i.test(bat) || /AC powered:\s*true/i.test(bat);
    const temp = Number(bat.match(/^\s*temperature:\s*(\d+)/m)?.[1] ?? NaN);
    facts.battery = { level: Number.isFinite(level) ? level : null, charging: usb, temperatureC: Number.isFinite(temp) ? temp / 10 : null };
    const txt = `${Number.isFinite(level) ? `${level} %` : 'level unknown'}${usb ? ', charging' : ''}${Number.isFinite(temp) ? `, ${(temp / 10).toFixed(1)} °C` : ''}`;
    if (Number.isFinite(temp) && temp >= 450) checks.push(check('battery', 'warn', `Hot: ${txt}.`));
    else if (Number.isFinite(level) && level < 15 && !usb) checks.push(check('battery', 'warn', `Low: ${txt}.`));
    else checks.push(check('battery', 'ok', `${txt[0].toUpperCase()}${txt.slice(1)}.`));
  }

  // call state
  const tel = out(raw.telephony);
  const telephonyState = tel === null ? null : parseTelephonyCallState(tel);
  if (telephonyState === null) checks.push(check('call_state', 'unknown', 'Call state: could not read it.'));
  else checks.push(check('call_state', 'ok', ['Idle.', 'Ringing.', 'In a call.'][telephonyState], telephonyState ? 'hangup' : undefined));

  // OTA
  const ota = out(raw.ota)?.trim();
  if (ota === undefined) checks.push(check('ota', 'unknown', `Update setting: ${failed(raw.ota)}`));
  else checks.push(ota === '1' ? check('ota', 'ok', 'Off.') : check('ota', 'warn', 'Automatic system updates are on: an update would remove root.', 'disable_ota'));

  const ordered = CHECK_ORDER.map((id) => checks.find((c) => c.id === id)!).filter(Boolean);
  return { checks: ordered, facts, reverseActive, telephonyState, profileHashes: hashes };
}

const RANK: Record<CheckStatus, number> = { ok: 0, skipped: 0, unknown: 1, warn: 2, fail: 3 };

export function worstStatus(checks: HealthCheck[]): CheckStatus | null {
  if (!checks.length) return null;
  return checks.reduce<CheckStatus>((w, c) => (RANK[c.status] > RANK[w] ? c.status : w), 'ok');
}
