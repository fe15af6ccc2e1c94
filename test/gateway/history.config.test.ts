/** The history settings section (/api/config/history) on a real gateway: validated, applied live, announced. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { savedConfig } from './support';

let gw: TestGateway;
beforeEach(async () => {
  gw = await startGateway();
});
afterEach(async () => gw.close());

async function post(path: string, body: unknown, raw = false): Promise<{ status: number; body: any }> {
  const r = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
const get = async (path: string): Promise<any> => (await fetch(gw.url + path)).json();

describe('history settings', () => {
  it('serves the settings with the recording status, and applies a valid patch live, saved and announced', async () => {
    expect(await get('/api/config/history')).toEqual({
      record_audio: true, recording_max_age_days: 30, recording_max_disk_mb: 2048, caller_country_code: '', overridden: {},
      recordings: { record_audio: true, paused: false, recording: true, files: 0, bytes: 0 },
    });
    const events = await eventStream(gw.url);
    const r = await post('/api/config/history', { record_audio: false, recording_max_age_days: 7 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, record_audio: false, recording_max_age_days: 7, recording_max_disk_mb: 2048, recordings: { recording: false } });
    const e = await events.waitFor((x) => x.type === 'config.history_updated');
    expect(e.data).toMatchObject({ record_audio: false, recording_max_age_days: 7 });
    events.close();
    expect(savedConfig(gw)).toMatchObject({ record_audio: false, recording_max_age_days: 7 });

    // applied live: the next turn of a call is stored without audio
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hello.');
    gw.engines.transcripts.push('no recording please');
    await phone.say(utterance(2));
    const calls = await get('/api/calls');
    const detail = await get(`/api/calls/${calls.calls[0].id}`);
    expect(detail.turns.map((t: any) => [t.recordings.caller, t.recordings.reply])).toEqual([[null, null], [null, null]]);
  });

  it('refuses bad values naming each field, changes nothing, and keeps serving', async () => {
    const before = await get('/api/config/history');
    const cases: [unknown, Record<string, RegExp>][] = [
      [{ record_audio: 'yes' }, { record_audio: /true or false/ }],
      [{ recording_max_age_days: -1 }, { recording_max_age_days: /from 0 to 36500/ }],
      [{ recording_max_age_days: '30' }, { recording_max_age_days: /number of days/ }],
      [{ recording_max_disk_mb: 1e12 }, { recording_max_disk_mb: /from 0 to 10000000/ }],
      [{ recording_max_disk_mb: null }, { recording_max_disk_mb: /number of MB/ }],
      [{ record_audio: true, host: '0.0.0.0' }, { host: /not a setting of this section/ }],
      [{ record_audio: false, recording_max_age_days: -5 }, { recording_max_age_days: /from 0/ }],
    ];
    for (const [body, want] of cases) {
      const r = await post('/api/config/history', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      const errors = Object.fromEntries((r.body.errors as { key: string; message: string }[]).map((x) => [x.key, x.message]));
      expect(Object.keys(errors)).toEqual(Object.keys(want));
      for (const [k, re] of Object.entries(want)) expect(errors[k]).toMatch(re);
    }
    for (const raw of ['[1,2]', '"text"', '{not json']) {
      const r = await post('/api/config/history', raw, true);
      expect(r.status, raw).toBe(400);
    }
    expect(await get('/api/config/history')).toEqual(before);
  });

  it('a lower disk limit deletes recordings at once, keeping the transcripts', async () => {
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hello.');
    gw.engines.transcripts.push('keep my words');
    await phone.say(utterance(2));
    const before = (await get('/api/config/history')).recordings;
    expect(before.files).toBeGreaterThan(0);
    const r = await post('/api/config/history', { recording_max_disk_mb: 0.0001 });
    expect(r.status).toBe(200);
    expect(r.body.retention).toEqual({ deleted_files: before.files, freed_bytes: before.bytes });
    expect(r.body.recordings).toMatchObject({ files: 0, bytes: 0 });
    const calls = await get('/api/calls?q=words');
    expect(calls.calls).toHaveLength(1);
  });
});
