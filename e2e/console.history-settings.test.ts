/**
 * Settings → History against a real gateway in Chromium: recording settings round-trip with
 * per-field errors, the recordings kill switch (confirm, delete, resume) and the import of an
 * upstream data folder with its result and its errors shown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HAS_CHROMIUM, screenshot } from './helpers/browser';
import { consoleSession, getJson, waitForText } from './helpers/console-app';
import { PhoneSim, utterance } from '../test/helpers/phone-sim';
import type { TestGateway } from '../test/helpers/gateway';
import { upstreamCaller, upstreamSession, upstreamTurn, writeUpstreamDir } from '../test/helpers/upstream-fixtures';

describe.skipIf(!HAS_CHROMIUM)('console settings: history (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  const session = consoleSession();
  let gw: TestGateway;
  let page: Page;
  let tmp: string;

  beforeAll(() => {
    ({ gw, page } = session);
    tmp = mkdtempSync(join(tmpdir(), 'cf-upstream-'));
  });

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('recording settings round-trip; an invalid value is shown next to its field and nothing changes', async () => {
    await page.goto(`${gw.url}/#/settings/history`);
    const form = page.getByRole('form', { name: 'Recordings' });
    const record = form.getByRole('checkbox', { name: "Record each turn's audio (caller and reply)" });
    await record.waitFor();
    expect(await record.isChecked()).toBe(true);
    const age = form.getByRole('spinbutton', { name: 'Delete recordings older than (days)' });
    const disk = form.getByRole('spinbutton', { name: 'Keep at most (MB)' });
    expect(await age.inputValue()).toBe('30');

    await age.fill('-3');
    await form.getByRole('button', { name: 'Apply' }).click();
    await waitForText(form, 'Some values are not valid');
    await waitForText(form.locator('.field-invalid'), 'a number of days from 0 to 36500');
    expect(await age.getAttribute('aria-invalid')).toBe('true');
    expect((await getJson(`${gw.url}/api/config/history`)).recording_max_age_days).toBe(30);

    await record.uncheck();
    await age.fill('7');
    await disk.fill('512');
    await form.getByRole('button', { name: 'Apply' }).click();
    await waitForText(form, 'Saved — applied now.');
    expect(await getJson(`${gw.url}/api/config/history`)).toMatchObject({ record_audio: false, recording_max_age_days: 7, recording_max_disk_mb: 512 });
    await waitForText(form, 'Recording off');

    // back on for the kill-switch test
    await record.check();
    await form.getByRole('button', { name: 'Apply' }).click();
    await waitForText(form, 'Saved — applied now.');
    expect((await getJson(`${gw.url}/api/config/history`)).record_audio).toBe(true);
    await screenshot(page, 'settings-history');
  });

  it('caller country code: a wrong one is explained next to the field, +49 is saved as 49', async () => {
    await page.goto(`${gw.url}/#/settings/history`);
    const form = page.getByRole('form', { name: 'Callers' });
    const code = form.getByRole('textbox', { name: "Country calling code of the phone's country" });
    await code.waitFor();
    expect(await code.inputValue()).toBe('');
    await code.fill('Germany');
    await form.getByRole('button', { name: 'Apply' }).click();
    await waitForText(form.locator('.field-invalid'), 'the country calling code without + or 00');
    expect((await getJson(`${gw.url}/api/config/history`)).caller_country_code).toBe('');
    await code.fill('+49');
    await form.getByRole('button', { name: 'Apply' }).click();
    await waitForText(form, 'Saved — applied now.');
    expect((await getJson(`${gw.url}/api/config/history`)).caller_country_code).toBe('49');
    await page.reload();
    await expect.poll(() => code.inputValue(), { timeout: 10_000 }).toBe('49');
  });

  it('the kill switch asks first, deletes every recording, stops recording, and resumes', async () => {
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hello.');
    gw.engines.transcripts.push('please keep this call');
    await phone.say(utterance(1.5));
    const before = await getJson(`${gw.url}/api/recordings`);
    expect(before.files).toBeGreaterThan(0);

    await page.goto(`${gw.url}/#/settings/history`);
    await page.reload(); // the section loaded its counts before this call
    const card = page.getByRole('region', { name: 'Recordings kill switch' });
    await waitForText(card, `${before.files} files`);
    await card.getByRole('button', { name: 'Delete all recordings and stop recording' }).click();
    const confirm = card.getByRole('group', { name: 'Confirm deleting all recordings' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect((await getJson(`${gw.url}/api/recordings`)).files).toBe(before.files);

    await card.getByRole('button', { name: 'Delete all recordings and stop recording' }).click();
    await confirm.getByRole('button', { name: 'Yes, delete all' }).click();
    await waitForText(card, `Deleted ${before.files} recordings`);
    await waitForText(card, 'Stopped by the kill switch');
    expect(await getJson(`${gw.url}/api/recordings`)).toMatchObject({ paused: true, recording: false, files: 0 });
    await waitForText(page.getByRole('form', { name: 'Recordings' }), 'Stored now: 0 recordings');

    await card.getByRole('button', { name: 'Resume recording' }).click();
    await waitForText(card, 'Recording resumed.');
    expect(await getJson(`${gw.url}/api/recordings`)).toMatchObject({ paused: false, recording: true });
  });

  it('imports an upstream data folder and reports what it did; bad folders are explained', async () => {
    const upstream = join(tmp, 'data');
    writeUpstreamDir(upstream, {
      sessions: [upstreamSession('upstream-e2e-1', 1_690_000_000, [upstreamTurn('Where is my parcel', 'It arrives on Monday.', 1_690_000_005)])],
      callers: [upstreamCaller('+4930555666', 1_690_000_010, 1, [['Where is my parcel', 'It arrives on Monday.']])],
      rawSessions: { 'broken.json': '{' },
    });
    await page.goto(`${gw.url}/#/settings/history`);
    const form = page.getByRole('form', { name: 'Import upstream history' });
    const folder = form.getByRole('textbox', { name: 'Upstream data folder' });
    // a browser has no file dialog: only the text field
    expect(await form.getByRole('button', { name: 'Choose…' }).count()).toBe(0);

    await folder.fill('relative/data');
    await form.getByRole('button', { name: 'Import' }).click();
    await waitForText(form.locator('.field-invalid'), 'must be an absolute path');
    await folder.fill(join(tmp, 'missing'));
    await form.getByRole('button', { name: 'Import' }).click();
    await waitForText(form.locator('.field-invalid'), 'not a folder');

    await folder.fill(upstream);
    await form.getByRole('button', { name: 'Import' }).click();
    await waitForText(form, 'Import finished');
    await waitForText(form, 'Calls: 1 imported, 0 already there. Callers: 1 imported');
    await waitForText(form, 'sessions/broken.json');
    const s = await getJson(`${gw.url}/api/sessions/upstream-e2e-1`);
    expect(s.turns[0].reply).toBe('It arrives on Monday.');

    await form.getByRole('button', { name: 'Import' }).click();
    await waitForText(form, 'Calls: 0 imported, 1 already there.');
    await screenshot(page, 'settings-history-import');
  });
});
