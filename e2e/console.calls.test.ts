/**
 * The operator console against a real gateway and a simulated phone, in Debian's Chromium: a call
 * appears live, transcript lines carry the right roles, and every operator control changes what the
 * phone actually hears — take over, draft, hand back, say now, steer, hang up, taking a call from an
 * external agent — including a takeover done with the keyboard only.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { HAS_CHROMIUM, screenshot } from './helpers/browser';
import { callCard, consoleSession, getJson, transcriptLines, waitForText } from './helpers/console-app';
import type { EventEnvelope } from '../src-shared/protocol/events';
import { PhoneSim, utterance } from '../test/helpers/phone-sim';
import type { TestGateway } from '../test/helpers/gateway';

const GREETING = 'Hello, this is the assistant of the owner.';

describe.skipIf(!HAS_CHROMIUM)('operator console: live calls and takeover (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  const session = consoleSession();
  let gw: TestGateway;
  let page: Page;
  let phone: PhoneSim;
  let sid = '';
  let seed = 1;
  const busEvents: EventEnvelope[] = [];
  const speak = () => phone.say(utterance(1.2, 24000, seed++));

  beforeAll(() => {
    ({ gw, page } = session);
    phone = new PhoneSim(gw.url, gw.bearer, '+4917012345678');
    gw.app.ctx.bus.subscribe((e) => busEvents.push(e));
  });

  it('shows an empty state that says what to do next', async () => {
    await page.goto(`${gw.url}/`);
    await waitForText(page.locator('.empty'), 'No calls right now');
    expect(await page.getByRole('link', { name: /Start a mock call/ }).isVisible()).toBe(true);
    expect(await page.getByRole('link', { name: /Connect a phone/ }).isVisible()).toBe(true);
    await waitForText(page.locator('.statusbar'), 'connected');
    await screenshot(page, 'live-calls-empty');
  });

  it('shows a new call live, with the number masked until revealed', async () => {
    const g = await phone.greeting(GREETING);
    expect(g.reply).toBe(GREETING);
    sid = phone.sessionId;
    const card = callCard(page, sid);
    await card.waitFor();
    await waitForText(card, 'Incoming');
    await waitForText(card, 'Assistant');
    const masked = await card.locator('.number').textContent();
    expect(masked).not.toContain('12345678');
    expect(masked).toMatch(/^\+49•+78$/);
    await card.getByRole('button', { name: 'Reveal caller number' }).click();
    await waitForText(card.locator('.number'), '+4917012345678');
    await card.getByRole('button', { name: 'Hide caller number' }).click();
    await waitForText(card.locator('.number'), /•/);
    const r = await speak();
    expect(r.reply).toMatch(/^You said: caller utterance number \d+/);
    await waitForText(card, /Turns\s*2/);
    await screenshot(page, 'live-calls');
  });

  it('shows the transcript with who produced each line and the per-turn latency', async () => {
    await card(page).getByRole('link', { name: 'Open' }).click();
    await page.locator('.transcript .line').nth(2).waitFor();
    const lines = await transcriptLines(page);
    expect(lines.map((l) => l.kind)).toEqual(['forced', 'caller', 'assistant']);
    expect(lines[0].text).toBe(GREETING);
    expect(lines[1].text).toMatch(/^caller utterance number \d+$/);
    expect(lines[2].who).toBe('Assistant · instant-llm');
    expect(lines[2].text).toMatch(/^You said: caller utterance number \d+\. Anything else\?$/);
    const latency = page.locator('.line-assistant .latency').first();
    expect(await latency.getAttribute('aria-label')).toMatch(/ASR \d+ ms · LLM \d+ ms .*TTS \d+ ms · first audio \d+ ms · total \d+ ms/);
    function card(p: Page) {
      return callCard(p, sid);
    }
  });

  it('takes over: the caller waits with a visible deadline, and hears exactly what the operator types', async () => {
    await page.getByRole('button', { name: /^Take over/ }).click();
    const box = page.getByRole('textbox', { name: 'Type what the caller hears' });
    await box.waitFor();
    await waitForText(page.locator('.page-header'), 'Taken over by operator Operator');
    const heard = speak();
    await page.getByRole('progressbar', { name: 'Time left to answer' }).waitFor();
    await waitForText(page.locator('.awaiting'), /caller utterance number \d+/);
    await waitForText(page.locator('.deadline-text'), /\d+ s left to answer/);
    await screenshot(page, 'call-takeover-waiting');
    await box.fill('Let me check the calendar for you.');
    // typing is announced to the gateway (it plays the holding phrase instead of the model if time runs out)
    await expect.poll(() => busEvents.some((e) => e.type === 'operator.typing' && e.session_id === sid && e.data.typing === true), { timeout: 10_000 }).toBe(true);
    await waitForText(page.locator('.pending'), 'Operator is typing');
    await box.press('Enter');
    const r = await heard;
    expect(r.reply).toBe('Let me check the calendar for you.');
    expect(r.audio).not.toBeNull();
    await waitForText(page.locator('.line-operator'), 'Let me check the calendar for you.');
    const lines = await transcriptLines(page);
    expect(lines.at(-1)).toMatchObject({ kind: 'operator', who: 'Operator · Operator', text: 'Let me check the calendar for you.' });
    expect(gw.engines.llmCalls.length).toBe(1); // the local model did not answer this turn
    expect(await page.locator('.pending').count()).toBe(0);
  });

  it('keeps asking for more time while the reply box holds text, without keystrokes, and stops when it is emptied', async () => {
    const heard = speak();
    await page.locator('.awaiting').waitFor();
    const box = page.getByRole('textbox', { name: 'Type what the caller hears' });
    // what the console tells the gateway (a renewal changes no state, so the bus stays quiet about it)
    const signals: boolean[] = [];
    const onRequest = (r: { url(): string; method(): string; postData(): string | null }) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/operator/typing')) signals.push((JSON.parse(r.postData() ?? '{}') as { typing: boolean }).typing);
    };
    page.on('request', onRequest);
    try {
      await box.fill('Let me see');
      await expect.poll(() => signals.filter((on) => on).length, { timeout: 10_000 }).toBe(1);
      // no keystroke for longer than the renewal interval (Composer TYPING_REFRESH_MS, 3 s): the console renews it
      await expect.poll(() => signals.filter((on) => on).length, { timeout: 8_000 }).toBeGreaterThanOrEqual(2);
      expect(signals).not.toContain(false);
      const from = busEvents.length;
      await box.fill('');
      await expect.poll(() => signals.at(-1), { timeout: 10_000 }).toBe(false);
      await expect.poll(() => busEvents.slice(from).some((e) => e.type === 'operator.typing' && e.session_id === sid && e.data.typing === false), { timeout: 10_000 }).toBe(true);
      const count = signals.length;
      await page.waitForTimeout(3_500);
      expect(signals.length).toBe(count); // an empty box asks for nothing
    } finally {
      page.off('request', onRequest);
    }
    await box.fill('Here it is.');
    await box.press('Enter');
    expect((await heard).reply).toBe('Here it is.');
  });

  it('sends quick phrases with one click', async () => {
    const heard = speak();
    await page.locator('.awaiting').waitFor();
    await page.getByRole('group', { name: 'Quick phrases' }).getByRole('button', { name: 'One moment, please.' }).click();
    expect((await heard).reply).toBe('One moment, please.');
  });

  it('tells the operator on any other page that a caller is waiting for them', async () => {
    await page.goto(`${gw.url}/#/history`);
    const heard = speak();
    const banner = page.getByRole('alert').filter({ hasText: 'A caller is waiting for your reply' });
    await banner.waitFor();
    await banner.getByRole('link', { name: 'Answer now' }).click();
    const box = page.getByRole('textbox', { name: 'Type what the caller hears' });
    await box.fill('Back with you.');
    await box.press('Enter');
    expect((await heard).reply).toBe('Back with you.');
    expect(await page.getByRole('alert').filter({ hasText: 'A caller is waiting' }).count()).toBe(0);
  });

  it('draft mode: the assistant proposes, the operator approves with Enter', async () => {
    await page.getByRole('button', { name: /Switch to draft/ }).click();
    const box = page.getByRole('textbox', { name: /edit the draft or approve it/ });
    await box.waitFor();
    const heard = speak();
    await expect.poll(() => box.inputValue(), { timeout: 15_000 }).toMatch(/^You said: caller utterance number \d+/);
    const draft = await box.inputValue();
    await screenshot(page, 'call-draft');
    await box.press('Enter');
    expect((await heard).reply).toBe(draft);
  });

  it('hands back: the next reply comes from the assistant again', async () => {
    await page.getByRole('button', { name: /^Hand back/ }).click();
    await waitForText(page.locator('.page-header'), 'Assistant');
    const r = await speak();
    expect(r.reply).toMatch(/^You said: caller utterance number \d+\. Anything else\?$/);
    await waitForText(page.locator('.lines'), 'Handed back to the assistant');
  });

  it('say now: the caller hears the sentence at their next turn', async () => {
    const panel = page.getByRole('form', { name: 'Say now' });
    await panel.getByRole('textbox', { name: 'Text to speak' }).fill('Your parcel arrives tomorrow.');
    await panel.getByRole('button', { name: 'Say now' }).click();
    await waitForText(panel, 'Queued');
    const r = await speak();
    expect(r.reply).toBe('Your parcel arrives tomorrow.');
    await waitForText(page.locator('.line-operator'), 'Your parcel arrives tomorrow.');
    expect((await transcriptLines(page)).at(-1)).toMatchObject({ kind: 'operator', who: 'Operator · Operator (queued)', text: 'Your parcel arrives tomorrow.' });
  });

  it('steer: a one-shot instruction reaches the model for the next reply only', async () => {
    const panel = page.getByRole('form', { name: 'Steer the assistant' });
    await panel.getByRole('textbox', { name: 'Instruction or knowledge' }).fill('Mention that the office opens at nine.');
    await panel.getByRole('combobox', { name: 'Applies to' }).selectOption('turn');
    await panel.getByRole('button', { name: 'Steer' }).click();
    await waitForText(panel, 'Applied to the next reply only');
    const before = gw.engines.llmCalls.length;
    await speak();
    const call = gw.engines.llmCalls[before];
    expect(JSON.stringify(call.messages)).toContain('Mention that the office opens at nine.');
    await speak();
    expect(JSON.stringify(gw.engines.llmCalls[before + 1].messages)).not.toContain('office opens at nine');
  });

  it('shows a takeover by an external agent, and the operator can take the call from it', async () => {
    const agent = new WebSocket(`${gw.url.replace('http', 'ws')}/api/agent/ws?name=helper-bot`);
    const frames: Record<string, unknown>[] = [];
    agent.on('message', (raw) => frames.push(JSON.parse(raw.toString())));
    await new Promise((res, rej) => {
      agent.once('open', res);
      agent.once('error', rej);
    });
    try {
      agent.send(JSON.stringify({ type: 'takeover', session_id: sid }));
      await waitForText(page.locator('.page-header'), 'Taken over by agent helper-bot');
      const takeBack = page.getByRole('button', { name: /Take over from agent helper-bot/ });
      await takeBack.waitFor();
      await screenshot(page, 'call-agent-holds');
      await takeBack.click();
      await waitForText(page.locator('.page-header'), 'Taken over by operator Operator');
      await expect.poll(() => frames.some((f) => f.type === 'takeover.lost'), { timeout: 10_000 }).toBe(true);
      await page.getByRole('button', { name: /^Hand back/ }).click();
      await waitForText(page.locator('.page-header'), /Assistant/);
    } finally {
      agent.close();
    }
  });

  it('hangs up after a confirmation; the phone is told to hang up', async () => {
    await page.getByRole('button', { name: 'Hang up' }).click();
    await page.getByRole('button', { name: 'Yes, hang up' }).click();
    await waitForText(page.locator('.page-header'), 'Ended');
    const r = await speak();
    expect(r.disconnect).toBe(true);
    expect(r.json.hangup).toBe(true);
  });

  it('takes over a call with the keyboard only', async () => {
    const second = new PhoneSim(gw.url, gw.bearer, '+4930123456', 'incoming');
    await second.greeting(GREETING);
    await page.goto(`${gw.url}/#/calls`);
    await callCard(page, second.sessionId).waitFor();
    // Tab through the page until the call's Open link has the focus, then Enter
    const open = callCard(page, second.sessionId).getByRole('link', { name: 'Open' });
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await open.evaluate((a) => a === a.ownerDocument.activeElement);
    }
    expect(found).toBe(true);
    await page.keyboard.press('Enter');
    const takeBtn = page.getByRole('button', { name: /^Take over/ });
    await takeBtn.waitFor();
    expect(await takeBtn.getAttribute('aria-keyshortcuts')).toBe('Alt+T');
    // a bare T is no shortcut (WCAG 2.1.4): the call stays with the assistant
    await page.keyboard.press('t');
    await new Promise((r) => setTimeout(r, 400));
    expect((await getJson(`${gw.url}/api/status`)).calls.find((c: { session_id: string }) => c.session_id === second.sessionId).holder).toBeNull();
    await page.keyboard.press('Alt+t');
    const box = page.getByRole('textbox', { name: 'Type what the caller hears' });
    await box.waitFor();
    await page.locator('.composer textarea:focus').waitFor();
    const heard = second.say(utterance(1, 24000, 42));
    await page.locator('.awaiting').waitFor();
    await page.keyboard.type('Typed without a mouse.');
    await page.keyboard.press('Enter');
    expect((await heard).reply).toBe('Typed without a mouse.');
    await waitForText(page.locator('.composer-status'), 'Sent');
    // Alt+H hands back even from the text box
    await page.keyboard.press('Alt+h');
    await waitForText(page.locator('.page-header'), /Assistant/);
    const r = await second.say(utterance(1, 24000, 43));
    expect(r.reply).toMatch(/^You said: /);
  });
});
