/**
 * Where the adb server is, where the adb binary is, and starting the server — following adb's own
 * conventions: ANDROID_ADB_SERVER_PORT / ADB_SERVER_SOCKET / ANDROID_SERIAL, config keys override them.
 * Only asynchronous child processes: the process may host an adb server itself (tests), and a
 * synchronous call into it would deadlock.
 */
import { execFile } from 'node:child_process';
import { access, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const DEFAULT_ADB_PORT = 5037;

export interface AdbEndpoint {
  host: string;
  port: number;
}

export interface AdbServerConfig {
  adb_host: string;
  adb_port: number;
  adb_serial: string;
  adb_path: string;
}

type Env = Record<string, string | undefined>;

/** Config wins over the environment; the environment over adb's default 127.0.0.1:5037. */
export function resolveAdbEndpoint(cfg: Pick<AdbServerConfig, 'adb_host' | 'adb_port'>, env: Env): AdbEndpoint {
  let host = '127.0.0.1';
  let port = DEFAULT_ADB_PORT;
  const socket = env.ADB_SERVER_SOCKET?.match(/^tcp:(?:([^:]+):)?(\d{1,5})$/);
  if (socket) {
    if (socket[1]) host = socket[1];
    port = Number(socket[2]);
  }
  const envPort = Number.parseInt(env.ANDROID_ADB_SERVER_PORT ?? '', 10);
  if (envPort > 0 && envPort < 65536) port = envPort;
  if (cfg.adb_host.trim()) host = cfg.adb_host.trim();
  if (cfg.adb_port > 0) port = cfg.adb_port;
  return { host, port };
}

/** The serial to use when none is given: config `adb_serial`, else ANDROID_SERIAL, else ''. */
export function defaultSerial(cfg: Pick<AdbServerConfig, 'adb_serial'>, env: Env): string {
  return cfg.adb_serial.trim() || (env.ANDROID_SERIAL ?? '').trim();
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** How to get adb, in words for the user's OS. */
export function adbInstallHint(platform: NodeJS.Platform = process.platform): string {
  switch (platform) {
    case 'darwin':
      return 'Install it with `brew install --cask android-platform-tools`, or download Android SDK Platform-Tools from developer.android.com and set adb_path.';
    case 'win32':
      return 'Install it with `winget install Google.PlatformTools`, or download Android SDK Platform-Tools from developer.android.com and set adb_path to adb.exe.';
    default:
      return 'Install it with your package manager (Debian/Ubuntu: `sudo apt install adb`, Fedora: `sudo dnf install android-tools`, Arch: `sudo pacman -S android-tools`), or set adb_path.';
  }
}

export const NO_PERMISSIONS_HINT =
  'Linux does not let this user open the phone over USB: install udev rules for Android devices (Debian/Ubuntu: `sudo apt install android-sdk-platform-tools-common`; others: the `android-udev-rules` package), add yourself to the plugdev group, then unplug and replug the phone.';

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const s = await stat(p);
    if (!s.isFile()) return false;
    if (process.platform === 'win32') return true;
    await access(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export type AdbBinary = { ok: true; path: string } | { ok: false; detail: string };

/** Config `adb_path`, else `adb` on PATH, else the usual SDK locations. */
export async function findAdbBinary(adbPath: string, env: Env, platform: NodeJS.Platform = process.platform): Promise<AdbBinary> {
  const exe = platform === 'win32' ? 'adb.exe' : 'adb';
  if (adbPath.trim()) {
    const p = adbPath.trim();
    if (await isExecutableFile(p)) return { ok: true, path: p };
    return { ok: false, detail: `adb_path is set to ${p}, but that is not an executable adb program. Fix adb_path or clear it to search PATH. ${adbInstallHint(platform)}` };
  }
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  for (const sdk of [env.ANDROID_HOME, env.ANDROID_SDK_ROOT]) if (sdk) dirs.push(path.join(sdk, 'platform-tools'));
  if (platform === 'darwin') dirs.push(path.join(home, 'Library/Android/sdk/platform-tools'));
  else if (platform === 'win32') {
    if (env.LOCALAPPDATA) dirs.push(path.join(env.LOCALAPPDATA, 'Android', 'Sdk', 'platform-tools'));
  } else dirs.push(path.join(home, 'Android/Sdk/platform-tools'));
  for (const d of dirs) {
    const p = path.join(d, exe);
    if (await isExecutableFile(p)) return { ok: true, path: p };
  }
  return { ok: false, detail: `adb was not found on this computer. ${adbInstallHint(platform)}` };
}

/** `adb -P <port> start-server`, asynchronously, with a time limit. */
export function startAdbServer(bin: string, port: number, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['-P', String(port), 'start-server'], { timeout: timeoutMs, windowsHide: true }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`could not start the adb server (${bin} -P ${port} start-server): ${String(stderr || err.message).trim().split('\n')[0]}`));
      else resolve();
    });
  });
}

/** `adb -P <port> kill-server` (used by tests and by "restart adb"). */
export function killAdbServer(bin: string, port: number, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    execFile(bin, ['-P', String(port), 'kill-server'], { timeout: timeoutMs, windowsHide: true }, () => resolve());
  });
}
