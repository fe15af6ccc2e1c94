/**
 * The console's other views against a real gateway in Chromium: dial validation and the gateway's
 * refusal shown, settings that round-trip (with per-field errors, secrets never shown back), history
 * search, the devices and mock-call views, a browser mock call through a fake microphone, and the
 * dark theme. Screenshots of each view go to test-results/screenshots/.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HAS_CHROMIUM, screenshot } from './helpers/browser';
import { callCard, consoleSession, getJson, waitForText } from './helpers/console-app';
import { PhoneSim, utterance } from '../test/helpers/phone-sim';
import type { TestGateway } from '../test/helpers/gateway';
import { concatPcm, encodeWav, parseWav, silence } from '../src-shared/audio/wav';
import type { EventEnvelope } from '../src-shared/protocol/events';

const json = getJson;

describe.skipIf(!HAS_CHROMIUM)('operator console views (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  let gw: TestGateway;
  let page: Page;
  let micDir: string;
  const events: EventEnvelope[] = [];

  // the fake microphone, before Chromium starts: an utterance, then silence, looped by Chromium
  beforeAll(() => {
    micDir = mkdtempSync(join(tmpdir(), 'cf-mic-'));
    const speech = parseWav(utterance(1.2, 48000, 3));
    writeFileSync(join(micDir, 'mic.wav'), encodeWav(concatPcm([silence(48000, 600), speech, silence(48000, 2500)])));
  });
  afterAll(() => rmSync(micDir, { recursive: true, force: true }));

  const session = consoleSession({
    browser: () => ({
      extraArgs: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${join(micDir, 'mic.wav')}`, '--autoplay-policy=no-user-gesture-required'],
    }),
  });
  beforeAll(() => {
    ({ gw, page } = session);
    gw.app.ctx.bus.subscribe((e) => events.push(e));
  });

  it('dial: validates the number before sending and shows why the phone did not call', async () => {
    await page.goto(`${gw.url}/#/dial`);
    const number = page.getByRole('textbox', { name: 'Number' });
    await number.fill('call mom');
    await page.getByRole('button', { name: 'Call' }).click();
    await waitForText(page.locator('.field-invalid'), 'Use digits, an optional leading +, * and # only.');
    expect(await number.getAttribute('aria-invalid')).toBe('true');
    expect(events.some((e) => e.type === 'call.dial')).toBe(false);
    await number.fill('+49 170 555-0100');
    await page.getByRole('button', { name: 'Call' }).click();
    const notice = page.getByRole('alert').filter({ hasText: 'The call was not placed' });
    await notice.waitFor();
    await waitForText(notice, 'phone bridge not available');
    await screenshot(page, 'dial');
  });

  it('settings: language model values round-trip, invalid values are shown next to their field', async () => {
    await page.goto(`${gw.url}/#/settings/llm`);
    const form = page.getByRole('form', { name: 'Language model' });
    const maxTokens = form.getByRole('spinbutton', { name: 'Max reply tokens' });
    await maxTokens.fill('123');
    await form.getByRole('textbox', { name: 'Stop sequences' }).fill('Caller:, Agent:\n\\n\\n');
    await form.getByLabel('API key').fill('sk-test-secret');
    await form.getByRole('button', { name: 'Apply' }).click();
    await waitForText(form, 'Saved — applied now.');
    const saved = await json(`${gw.url}/api/config/llm`);
    expect(saved.max_tokens).toBe(123);
    expect(saved.stop).toEqual(['Caller:, Agent:', '\n\n']);
    expect(saved.has_api_key).toBe(true);
    expect(await form.getByLabel('API key').inputValue()).toBe('');
    expect(JSON.stringify(await json(`${gw.url}/api/status`))).not.toContain('sk-test-secret');

    await maxTokens.fill('0');
    await form.getByRole('button', { name: 'Apply' }).click();
    const field = form.locator('.field').filter({ has: page.getByRole('spinbutton', { name: 'Max reply tokens' }) });
    await field.locator('.field-error').waitFor();
    expect(await field.locator('.field-error').textContent()).toMatch(/>=\s*1|at least|too small/i);
    expect(await maxTokens.getAttribute('aria-invalid')).toBe('true');
    await waitForText(form, 'Some values are not valid');
    expect((await json(`${gw.url}/api/config/llm`)).max_tokens).toBe(123);
    await screenshot(page, 'settings-llm-error');

    await page.reload();
    await page.getByRole('form', { name: 'Language model' }).waitFor();
    expect(await page.getByRole('spinbutton', { name: 'Max reply tokens' }).inputValue()).toBe('123');
  });

  it('settings: call policy and security — the passphrase is never shown and only sent when typed', async () => {
    await page.goto(`${gw.url}/#/settings/call`);
    const policy = page.getByRole('form', { name: 'Call policy' });
    await policy.getByRole('textbox', { name: 'Owner name' }).fill('Alex');
    await policy.getByRole('textbox', { name: 'Blocked callers' }).fill('+4915100000001\n+4915100000002');
    await policy.getByRole('button', { name: 'Apply' }).click();
    await waitForText(policy, 'Saved');
    const call = await json(`${gw.url}/api/config/call`);
    expect(call.greeting_owner).toBe('Alex');
    expect(call.caller_blocklist).toEqual(['+4915100000001', '+4915100000002']);
    await screenshot(page, 'settings-call-policy');

    await page.goto(`${gw.url}/#/settings/security`);
    const sec = page.getByRole('form', { name: 'Security' });
    await sec.getByLabel('Voice passphrase').fill('blue harbour');
    await sec.getByRole('button', { name: 'Apply' }).click();
    await waitForText(sec, 'Callers must say the passphrase');
    expect((await json(`${gw.url}/api/config/call`)).auth_required).toBe(true);
    expect(await sec.getByLabel('New voice passphrase').inputValue()).toBe('');
    // applying another field keeps the passphrase (upstream cleared it)
    await sec.getByRole('spinbutton', { name: 'Attempts before hanging up' }).fill('5');
    await sec.getByRole('button', { name: 'Apply' }).click();
    await waitForText(sec, 'Saved');
    const after = await json(`${gw.url}/api/config/call`);
    expect(after.auth_max_attempts).toBe(5);
    expect(after.auth_required).toBe(true);
    expect(await page.content()).not.toContain('blue harbour');
    await screenshot(page, 'settings-security');
    await sec.getByRole('button', { name: 'Remove passphrase' }).click();
    await waitForText(page.getByRole('form', { name: 'Security' }), 'No passphrase is set');
    expect((await json(`${gw.url}/api/config/call`)).auth_required).toBe(false);
  });

  it('settings: engines and network are editable, validated next to the field, and say when a restart is needed', async () => {
    await page.goto(`${gw.url}/#/settings/engines`);
    const form = page.getByRole('form', { name: 'Engine settings' });
    await form.getByRole('spinbutton', { name: 'Whisper threads (0 = the free cores)' }).fill('3');
    await form.getByRole('spinbutton', { name: 'Rate (words per minute)' }).fill('190');
    const folder = form.getByRole('textbox', { name: 'Models folder' });
    await folder.fill('relative/models');
    await form.getByRole('button', { name: 'Apply' }).click();
    const folderField = form.locator('.field').filter({ has: page.getByRole('textbox', { name: 'Models folder' }) });
    await waitForText(folderField.locator('.field-error'), 'a full folder path');
    expect(await folder.getAttribute('aria-invalid')).toBe('true');
    expect((await json(`${gw.url}/api/config/engines`)).whisper_threads).toBe(0); // nothing applied
    await folder.fill('');
    await form.getByRole('button', { name: 'Apply' }).click();
    await waitForText(form, 'Saved — applied now.');
    expect(await json(`${gw.url}/api/config/engines`)).toMatchObject({ whisper_threads: 3, espeak_rate: 190, models_dir: '' });
    // choosing a server shows its address field, checked like every other
    await form.getByRole('combobox', { name: 'Engine' }).selectOption('openai');
    await form.getByRole('textbox', { name: 'ASR server URL' }).fill('ftp://asr.local');
    await form.getByRole('button', { name: 'Apply' }).click();
    await waitForText(form.locator('.field').filter({ has: page.getByRole('textbox', { name: 'ASR server URL' }) }).locator('.field-error'), 'http://');
    expect((await json(`${gw.url}/api/config/engines`)).asr_engine).toBe('auto');
    // the draft keeps what was saved before (not the values loaded before that save)
    expect(await form.getByRole('spinbutton', { name: 'Rate (words per minute)' }).inputValue()).toBe('190');
    await screenshot(page, 'settings-engines');
    await page.reload();

    await page.goto(`${gw.url}/#/settings/network`);
    const net = page.getByRole('form', { name: 'Gateway address' });
    const port = net.getByRole('spinbutton', { name: 'Port' });
    await port.fill('70000');
    await net.getByRole('button', { name: 'Apply' }).click();
    await waitForText(net.locator('.field-error'), '1 to 65535');
    await port.fill('9123');
    await net.getByRole('button', { name: 'Apply' }).click();
    await waitForText(net, 'Restart to apply the new address');
    await waitForText(net, 'Saved — some changes apply after a restart.');
    expect(await json(`${gw.url}/api/config/network`)).toMatchObject({ port: 9123, restart_required: true });
    await screenshot(page, 'settings-network');
    gw.app.ctx.config.update({ port: 0 }); // back to what this gateway was started with
  });

  it('settings: voice preview plays, instructions save, models list their disk use', async () => {
    await page.goto(`${gw.url}/#/settings/tts`);
    const voice = page.getByRole('form', { name: 'Voice' });
    await voice.getByRole('button', { name: 'Preview voice' }).click();
    await waitForText(voice, 'Playing the preview.');
    await screenshot(page, 'settings-voice');

    await page.goto(`${gw.url}/#/settings/instructions`);
    const every = page.getByRole('form', { name: 'Instructions for every call' });
    await every.getByRole('textbox', { name: 'Instructions for the assistant' }).fill('Always answer in one sentence.');
    await every.getByRole('button', { name: 'Save' }).click();
    await waitForText(every, 'Saved');
    expect((await json(`${gw.url}/api/instructions`)).base).toBe('Always answer in one sentence.');

    await page.goto(`${gw.url}/#/settings/models`);
    await waitForText(page.locator('.settings-body'), 'Models folder');
    await page.locator('.model').first().waitFor();
    await screenshot(page, 'settings-models');
  });

  it('history: searching words of a call finds it (skips while this gateway has no history API)', async ({ skip }) => {
    const probe = await fetch(`${gw.url}/api/calls`);
    skip(probe.status === 404, 'the call-history capability is not wired into this gateway');
    const phone = new PhoneSim(gw.url, gw.bearer, '+4917099988877');
    gw.engines.transcripts.push('I would like to book a haircut for Friday');
    await phone.greeting('Hello.');
    await phone.say(utterance(1, 24000, 7));
    await page.goto(`${gw.url}/#/history`);
    await page.getByRole('searchbox', { name: 'Search words or number' }).fill('haircut');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator('table tbody tr').filter({ hasText: 'haircut' });
    await row.waitFor();
    await screenshot(page, 'history');
    await row.getByRole('link').click();
    await waitForText(page.locator('.transcript'), 'I would like to book a haircut for Friday');
    await page.getByRole('link', { name: /Export JSON/ }).waitFor();
    await screenshot(page, 'history-detail');
  });

  it('devices: without a phone bridge the view says so instead of failing', async () => {
    await page.goto(`${gw.url}/#/devices`);
    const status = await fetch(`${gw.url}/api/devices`);
    if (status.status === 404) await waitForText(page.locator('.page'), 'The phone bridge is not available');
    else await waitForText(page.locator('.page'), /No phone connected|Ready|Needs setup/);
    await screenshot(page, 'devices');
  });

  it('browser mock call: the microphone talks to the gateway like the phone, the reply shows up, and it is a mock call in history', async () => {
    await page.goto(`${gw.url}/#/mock`);
    await page.getByRole('button', { name: 'Start browser mock call' }).click();
    const mini = page.getByRole('list', { name: 'This mock call' });
    await waitForText(mini, /Assistant:.*assistant/i, 20_000);
    await waitForText(mini, /You:\s*caller utterance number \d+/, 30_000);
    await waitForText(mini, /Assistant:\s*You said: caller utterance number \d+/, 30_000);
    await screenshot(page, 'mock-call');
    const started = events.find((e) => e.type === 'session.started' && e.data.direction === 'mock');
    expect(started).toBeTruthy();
    expect(events.some((e) => e.type === 'session.started' && e.session_id === started!.session_id && e.data.direction !== 'mock')).toBe(false);
    await page.getByRole('button', { name: 'Hang up' }).click();
    await waitForText(page.locator('.page'), 'Call ended.');
    await expect.poll(() => events.some((e) => e.type === 'session.ended' && e.session_id === started!.session_id), { timeout: 10_000 }).toBe(true);
    const detail = (await (await fetch(`${gw.url}/api/calls/${started!.session_id}`)).json()) as { call: { direction: string }; turns: unknown[] };
    expect(detail.call.direction).toBe('mock');
    expect(detail.turns.length).toBeGreaterThanOrEqual(2);
  });

  it('browser mock call: leaving the page ends the call', async () => {
    await page.goto(`${gw.url}/#/mock`);
    const before = events.length;
    await page.getByRole('button', { name: 'Start browser mock call' }).click();
    await waitForText(page.getByRole('list', { name: 'This mock call' }), /Assistant:.*assistant/i, 20_000);
    const started = events.slice(before).find((e) => e.type === 'session.started' && e.data.direction === 'mock');
    expect(started).toBeTruthy();
    expect(events.some((e) => e.type === 'session.ended' && e.session_id === started!.session_id)).toBe(false);
    await page.goto('about:blank');
    await expect.poll(() => events.find((e) => e.type === 'session.ended' && e.session_id === started!.session_id)?.data.reason, { timeout: 10_000 }).toBe('mock_stopped');
  });

  it('follows the dark theme of the system', async () => {
    const phone = new PhoneSim(gw.url, gw.bearer, '+4917011122233');
    await phone.greeting('Hello, you are talking to the assistant.');
    await phone.say(utterance(1, 24000, 9));
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${gw.url}/#/calls/${phone.sessionId}`);
    await page.locator('.transcript .line-assistant').first().waitFor();
    const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(bg).toBe('rgb(14, 19, 27)');
    await screenshot(page, 'call-dark');
    await page.goto(`${gw.url}/#/calls`);
    await callCard(page, phone.sessionId).waitFor();
    await screenshot(page, 'live-calls-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });
});
