/**
 * More of the console against real gateways in Chromium: the History list follows calls live,
 * call shortcuts need Alt, a tiny model file imported in Settings → Models (and a bad path refused
 * with the gateway's reason), and the first-run banner of a gateway whose whisper engine has no model,
 * downloading the recommended one over HTTP (a loopback file server standing in for the catalogue URL).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildConsole, HAS_CHROMIUM, type BrowserSession } from './helpers/browser';
import { consoleSession, getJson, waitForText } from './helpers/console-app';
import { PhoneSim } from '../test/helpers/phone-sim';
import { startGateway, type TestGateway } from '../test/helpers/gateway';
import { writeWhisperModel } from '../test/helpers/model-writers';
import { startFileServer, type FileServer } from '../test/models/file-server';
import { CATALOGUE } from '../src-main/models/catalogue';

const GREETING = 'Hello, this is the assistant of the owner.';

describe.skipIf(!HAS_CHROMIUM)('operator console, more views (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  const session = consoleSession();
  let gw: TestGateway;
  let page: Page;
  let tmp: string;

  beforeAll(() => {
    ({ gw, page } = session);
    tmp = mkdtempSync(join(tmpdir(), 'cf-more-'));
  });

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('history: a call that starts and ends appears in the open list without a reload', async () => {
    await page.goto(`${gw.url}/#/history`);
    await page.getByRole('heading', { name: 'No calls yet' }).waitFor();
    const phone = new PhoneSim(gw.url, gw.bearer, '+4930555000111', 'incoming');
    await phone.greeting(GREETING);
    const rows = page.getByRole('table', { name: 'Calls' }).locator('tbody tr');
    await rows.first().waitFor({ timeout: 10_000 });
    expect(await rows.count()).toBe(1);
    await waitForText(rows.first(), 'active');
    const end = await fetch(`${gw.url}/api/session/end`, { method: 'POST', headers: { authorization: `Bearer ${gw.bearer}`, 'content-type': 'application/json' }, body: JSON.stringify({ session_id: phone.sessionId }) });
    expect(((await end.json()) as { ok: boolean }).ok).toBe(true);
    // the ended call's outcome replaces "active" in the same list (no navigation, no reload)
    await rows.first().filter({ hasNotText: 'active' }).waitFor({ timeout: 10_000 });
    const second = new PhoneSim(gw.url, gw.bearer, '+4930555000222', 'incoming');
    await second.greeting(GREETING);
    await rows.nth(1).waitFor({ timeout: 10_000 });
    expect(await rows.count()).toBe(2);
    const api = await getJson(`${gw.url}/api/calls`);
    expect(api.calls).toHaveLength(2);
  });

  it('call view: shortcuts are Alt+T / Alt+D / Alt+H, and a bare D takes nothing', async () => {
    const phone = new PhoneSim(gw.url, gw.bearer, '+4930555000333', 'incoming');
    await phone.greeting(GREETING);
    await page.goto(`${gw.url}/#/calls/${phone.sessionId}`);
    const draft = page.getByRole('button', { name: /^Draft mode/ });
    await draft.waitFor();
    expect(await draft.getAttribute('aria-keyshortcuts')).toBe('Alt+D');
    expect(await draft.getAttribute('title')).toContain('Alt+D');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('d');
    await new Promise((r) => setTimeout(r, 400));
    const holderOf = async () => (await getJson(`${gw.url}/api/status`)).calls.find((c: { session_id: string }) => c.session_id === phone.sessionId)?.holder;
    expect(await holderOf()).toBeNull();
    await page.keyboard.press('Alt+d');
    await waitForText(page.locator('.page-header'), /Draft/);
    expect((await holderOf())?.mode).toBe('draft');
    await page.keyboard.press('Alt+h');
    await waitForText(page.locator('.page-header'), /Assistant/);
    expect(await holderOf()).toBeNull();
  });

  it('settings → models: imports a tiny whisper file by path; a bad path is refused with the reason', async () => {
    const file = join(tmp, 'ggml-tiny-test.bin');
    const size = await writeWhisperModel(file);
    await page.goto(`${gw.url}/#/settings/models`);
    const form = page.getByRole('form', { name: 'Import a model file by path' });
    const pathBox = form.getByRole('textbox', { name: /Path of the model file/ });
    // a file that does not exist: the gateway's reason is shown, nothing imported
    await pathBox.fill(join(tmp, 'nope.bin'));
    await form.getByRole('button', { name: 'Import' }).click();
    const err = page.getByRole('alert').filter({ hasText: 'The model was not imported' });
    await err.waitFor();
    expect((await err.textContent())?.length ?? 0).toBeGreaterThan('The model was not imported'.length + 3);
    expect((await getJson(`${gw.url}/api/models`)).imported).toEqual([]);
    // the real file
    await pathBox.fill(file);
    await form.getByRole('button', { name: 'Import' }).click();
    await waitForText(page.getByRole('status'), /Imported .*ggml-tiny-test/);
    const list = page.getByRole('list', { name: 'Imported models' });
    await waitForText(list, 'ggml-tiny-test');
    const models = await getJson(`${gw.url}/api/models`);
    expect(models.imported).toHaveLength(1);
    expect(models.imported[0]).toMatchObject({ kind: 'whisper', bytes: size });
    expect(await pathBox.inputValue()).toBe('');
  });
});

describe.skipIf(!HAS_CHROMIUM)('first run: an engine without a model (needs /usr/bin/chromium)', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let browser: BrowserSession;
  let server: FileServer;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cf-firstrun-'));
    server = await startFileServer();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  // the real engine set (not the instant test engines): whisper finds no model in the empty models folder
  const session = consoleSession({
    gateway: async () => startGateway({ app: { consoleDir: await buildConsole(), engines: undefined }, config: { asr_engine: 'whisper', llm_engine: 'openai', llm_base_url: 'http://127.0.0.1:9/v1', tts_engine: 'espeak' } }),
  });
  beforeAll(() => ({ gw, browser } = session));

  it('shows what is missing, downloads the recommended model with progress, and goes away', async () => {
    const h = (await getJson(`${gw.url}/api/status`)).engines.health;
    if (h.asr.model !== null) return expect.fail(`whisper engine expected without a model, got ${JSON.stringify(h.asr)}`);
    const models = await getJson(`${gw.url}/api/models`);
    const id: string = models.recommendations.whisper;
    expect(id).toBeTruthy();
    // the catalogue entry points at a loopback server serving a tiny real whisper file, slowly
    const file = join(tmp, 'tiny.bin');
    await writeWhisperModel(file);
    const body = readFileSync(file);
    server.files.set('tiny.bin', { body, sha256: createHash('sha256').update(body).digest('hex'), chunk: 256 * 1024, pauseMs: 120 });
    const entry = CATALOGUE.find((e) => e.id === id)!;
    entry.files = [{ name: entry.files[0].name, url: server.url('tiny.bin'), bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') }];

    const page = browser.page;
    await page.goto(`${gw.url}/#/calls`);
    const banner = page.getByRole('region', { name: /Models needed/ });
    await banner.waitFor();
    await waitForText(banner, 'speech recognition');
    await banner.getByRole('link', { name: 'Settings → Models' }).first().waitFor();
    expect(await banner.getByRole('link', { name: 'Settings → Models' }).first().getAttribute('href')).toBe('#/settings/models');
    await banner.getByRole('button', { name: /^Download / }).click();
    await banner.getByRole('progressbar').waitFor({ timeout: 10_000 });
    // done: the engine has its model, the banner disappears by itself
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    const after = (await getJson(`${gw.url}/api/status`)).engines.health.asr;
    // the engine now finds the model (its health may still carry the error of the earlier failed load
    // until it loads the file: a gateway-side matter, not the console's)
    expect(after.model, JSON.stringify(after)).toBe(id);
    expect((await getJson(`${gw.url}/api/models`)).models.find((m: { id: string }) => m.id === id)).toMatchObject({ installed: true, verified: 'sha256' });
    expect(server.requests.some((r) => r.name === 'tiny.bin')).toBe(true);
  });
});
