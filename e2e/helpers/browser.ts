/**
 * E2E plumbing: build the console once per source state (cached by a hash of its sources, under a
 * lock so parallel test files share one build), start Debian's Chromium through playwright-core with
 * a fresh profile, and save screenshots under test-results/screenshots/.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else if (!name.endsWith('.test.ts') && !name.endsWith('.test.tsx')) out.push(p);
  }
  return out.sort();
}

function sourceHash(): string {
  const h = createHash('sha256');
  const files = [...listFiles(join(ROOT, 'src-renderer')), ...listFiles(join(ROOT, 'src-shared')), join(ROOT, 'vite.renderer.config.ts')];
  for (const f of files) h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 16);
}

async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      // a lock left by a killed run goes stale after 3 minutes
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > 180_000) rmSync(lockDir, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/**
 * The built console (the same Vite config as `npm run build:renderer`), built at most once per source
 * state. Returns the folder holding index.html.
 */
export async function buildConsole(): Promise<string> {
  const cache = join(ROOT, 'node_modules', '.cache', 'clawfinger-console');
  mkdirSync(cache, { recursive: true });
  const out = join(cache, sourceHash());
  if (existsSync(join(out, 'index.html'))) return out;
  return withLock(join(cache, '.lock'), async () => {
    if (existsSync(join(out, 'index.html'))) return out;
    const { build } = await import('vite');
    const tmp = `${out}.tmp-${process.pid}`;
    await build({ configFile: join(ROOT, 'vite.renderer.config.ts'), logLevel: 'error', build: { outDir: tmp, emptyOutDir: true } });
    rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
    // keep the cache small: only the newest few builds
    const builds = readdirSync(cache).filter((n) => !n.startsWith('.') && !n.includes('.tmp-')).map((n) => ({ n, t: statSync(join(cache, n)).mtimeMs })).sort((a, b) => b.t - a.t);
    for (const b of builds.slice(4)) rmSync(join(cache, b.n), { recursive: true, force: true });
    return out;
  });
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** console messages and page errors, for diagnosing failures */
  logs: string[];
  close(): Promise<void>;
}

export interface LaunchOptions {
  colorScheme?: 'light' | 'dark';
  extraArgs?: string[];
  permissions?: string[];
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'cf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.extraArgs ?? [])],
    viewport: { width: 1400, height: 900 },
    colorScheme: opts.colorScheme ?? 'light',
    reducedMotion: 'reduce',
    permissions: opts.permissions,
  });
  // fail with the step that hung, well inside the test's own timeout
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  return {
    context,
    page,
    logs,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}
