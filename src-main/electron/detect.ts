/**
 * Finds the Electron binary without requiring the `electron` module (which throws when the binary
 * was not downloaded, as with ELECTRON_SKIP_BINARY_DOWNLOAD).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ElectronBinary = { ok: true; path: string } | { ok: false; reason: string };

export function findElectronBinary(env: Record<string, string | undefined> = process.env): ElectronBinary {
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { ok: false, reason: 'the electron package is not installed (run npm install)' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return { ok: false, reason: 'the Electron binary was not downloaded (installed with ELECTRON_SKIP_BINARY_DOWNLOAD or offline)' };
  const rel = readFileSync(pathFile, 'utf8').trim();
  const bin = env.ELECTRON_OVERRIDE_DIST_PATH ? join(env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron') : join(pkgDir, 'dist', rel);
  if (!existsSync(bin)) return { ok: false, reason: `the Electron binary is missing at ${bin}` };
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return { ok: false, reason: 'no display (DISPLAY/WAYLAND_DISPLAY unset)' };
  return { ok: true, path: bin };
}
