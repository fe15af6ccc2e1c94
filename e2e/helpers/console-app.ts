/** A real gateway (instant engines) serving the built console, plus page helpers for the e2e tests. */
import type { Locator, Page } from 'playwright-core';
import { startGateway, type TestGateway } from '../../test/helpers/gateway';
import { buildConsole } from './browser';

export async function startConsoleGateway(opts: { config?: Record<string, unknown> } = {}): Promise<TestGateway> {
  const consoleDir = await buildConsole();
  return startGateway({ app: { consoleDir }, config: opts.config });
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
