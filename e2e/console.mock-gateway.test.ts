/**
 * The Mock call view's "On the gateway computer" card in Chromium against a real gateway: it starts
 * from Settings → Mock calls (barge-in), replays a spoken WAV as the caller through the real VAD and
 * pipeline, plays the replies through `speaker` on an ALSA file device (a temporary HOME's
 * .asoundrc), and the call shows up as a mock call in History; a missing file is explained.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HAS_CHROMIUM, screenshot } from './helpers/browser';
import { consoleSession, getJson, waitForText } from './helpers/console-app';
import type { TestGateway } from '../test/helpers/gateway';
import { buildTrack, hasBinary, missingSpeechTools } from '../test/helpers/speech-fixtures';
import { alsaHome, type AlsaHome } from '../test/mock-call/helpers';

const missing = [...missingSpeechTools(), ...(hasBinary('aplay') ? [] : ['alsa-utils'])];

describe.skipIf(!HAS_CHROMIUM || missing.length > 0)(`console: mock call on the gateway computer (needs /usr/bin/chromium, ${missing.join(', ') || 'espeak-ng, sox, alsa-utils'})`, { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let page: Page;
  let dir: string;
  let wav: string;
  let alsa: AlsaHome;

  // before the gateway starts (and after it stops): the caller's recording, and the ALSA home that
  // makes the speaker child started by the gateway play into a file
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cf-e2e-mock-'));
    wav = join(dir, 'caller.wav');
    const track = await buildTrack([{ pause: 400 }, { say: 'Hello, I would like to book a table.' }, { pause: 1200 }]);
    await writeFile(wav, track.wav);
    alsa = await alsaHome();
    alsa.activate();
  }, 120_000);

  afterAll(async () => {
    await alsa?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const session = consoleSession({ config: { mock_barge_in: true } });
  beforeAll(() => ({ gw, page } = session));

  it('replays a recording as the caller: the call runs, the replies play, History has it as a mock call', async () => {
    await page.goto(`${gw.url}/#/mock`);
    const card = page.locator('section').filter({ has: page.getByRole('heading', { name: 'On the gateway computer' }) });
    const bargeIn = card.getByRole('checkbox', { name: 'Let me interrupt the assistant (barge-in)' });
    await expect.poll(() => bargeIn.isChecked(), { timeout: 10_000 }).toBe(true); // from Settings → Mock calls
    await bargeIn.uncheck(); // for this call only
    await card.getByRole('radio', { name: /a recording \(\.wav\) replayed/ }).check();
    await card.getByRole('textbox', { name: /Recording on the gateway computer/ }).fill(wav);
    await card.getByRole('checkbox', { name: /Play it at real speed/ }).uncheck();
    await screenshot(page, 'mock-call-gateway-file');
    await card.getByRole('button', { name: 'Start mock call' }).click();

    let sid = '';
    await expect
      .poll(async () => {
        const list = (await getJson(`${gw.url}/api/mock-call`)) as { active: { session_id: string | null }[]; recent: { session_id: string | null; end_reason: string | null; barge_in: boolean }[] };
        const done = list.recent.find((m) => m.end_reason === 'source_ended');
        if (done) expect(done.barge_in).toBe(false);
        sid = done?.session_id ?? '';
        return sid;
      }, { timeout: 60_000 })
      .not.toBe('');
    const detail = (await getJson(`${gw.url}/api/calls/${sid}`)) as { call: { direction: string }; turns: { transcript: string; reply: string }[] };
    expect(detail.call.direction).toBe('mock');
    expect(detail.turns.length).toBeGreaterThanOrEqual(2); // the greeting and the caller's sentence
    expect(detail.turns.at(-1)!.reply).toMatch(/^You said: /);
    expect((await alsa.readPlayback()).length).toBeGreaterThan(16000); // replies reached the speaker device
    await waitForText(card, 'Start mock call'); // the card is ready for the next call
  });

  it('a recording that does not exist is explained and nothing starts', async () => {
    await page.goto(`${gw.url}/#/mock`);
    const card = page.locator('section').filter({ has: page.getByRole('heading', { name: 'On the gateway computer' }) });
    await card.getByRole('radio', { name: /a recording \(\.wav\) replayed/ }).check();
    await card.getByRole('textbox', { name: /Recording on the gateway computer/ }).fill(join(dir, 'nope.wav'));
    await card.getByRole('button', { name: 'Start mock call' }).click();
    await waitForText(card.getByRole('alert').or(card.locator('.notice')), /did not start/);
    expect(((await getJson(`${gw.url}/api/mock-call`)) as { active: unknown[] }).active).toEqual([]);
  });
});
