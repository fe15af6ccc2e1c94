/**
 * The Devices view against the real phone bridge talking to a fake adb server: a phone that is not
 * set up shows its failing health checks with explanations and fix buttons; a fix runs on the
 * "phone" and the check turns OK; the status bar follows. Dialling from the console on a chosen phone
 * with a greeting and instructions for that call: the outgoing call speaks that greeting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HAS_CHROMIUM, buildConsole, launchBrowser, screenshot, type BrowserSession } from './helpers/browser';
import { waitForText } from './helpers/console-app';
import { FakeAdbServer } from '../test/helpers/fake-adb-server';
import { PhoneSim, utterance } from '../test/helpers/phone-sim';
import { startGateway, type TestGateway } from '../test/helpers/gateway';

describe.skipIf(!HAS_CHROMIUM)('operator console: devices (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  let adb: FakeAdbServer;
  let gw: TestGateway;
  let browser: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    adb = await FakeAdbServer.start();
    adb.plug({ serial: 'FAKE0001', model: 'Pixel 7', androidVersion: '14', sdk: 34 });
    // no `phone` stand-in: the app builds its real ADB bridge, pointed at the fake adb server
    gw = await startGateway({ app: { consoleDir: await buildConsole(), phone: undefined }, config: { adb_host: '127.0.0.1', adb_port: adb.port, adb_start_server: false } });
    browser = await launchBrowser();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await adb?.close();
  });

  it('lists the phone and explains what is missing, with a fix button per problem', async () => {
    await page.goto(`${gw.url}/#/devices`);
    const card = page.locator('.device-card').filter({ hasText: 'FAKE0001' });
    await card.waitFor();
    await waitForText(card, 'Pixel 7');
    await card.getByRole('link', { name: 'Details and setup' }).click();
    await waitForText(page.locator('h1'), 'Phone FAKE0001');
    await page.locator('section[aria-labelledby="checks-title"] .check').first().waitFor();
    const problems = page.locator('section[aria-labelledby="checks-title"] .check:not(.check-ok)');
    expect(await problems.count()).toBeGreaterThan(0);
    await screenshot(page, 'devices-detail');
    // a fix runs on the phone and its check turns OK
    const wizard = page.locator('section[aria-labelledby="setup-title"]');
    const ota = wizard.locator('.check').filter({ hasText: 'Automatic system updates' });
    await ota.getByRole('button', { name: 'Disable system updates' }).click();
    await expect.poll(async () => ((await (await fetch(`${gw.url}/api/devices/FAKE0001`)).json()) as { checks: { id: string; status: string }[] }).checks.find((c) => c.id === 'ota')?.status, { timeout: 15_000 }).toBe('ok');
    await ota.waitFor({ state: 'detached' });
    // installing the app asks for the APK
    expect(await wizard.getByLabel('Path of the Clawfinger APK').isVisible()).toBe(true);
    await waitForText(page.locator('.statusbar'), /Phone\s*(connected|needs setup)/);
  });

  it('dial: picks the phone, and the call speaks the greeting and follows the instructions given for it', async () => {
    const dev = adb.plug({ serial: 'READY02', model: 'Pixel 8', androidVersion: '15', sdk: 35, setUp: true });
    await page.goto(`${gw.url}/#/dial`);
    const phoneSelect = page.getByRole('combobox', { name: 'Phone' });
    await expect.poll(async () => phoneSelect.locator('option').allTextContents(), { timeout: 15_000 }).toContain('Pixel 8 (READY02)');
    await phoneSelect.selectOption('READY02');
    await page.getByRole('textbox', { name: 'Number' }).fill('+49 30 5550 1234');
    await page.getByRole('textbox', { name: 'Greeting for this call (optional)' }).fill('Hello, this is the assistant of Ada, calling about your order.');
    await page.getByRole('textbox', { name: 'Instructions for this call (optional)' }).fill('Ask when order 77 can be picked up.');
    await page.getByRole('button', { name: 'Call' }).click();
    await waitForText(page.locator('.notice'), 'Calling +493055501234 (on READY02, with your greeting, with your instructions)');
    await screenshot(page, 'dial-placed');
    expect(dev.broadcasts.at(-1)).toMatchObject({ type: 'dial', payload: { number: '+493055501234' } });

    // the phone connects the call and sends its configured greeting: the caller hears the override
    const phone = new PhoneSim(gw.url, gw.bearer, '+493055501234', 'outgoing');
    expect((await phone.greeting('Hello, this is the assistant.')).reply).toBe('Hello, this is the assistant of Ada, calling about your order.');
    await phone.say(utterance(1));
    const sys = gw.engines.llmCalls.at(-1)!.messages[0].content;
    expect(sys).toContain('Ask when order 77 can be picked up.');
    expect(gw.app.ctx.calls.get(phone.sessionId)!.device).toBe('READY02');
    // the phone's own call state shows on its card
    await page.goto(`${gw.url}/#/devices`);
    await waitForText(page.locator('.device-card').filter({ hasText: 'READY02' }), /On a call: outgoing, (dialing|connecting|active)/);
  });

  it('a phone unplugged during a call raises a banner (and a desktop notification) on every page; it clears when the phone is back, and can be dismissed', async () => {
    // a stand-in for the desktop notification API, allowed
    await page.addInitScript(() => {
      const w = globalThis as unknown as { __notes: string[][]; Notification: unknown };
      w.__notes = [];
      w.Notification = class {
        static permission = 'granted';
        static requestPermission = async () => 'granted';
        constructor(title: string, opts?: { body?: string }) {
          w.__notes.push([title, opts?.body ?? '']);
        }
      };
    });
    const dev = adb.plug({ serial: 'ALERT03', model: 'Pixel 6', androidVersion: '14', sdk: 34, setUp: true });
    await expect.poll(async () => ((await (await fetch(`${gw.url}/api/devices/ALERT03`)).json()) as { ready?: boolean }).ready, { timeout: 15_000 }).toBe(true);
    dev.incomingCall('+4930123456789');
    await expect.poll(async () => ((await (await fetch(`${gw.url}/api/devices/ALERT03`)).json()) as { call?: { phase: string } }).call?.phase, { timeout: 15_000 }).toBe('active');
    await page.goto(`${gw.url}/#/history`);
    await page.reload();
    const banner = page.locator('.device-alert[data-serial="ALERT03"]');
    expect(await banner.count()).toBe(0);

    adb.unplug('ALERT03');
    await banner.waitFor({ timeout: 15_000 });
    await waitForText(banner, 'lost its USB link during a call');
    expect(await banner.getAttribute('role')).toBe('alert');
    await screenshot(page, 'device-alert-banner');
    await expect.poll(async () => page.evaluate(() => (globalThis as unknown as { __notes: string[][] }).__notes), { timeout: 5_000 }).toContainEqual(['Phone needs attention', expect.stringContaining('lost its USB link during a call')]);
    // it follows the operator to other pages
    await page.locator('nav.sidebar').getByRole('link', { name: 'Dial' }).click();
    await banner.waitFor();

    // plugged back in while the call goes on: the link is restored and the banner goes away
    adb.plug(dev);
    await banner.waitFor({ state: 'detached', timeout: 20_000 });

    // unplugged again: this time the operator dismisses it
    adb.unplug('ALERT03');
    await banner.waitFor({ timeout: 15_000 });
    await banner.getByRole('button', { name: /^Dismiss/ }).click();
    await banner.waitFor({ state: 'detached' });
    const notes = await page.evaluate(() => (globalThis as unknown as { __notes: string[][] }).__notes);
    expect(notes.filter((n) => n[0] === 'Phone needs attention')).toHaveLength(2);
    adb.plug(dev);
  });

  it('device detail: call controls during a call (mute, speaker, reject) and maintenance actions that are always at hand', async () => {
    const ready = adb.devices.get('READY02')!;
    await page.goto(`${gw.url}/#/devices/READY02`);
    const callPanel = page.locator('section[aria-labelledby="call-title"]');
    await waitForText(callPanel, /Outgoing call, active/);
    await callPanel.getByRole('button', { name: 'Mute', exact: true }).click();
    await waitForText(callPanel, 'Mute done');
    expect(ready.broadcasts.at(-1)).toMatchObject({ type: 'mute', payload: { muted: true } });
    await callPanel.getByRole('button', { name: 'Speaker on' }).click();
    await waitForText(callPanel, 'Speaker done');
    expect(ready.broadcasts.at(-1)).toMatchObject({ type: 'speaker', payload: { enabled: true } });
    expect(await callPanel.getByRole('button', { name: 'Reject' }).count()).toBe(0);

    // maintenance: reachable although no check asks for it
    const maint = page.locator('section[aria-labelledby="maintenance-title"]');
    await maint.getByRole('button', { name: 'Send the gateway profile' }).click();
    await waitForText(maint, /pushed to both locations and verified/);
    await maint.getByRole('button', { name: 'Verify the profile' }).click();
    await waitForText(maint, 'Both copies of the profile are present and identical.');
    await maint.getByRole('button', { name: 'Start the app' }).click();
    await waitForText(maint, 'The app is open on the phone');
    expect(await maint.getByRole('button', { name: 'Update the app' }).isVisible()).toBe(true);
    await screenshot(page, 'device-detail-call-and-maintenance');

    // a ringing call can be rejected from here
    const ringer = adb.plug({ serial: 'RING04', model: 'Pixel 8a', setUp: true });
    await expect.poll(async () => ((await (await fetch(`${gw.url}/api/devices/RING04`)).json()) as { ready?: boolean }).ready, { timeout: 15_000 }).toBe(true);
    ringer.incomingCall('+4930222222', null);
    await page.goto(`${gw.url}/#/devices/RING04`);
    const ringPanel = page.locator('section[aria-labelledby="call-title"]');
    await waitForText(ringPanel, /Incoming call, ringing/);
    await ringPanel.getByRole('button', { name: 'Reject' }).click();
    await waitForText(ringPanel, 'No call right now.');
    expect(ringer.call.state).toBe('idle');
    expect(ringer.broadcasts.at(-1)).toMatchObject({ type: 'reject' });
  });
});
