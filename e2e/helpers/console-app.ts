/** A real gateway (instant engines) serving the built console, plus page helpers for the e2e tests. */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startGateway, type TestGateway } from '../../test/helpers/gateway';
import { buildConsole, launchBrowser, type BrowserSession, type LaunchOptions } from './browser';

export async function startConsoleGateway(opts: { config?: Record<string, unknown> } = {}): Promise<TestGateway> {
  const consoleDir = await buildConsole();
  return startGateway({ app: { consoleDir }, config: opts.config });
}

export interface ConsoleSession {
  gw: TestGateway;
  browser: BrowserSession;
  page: Page;
}

/**
 * The set-up the console e2e files share, as hooks of the describe block it is called in: before the
 * tests a gateway serving the built console and a Chromium page, after them both closed (the page's
 * console output printed with E2E_DEBUG=1). The fields are filled in when the block's tests start.
 * Hooks the block registers before this call run before it (e.g. preparing a fake microphone, whose
 * path `browser()` can then use); `afterAll` hooks run in reverse, so the file's own clean-up comes last.
 */
export function consoleSession(
  opts: { config?: Record<string, unknown>; browser?: () => LaunchOptions; /** another gateway serving the console */ gateway?: () => Promise<TestGateway> } = {},
): ConsoleSession {
  const s = {} as ConsoleSession;
  beforeAll(async () => {
    s.gw = await (opts.gateway?.() ?? startConsoleGateway({ config: opts.config }));
    s.browser = await launchBrowser(opts.browser?.());
    s.page = s.browser.page;
  }, 120_000);
  afterAll(async () => {
    if (s.browser && process.env.E2E_DEBUG) console.log(s.browser.logs.join('\n'));
    await s.browser?.close();
    await s.gw?.close();
  });
  return s;
}

/** Wait until the locator's text contains `text` (substring) or matches the regex. */
export async function waitForText(locator: Locator, text: string | RegExp, timeout = 20_000): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout });
}

/** The card of a live call on the Live calls view. */
export function callCard(page: Page, sid: string): Locator {
  return page.locator(`article.call-card[data-session="${sid}"]`);
}

/** Transcript lines of the open call view, as {kind, who, text}. */
export async function transcriptLines(page: Page): Promise<{ kind: string; who: string; text: string }[]> {
  const out: { kind: string; who: string; text: string }[] = [];
  for (const line of await page.locator('.transcript .line').all()) {
    out.push({
      kind: (await line.getAttribute('data-kind')) ?? '',
      who: (await line.locator('.line-who').textContent()) ?? '',
      text: (await line.locator('.line-text').textContent()) ?? '',
    });
  }
  return out;
}

/** JSON of a gateway GET (test code reads fields freely). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}
