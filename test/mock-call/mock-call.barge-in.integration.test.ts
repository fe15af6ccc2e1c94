/**
 * Barge-in through the real app: a mock call replayed from a spoken WAV (unpaced, so the cut is
 * decided on audio time and is deterministic) where the caller talks over a long reply. The words
 * the caller actually heard replace the reply in what the model is sent next, reach the console as
 * `turn.interrupted`, and are kept in the call history (API and SQLite file, across a restart).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src-main/app';
import { NoPhoneBridge } from '../../src-main/phone/call-control';
import type { ChatMessage } from '../../src-main/engines/types';
import type { StoredTurn } from '../../src-main/store/types';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { buildTrack, missingSpeechTools } from '../helpers/speech-fixtures';

const missing = missingSpeechTools();
// 45 words: about 2.7 s of reply audio from the instant TTS (60 ms a word)
const LONG_REPLY =
  'We are open from nine in the morning until five in the afternoon on weekdays, from ten until two on Saturdays, ' +
  'and we are closed on Sundays and on public holidays, but you can always leave a message and we will call you back as soon as we can.';
const JSON_HEADERS = { 'content-type': 'application/json' };

let gw: TestGateway | null = null;
let restarted: App | null = null;
afterEach(async () => {
  await restarted?.stop();
  restarted = null;
  if (gw) {
    await gw.app.stop();
    rmSync(gw.dataDir, { recursive: true, force: true });
  }
  gw = null;
});

describe.skipIf(missing.length > 0)(`barge-in in a mock call through the app${missing.length ? ` (skipped: missing Debian tools ${missing.join(', ')})` : ''}`, () => {
  it('the caller heard only the start of the reply: the next LLM turn, the console and the history know it', { timeout: 90_000 }, async () => {
    gw = await startGateway({ config: { greeting_incoming: 'Hi.' } });
    const track = await buildTrack([
      { pause: 300 },
      { say: 'Can you tell me when you are open?' },
      { pause: 900 }, // the caller talks again while the long reply plays
      { say: 'Sorry, I meant on Sunday.' },
      { pause: 1500 },
    ]);
    const file = join(gw.dataDir, 'caller.wav');
    writeFileSync(file, track.wav);
    gw.engines.transcripts.push('when are you open', 'sorry i meant on sunday');
    gw.engines.reply = (messages: ChatMessage[]) => (messages[messages.length - 1].content === 'when are you open' ? LONG_REPLY : 'Sunday we are closed.');
    const events = await eventStream(gw.url);

    const start = await fetch(`${gw.url}/api/mock-call/start`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ source: 'file', path: file, sink: 'none', barge_in: true }),
    });
    expect(start.status).toBe(200);
    const done = await events.waitFor((e) => e.type === 'turn.complete' && e.data.transcript === 'sorry i meant on sunday', 60_000);
    const sid = done.session_id;

    // the console heard about the cut, with the full reply and the heard start of it
    const cut = events.events.find((e) => e.type === 'turn.interrupted');
    expect(cut?.session_id).toBe(sid);
    const data = cut!.data as { session_id: string; reply: string; heard_text: string; played_ms: number; total_ms: number };
    expect(data.session_id).toBe(sid);
    expect(data.reply).toBe(LONG_REPLY);
    expect(data.heard_text.length).toBeGreaterThan(0);
    expect(data.heard_text.length).toBeLessThan(LONG_REPLY.length / 2);
    expect(LONG_REPLY.startsWith(data.heard_text)).toBe(true);
    expect(data.played_ms).toBeGreaterThan(0);
    expect(data.played_ms).toBeLessThan(data.total_ms);
    // it came after the cut turn completed and before the caller's next words were answered
    expect(cut!.seq!).toBeLessThan(done.seq!);

    // the model was told what the caller heard, not the whole reply
    const next = gw.engines.llmCalls.at(-1)!.messages;
    expect(next.at(-1)).toEqual({ role: 'user', content: 'sorry i meant on sunday' });
    expect(next).toContainEqual({ role: 'assistant', content: `${data.heard_text}…` });
    expect(next.some((m) => m.content.includes(LONG_REPLY))).toBe(false);
    expect(next.slice(-3).map((m) => m.role)).toEqual(['user', 'assistant', 'user']);

    const stop = await fetch(`${gw.url}/api/mock-call/stop`, { method: 'POST', headers: JSON_HEADERS, body: '{}' });
    expect(stop.status).toBe(200);
    await events.waitFor((e) => e.type === 'session.ended' && e.session_id === sid, 20_000);
    events.close();

    // the history keeps the heard part with the cut turn only
    const list = (await fetch(`${gw.url}/api/calls?direction=mock`).then((r) => r.json())) as { calls: { id: string; session_id: string }[] };
    const id = list.calls.find((c) => c.session_id === sid)!.id;
    const detail = (await fetch(`${gw.url}/api/calls/${id}`).then((r) => r.json())) as { turns: StoredTurn[] };
    expect(detail.turns.map((t) => [t.reply, t.reply_heard])).toEqual([
      ['Hi.', null],
      [LONG_REPLY, data.heard_text],
      ['Sunday we are closed.', null],
    ]);
    const text = await fetch(`${gw.url}/api/calls/${id}/export?format=txt`).then((r) => r.text());
    expect(text).toContain(`(interrupted: the caller heard only "${data.heard_text}")`);
    // the call's events still say how the playback went
    const events2 = (await fetch(`${gw.url}/api/calls/${id}`).then((r) => r.json())) as { events: { type: string; data: Record<string, unknown> }[] };
    expect(events2.events.find((e) => e.type === 'mock.playback')?.data).toMatchObject({ turn: 1, heard_text: data.heard_text, barge_in: true });

    // in the SQLite file, and served again after a restart
    const dataDir = gw.dataDir;
    await gw.app.stop();
    const db = new Database(join(dataDir, 'history.sqlite'), { readonly: true });
    expect(db.prepare('SELECT t.idx, t.reply_heard FROM turns t JOIN calls c ON c.pk = t.call_pk WHERE c.id = ? ORDER BY t.idx').all(id)).toEqual([
      { idx: 0, reply_heard: null },
      { idx: 1, reply_heard: data.heard_text },
      { idx: 2, reply_heard: null },
    ]);
    db.close();
    const engines = gw.engines;
    gw = { ...gw, app: { stop: async () => {} } as unknown as App };
    restarted = await createApp({ dataDir, logToConsole: false, engines: engines.providers, consoleDir: join(dataDir, 'no-console'), env: {}, phone: new NoPhoneBridge() });
    const url = await restarted.start();
    const again = (await fetch(`${url}/api/calls/${id}`).then((r) => r.json())) as { turns: StoredTurn[] };
    expect(again.turns[1].reply_heard).toBe(data.heard_text);
  });
});
