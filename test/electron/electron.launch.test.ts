/**
 * Launches the real desktop app with Playwright's Electron driver where the Electron binary exists.
 * On machines installed with ELECTRON_SKIP_BINARY_DOWNLOAD (like CI here) it skips and says why.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findElectronBinary } from '../../src-main/electron/detect';

const bin = findElectronBinary();
const reason = bin.ok ? '' : bin.reason;

describe('desktop app in a real Electron', () => {
  it.skipIf(!bin.ok)(`opens the console window with a locked-down renderer${reason ? ` — skipped: ${reason}` : ''}`, async () => {
    const { _electron } = await import('playwright-core');
    execFileSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'], { stdio: 'inherit' });
    const dataDir = mkdtempSync(join(tmpdir(), 'cf-electron-'));
    const app = await _electron.launch({ executablePath: (bin as { path: string }).path, args: ['.'], env: { ...process.env, CLAWFINGER_DATA_DIR: dataDir } });
    try {
      const page = await app.firstWindow();
      await page.waitForLoadState('domcontentloaded');
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => typeof (globalThis as { clawfinger?: { getToken?: unknown } }).clawfinger?.getToken)).toBe('function');
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
