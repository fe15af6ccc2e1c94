/**
 * A reply the caller spoke over (barge-in), in Debian's Chromium: the live transcript and History's
 * call detail show the heard part normally and the rest struck through, with a text label and
 * screen-reader text saying it was not heard (not colour alone).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { HAS_CHROMIUM, screenshot } from './helpers/browser';
import { consoleSession, getJson, waitForText } from './helpers/console-app';
import { PhoneSim, utterance } from '../test/helpers/phone-sim';
import type { TestGateway } from '../test/helpers/gateway';

const LONG = 'We are open from nine until five on weekdays and from ten until two on Saturdays.';
const HEARD = 'We are open from nine';
const UNHEARD = 'until five on weekdays and from ten until two on Saturdays.';

/** The computed text-decoration-line of the element (runs in the page; node's types have no DOM). */
const decoration = (el: unknown): string => {
  const view = (el as { ownerDocument: { defaultView: { getComputedStyle(e: unknown): { textDecorationLine: string } } } }).ownerDocument.defaultView;
  return view.getComputedStyle(el).textDecorationLine;
};

async function expectCut(line: Locator): Promise<void> {
  await waitForText(line.locator('.line-interrupted'), 'Interrupted — the caller heard only this');
  expect(await line.locator('.line-heard').textContent()).toBe(HEARD);
  const unheard = line.locator('del.line-unheard');
  // the struck-through rest, announced as not heard
  expect(await unheard.textContent()).toBe(`(not heard: ${UNHEARD})`);
  expect(await unheard.locator('.sr-only').first().textContent()).toBe('(not heard: ');
  expect(await unheard.evaluate(decoration)).toContain('line-through');
  expect(await line.locator('.line-heard').evaluate(decoration)).toBe('none');
}

describe.skipIf(!HAS_CHROMIUM)('console: a reply cut by barge-in (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  const session = consoleSession();
  let gw: TestGateway;
  let page: Page;
  let phone: PhoneSim;

  beforeAll(() => {
    ({ gw, page } = session);
    phone = new PhoneSim(gw.url, gw.bearer, '+4917012345678');
    gw.engines.reply = () => LONG;
  });

  it('the live transcript strikes through what the caller did not hear, as soon as turn.interrupted arrives', async () => {
    await phone.greeting('Hello, this is the assistant.');
    const sid = phone.sessionId;
    await phone.say(utterance(1.2, 24000, 7));
    await page.goto(`${gw.url}/#/calls/${sid}`);
    const reply = page.locator('.transcript .line[data-kind="assistant"]').last();
    await waitForText(reply.locator('.line-text'), LONG);
    expect(await reply.locator('.line-interrupted').count()).toBe(0);

    // what the app does when a mock call reports a barge-in
    expect(gw.app.ctx.calls.replyInterrupted(sid, { reply: LONG, heard_text: HEARD, played_ms: 1200, total_ms: 4800 })).toBe(true);
    await expectCut(reply);
    await screenshot(page, 'call-barge-in');
  });

  it("History's call detail shows the same cut from the stored turn", async () => {
    const sid = phone.sessionId;
    const list = await getJson(`${gw.url}/api/calls`);
    const id = (list.calls as { id: string; session_id: string }[]).find((c) => c.session_id === sid)!.id;
    await page.goto(`${gw.url}/#/history/${id}`);
    const reply = page.locator('.transcript .line[data-kind="assistant"]').last();
    await expectCut(reply);
    // the greeting, heard in full, is not marked
    expect(await page.locator('.transcript .line[data-kind="forced"] .line-interrupted').count()).toBe(0);
    await screenshot(page, 'history-barge-in');
  });
});
