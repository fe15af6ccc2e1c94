/**
 * Caller memory is keyed by the E.164 form of the number: a caller is recognised however the phone
 * writes the number (+49…, 0049…, and with the country calling code configured, 0170…); memory an
 * earlier version stored under the number as written is found and moved to the E.164 key.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src-main/engines/types';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { call, phoneCall } from './support';

let gw: TestGateway | null = null;
afterEach(async () => {
  await gw?.close();
  gw = null;
});

async function oneCall(g: TestGateway, number: string, seed: number): Promise<PhoneSim> {
  const phone = new PhoneSim(g.url, g.bearer, number);
  await phone.greeting('Hello, the assistant here.');
  const r = await phone.say(utterance(1, 24000, seed), { skipAsrProbe: true });
  expect(r.status).toBe(200);
  expect((await phoneCall(g, 'POST', '/api/session/end', { session_id: phone.sessionId })).status).toBe(200);
  return phone;
}

const lastLlmHistory = (g: TestGateway): ChatMessage[] => g.engines.llmCalls.at(-1)!.messages;
const callers = async (g: TestGateway) => ((await call(g, 'GET', '/api/caller-history')).json as unknown as { number: string }[]).map((c) => c.number);

describe('caller memory keyed by E.164', () => {
  it('recognises +49…, 0049… and (with the country code) 0170… as one caller', async () => {
    gw = await startGateway({ config: { keep_history: true, caller_country_code: '49' } });
    await oneCall(gw, '+49 170 1234567', 11);
    const first = lastLlmHistory(gw).map((m) => m.content).join('\n');
    expect(await callers(gw)).toEqual(['+491701234567']);

    await oneCall(gw, '0049 170 1234567', 12);
    expect(lastLlmHistory(gw).map((m) => m.content).join('\n')).toContain(first.split('\n').at(-1)!);
    await oneCall(gw, '0170-1234567', 13);
    const third = lastLlmHistory(gw).filter((m) => m.role === 'user').map((m) => m.content);
    expect(third.length).toBeGreaterThanOrEqual(3); // the two earlier calls' caller turns, then this one
    expect(await callers(gw)).toEqual(['+491701234567']);

    // deleting by any spelling deletes the caller
    const del = await call(gw, 'DELETE', `/api/caller-history/${encodeURIComponent('0170 1234567')}`);
    expect(del.json).toMatchObject({ ok: true });
    expect(await callers(gw)).toEqual([]);
  });

  it('without a country code, a national number stays its own key', async () => {
    gw = await startGateway({ config: { keep_history: true } });
    await oneCall(gw, '0170 1234567', 21);
    await oneCall(gw, '+49 170 1234567', 22);
    expect((await callers(gw)).sort()).toEqual(['+491701234567', '01701234567']);
  });

  it('finds memory an earlier version stored under 0049… and moves it to +49…', async () => {
    gw = await startGateway({ config: { keep_history: true } });
    const db = new Database(join(gw.dataDir, 'history.sqlite'));
    const old: ChatMessage[] = [
      { role: 'user', content: 'My name is Ada and I booked the blue room.' },
      { role: 'assistant', content: 'Noted, Ada.' },
    ];
    db.prepare('INSERT INTO caller_memory (number, history, summary, last_call_at, total_calls, message_count) VALUES (?, ?, ?, ?, 1, 2)').run('00491709999999', JSON.stringify(old), '', Date.now() / 1000);
    db.close();
    expect(await callers(gw)).toEqual(['00491709999999']);

    await oneCall(gw, '0049 170 9999999', 31);
    expect(lastLlmHistory(gw).map((m) => m.content)).toContain('My name is Ada and I booked the blue room.');
    expect(await callers(gw)).toEqual(['+491709999999']);
  });

  it('refuses a country code that is not 1 to 3 digits, and keeps the saved one', async () => {
    gw = await startGateway();
    for (const bad of ['+49', '0049', '1234', 'de', 49]) {
      const r = await call(gw, 'POST', '/api/config/history', { caller_country_code: bad });
      expect(r.status, String(bad)).toBe(400);
      expect(JSON.stringify(r.json.errors)).toContain('caller_country_code');
    }
    const ok = await call(gw, 'POST', '/api/config/history', { caller_country_code: '44' });
    expect(ok.status).toBe(200);
    expect((await call(gw, 'GET', '/api/config/history')).json.caller_country_code).toBe('44');
  });
});
