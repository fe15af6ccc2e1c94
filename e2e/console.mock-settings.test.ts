/**
 * Settings → Mock calls against a real gateway in Chromium: the defaults are shown (the phone's 520 ms
 * end-of-speech silence), a change is saved and survives a reload, an invalid value is shown next to
 * its field and nothing is saved, and Revert drops unsaved edits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HAS_CHROMIUM, screenshot } from './helpers/browser';
import { consoleSession, getJson, waitForText } from './helpers/console-app';
import type { TestGateway } from '../test/helpers/gateway';

describe.skipIf(!HAS_CHROMIUM)('console settings: mock calls (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  const session = consoleSession();
  let gw: TestGateway;
  let page: Page;

  beforeAll(() => ({ gw, page } = session));

  const savedFile = () => JSON.parse(readFileSync(join(gw.dataDir, 'config.json'), 'utf8')) as Record<string, unknown>;

  it('shows the defaults; a change is saved and survives a reload', async () => {
    await page.goto(`${gw.url}/#/settings`);
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Mock calls' }).click();
    const form = page.getByRole('form', { name: 'Mock call settings' });
    const silence = form.getByRole('spinbutton', { name: 'End-of-speech silence (ms)' });
    await silence.waitFor();
    expect(page.url()).toContain('#/settings/mock-call');
    expect(await silence.inputValue()).toBe('520');
    await waitForText(form, 'phone: 520 ms');
    await waitForText(form, 'the next mock call');
    for (const heading of ['Voice detection', 'Barge-in', 'Audio devices']) expect(await form.getByRole('heading', { name: heading }).count()).toBe(1);
    expect(await form.getByRole('combobox', { name: 'Microphone' }).inputValue()).toBe('');
    expect(await form.getByRole('combobox', { name: 'Microphone' }).locator('option', { hasText: 'System default' }).count()).toBe(1);
    expect(await form.getByRole('button', { name: 'Revert' }).isDisabled()).toBe(true);

    await silence.fill('700');
    await waitForText(form, 'Unsaved changes');
    await form.getByRole('button', { name: 'Save' }).click();
    await waitForText(form, 'Saved — the next mock call uses these settings.');
    expect(await form.getByText('Unsaved changes').count()).toBe(0);
    expect((await getJson(`${gw.url}/api/config/mock-call`)).mock_vad_end_silence_ms).toBe(700);
    expect(savedFile().mock_vad_end_silence_ms).toBe(700);

    await page.reload();
    const again = page.getByRole('form', { name: 'Mock call settings' }).getByRole('spinbutton', { name: 'End-of-speech silence (ms)' });
    await again.waitFor();
    expect(await again.inputValue()).toBe('700');
    await waitForText(page.getByRole('form', { name: 'Mock call settings' }), 'phone: 520 ms');
    await screenshot(page, 'settings-mock-call');
  });

  it('an invalid value is shown next to its field and nothing is saved; Revert drops the edit', async () => {
    await page.goto(`${gw.url}/#/settings/mock-call`);
    const form = page.getByRole('form', { name: 'Mock call settings' });
    const max = form.getByRole('spinbutton', { name: 'Maximum utterance (ms)' });
    await max.waitFor();
    expect(await max.inputValue()).toBe('8000');
    const before = savedFile();

    await max.fill('100');
    await form.getByRole('button', { name: 'Save' }).click();
    await waitForText(form, 'Some values are not valid');
    expect(await max.getAttribute('aria-invalid')).toBe('true');
    expect(await form.locator('.field-invalid').count()).toBe(1);
    await waitForText(form.locator('.field-invalid'), 'Maximum utterance');
    expect((await getJson(`${gw.url}/api/config/mock-call`)).mock_vad_max_utterance_ms).toBe(8000);
    expect(savedFile()).toEqual(before);

    // the cross-field check: minimum speech not below the maximum utterance
    await max.fill('1000');
    await form.getByRole('spinbutton', { name: 'Minimum speech (ms)' }).fill('1000');
    await form.getByRole('button', { name: 'Save' }).click();
    await waitForText(form.locator('.field-invalid'), 'must be longer than the minimum speech');
    expect(savedFile()).toEqual(before);

    await form.getByRole('button', { name: 'Revert' }).click();
    expect(await max.inputValue()).toBe('8000');
    expect(await form.getByRole('spinbutton', { name: 'Minimum speech (ms)' }).inputValue()).toBe('180');
    expect(await form.locator('.field-invalid').count()).toBe(0);
    expect(await form.getByRole('spinbutton', { name: 'End-of-speech silence (ms)' }).inputValue()).toBe('700');
  });
});
