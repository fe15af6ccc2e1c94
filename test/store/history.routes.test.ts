import { createHash } from 'node:crypto';
import { existsSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerHistoryRoutes } from '../../src-main/gateway/routes/history';
import type { CallStore } from '../../src-main/store';
import { upstreamCaller, upstreamSession, upstreamTurn, writeUpstreamDir } from '../helpers/upstream-fixtures';
import { call, ended, openStore, tempDir, turn, wav } from './helpers';

let app: FastifyInstance;
let store: CallStore;
let base: string;
let dir: string;
let cleanup: () => void;
const greeting = wav(500);
const callerA = wav(510);
const replyA = wav(520);

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('history-routes-'));
  store = openStore(join(dir, 'data'));
  const a = call('call-a', { started_at: 1_700_000_000, direction: 'incoming', number: '+4930111222' });
  store.callStarted(a);
  store.turnCompleted(a, turn('call-a', 0, { kind: 'forced', producer: 'forced', transcript: '', reply: 'Hello there', replyAudio: greeting }));
  store.turnCompleted(a, turn('call-a', 1, { transcript: 'I want to cancel my gym membership', reply: 'I can help with that.', callerAudio: callerA, replyAudio: replyA }));
  store.callEvent(a, 'agent.takeover', { name: 'bob' });
  store.callEnded(ended(a, 'hangup'));
  const b = call('call-b', { started_at: 1_700_100_000, direction: 'outgoing', number: '+4940333444' });
  store.callStarted(b);
  store.turnCompleted(b, turn('call-b', 0, { kind: 'forced', producer: 'forced', transcript: '', reply: 'Hello there', replyAudio: greeting }));
  store.turnCompleted(b, turn('call-b', 1, { transcript: 'Table for two tonight', reply: 'Booked.', producer: 'agent:bob' }));
  store.callEnded(ended(b, 'phone_ended'));
  store.callStarted(call('call-live', { started_at: 1_700_200_000 }));
  store.save('+4930111222', [{ role: 'user', content: 'hi' }], 'a summary');

  app = Fastify();
  registerHistoryRoutes(app, store);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  await app?.close();
  store?.close();
  cleanup?.();
});

async function get(path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(base + path);
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body, headers: r.headers };
}
async function send(method: string, path: string, json?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(base + path, { method, ...(json === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) }) });
  return { status: r.status, body: await r.json() };
}

describe('history routes', () => {
  it('lists calls newest first and searches them with filters', async () => {
    const all = await get('/api/calls');
    expect(all.status).toBe(200);
    expect(all.body.calls.map((c: { id: string }) => c.id)).toEqual(['call-live', 'call-b', 'call-a']);
    expect(all.body.next_cursor).toBeNull();

    const hit = await get('/api/calls?q=gym%20membership');
    expect(hit.body.calls.map((c: { id: string }) => c.id)).toEqual(['call-a']);
    expect(hit.body.calls[0].match).toMatchObject({ turn: 1, snippet: 'I want to cancel my [gym] [membership]' });
    expect(hit.body.truncated).toBe(false);

    const f = async (qs: string) => (await get(`/api/calls?${qs}`)).body.calls.map((c: { id: string }) => c.id);
    expect(await f('direction=outgoing')).toEqual(['call-b']);
    expect(await f('handled_by=agent')).toEqual(['call-b']);
    expect(await f('handled_by=agent,local')).toEqual(['call-b', 'call-a']);
    expect(await f('outcome=active')).toEqual(['call-live']);
    expect(await f('outcome=hangup')).toEqual(['call-a']);
    expect(await f('number=%2B4940')).toEqual(['call-b']);
    expect(await f('number=%2B49%20(40)%20333')).toEqual(['call-b']);
    expect(await f('from=2023-11-15T00:00:00Z&to=1700150000')).toEqual(['call-b']);
    expect(await f('q=hello&limit=1&offset=1')).toHaveLength(1);

    const p1 = await get('/api/calls?limit=2');
    expect(p1.body.calls).toHaveLength(2);
    const p2 = await get(`/api/calls?limit=2&cursor=${p1.body.next_cursor}`);
    expect(p2.body.calls.map((c: { id: string }) => c.id)).toEqual(['call-a']);
  });

  it('answers bad list input with 400 naming the field, and keeps serving', async () => {
    const cases: [string, RegExp][] = [
      ['limit=0', /^limit: /],
      ['limit=abc', /^limit: expected a whole number/],
      ['limit=1000', /^limit: /],
      ['offset=-1', /^offset: /],
      ['direction=sideways', /^direction: /],
      ['outcome=exploded', /^outcome: /],
      ['handled_by=robot', /^handled_by\.0: /],
      ['handled_by=,', /^handled_by: name at least one/],
      ['number=abc', /^number: use digits/],
      ['number=%25', /^number: /],
      ['from=yesterday', /^from: expected epoch seconds or an ISO 8601 date/],
      ['to=', /^to: /],
      ['q=' + 'x'.repeat(501), /^q: /],
      ['q=***', /^q: no searchable words/],
      ['q=a*', /^q: a prefix search needs at least 2 letters/],
      ['cursor=not-a-cursor', /^cursor: not a cursor/],
      ['limit=1&limit=2', /^limit: /],
      ['q=hello&cursor=abc&offset=2', /^cursor: /],
    ];
    for (const [qs, detail] of cases) {
      const r = await get(`/api/calls?${qs}`);
      expect(r.status, qs).toBe(400);
      expect(r.body.detail, qs).toMatch(detail);
    }
    expect((await get('/api/calls')).status).toBe(200);
  });

  it('serves a call with transcript, metrics, events and recording URLs that play', async () => {
    const r = await get('/api/calls/call-a');
    expect(r.status).toBe(200);
    expect(r.body.call).toMatchObject({ id: 'call-a', end_reason: 'hangup', turn_count: 2 });
    expect(r.body.events).toEqual([{ at: expect.any(Number), type: 'agent.takeover', data: { name: 'bob' } }]);
    const t1 = r.body.turns[1];
    expect(t1).toMatchObject({ index: 1, transcript: 'I want to cancel my gym membership', metrics: { asr_ms: 120.5, e2eLatencyMs: 300 } });
    expect(t1.recordings.caller).toEqual({ sha256: createHash('sha256').update(callerA).digest('hex'), bytes: callerA.length, url: '/api/calls/call-a/audio/1/caller' });
    expect(r.body.turns[0].recordings.caller).toBeNull();

    const audio = await fetch(base + t1.recordings.reply.url);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    expect(Number(audio.headers.get('content-length'))).toBe(replyA.length);
    expect(Buffer.from(await audio.arrayBuffer())).toEqual(Buffer.from(replyA));
  });

  it('explains every missing call, turn and recording with a 404, and bad params with a 400', async () => {
    const cases: [string, number, RegExp][] = [
      ['/api/calls/nope', 404, /call not found: nope/],
      ['/api/calls/nope/audio/0/caller', 404, /call not found/],
      ['/api/calls/call-a/audio/9/caller', 404, /turn 9 not found in call call-a/],
      ['/api/calls/call-a/audio/0/caller', 404, /no caller recording for turn 0/],
      ['/api/calls/call-a/audio/0/both', 400, /^side: /],
      ['/api/calls/call-a/audio/x/caller', 400, /^turn: /],
      ['/api/calls/call-a/audio/-1/caller', 400, /^turn: /],
      ['/api/calls/..%2F..%2Fetc%2Fpasswd', 400, /^id: not a call id/],
      ['/api/calls/a%20b/export', 400, /^id: /],
      ['/api/calls/call-a/export?format=pdf', 400, /^format: /],
      ['/api/sessions/nope', 404, /^Session not found$/],
      ['/api/sessions/a%07b', 400, /^id: contains control characters/],
    ];
    for (const [path, status, detail] of cases) {
      const r = await get(path);
      expect(r.status, path).toBe(status);
      expect(r.body.detail, path).toMatch(detail);
    }
  });

  it('reports a recording whose file vanished or was cut short', async () => {
    const f = store.recordingFile('call-a', 1, 'caller');
    if (!f.ok) throw new Error('expected a recording');
    truncateSync(f.path, 10);
    const cut = await get('/api/calls/call-a/audio/1/caller');
    expect(cut.status).toBe(404);
    expect(cut.body.detail).toMatch(new RegExp(`file of turn 1 is damaged \\(10 bytes instead of ${callerA.length}\\)`));
    unlinkSync(f.path);
    const r = await get('/api/calls/call-a/audio/1/caller');
    expect(r.status).toBe(404);
    expect(r.body.detail).toMatch(/file of turn 1 is missing/);
  });

  it('exports one call as JSON or text, and all calls as one JSON document', async () => {
    const j = await get('/api/calls/call-b/export?format=json');
    expect(j.status).toBe(200);
    expect(j.headers.get('content-disposition')).toBe('attachment; filename="call-call-b.json"');
    expect(j.body.turns.map((t: { reply: string }) => t.reply)).toEqual(['Hello there', 'Booked.']);
    const t = await get('/api/calls/call-b/export?format=txt');
    expect(t.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(t.body).toContain('Caller: Table for two tonight');
    expect(t.body).toContain('agent:bob: Booked.');

    const bulk = await get('/api/calls/export');
    expect(bulk.status).toBe(200);
    expect(bulk.body.calls.map((d: { call: { id: string } }) => d.call.id)).toEqual(['call-live', 'call-b', 'call-a']);
    expect(bulk.body.calls[2].turns[1].recordings.reply.url).toBe('/api/calls/call-a/audio/1/reply');
    const filtered = await get('/api/calls/export?direction=outgoing');
    expect(filtered.body.calls).toHaveLength(1);
    const withQ = await get('/api/calls/export?q=gym');
    expect(withQ.status).toBe(400);
    expect(withQ.body.detail).toMatch(/^q: the bulk export does not search/);
  });

  it("serves upstream's session endpoints in upstream's shapes", async () => {
    const list = await get('/api/sessions');
    expect(list.body).toEqual([
      { session_id: 'call-live', created_at: 1_700_200_000, turn_count: 0 },
      { session_id: 'call-b', created_at: 1_700_100_000, turn_count: 2 },
      { session_id: 'call-a', created_at: 1_700_000_000, turn_count: 2 },
    ]);
    const s = await get('/api/sessions/call-b');
    expect(s.body).toEqual({
      session_id: 'call-b',
      created_at: 1_700_100_000,
      turns: [
        { transcript: '', reply: 'Hello there', metrics: { asr_ms: 120.5, llm_ms: 340.2, tts_ms: 210.1, total_ms: 690.4, llm_model: 'local/qwen' }, forced_reply: true, timestamp: 1_700_000_001 },
        { transcript: 'Table for two tonight', reply: 'Booked.', metrics: { asr_ms: 120.5, llm_ms: 340.2, tts_ms: 210.1, total_ms: 690.4, llm_model: 'local/qwen' }, forced_reply: false, timestamp: 1_700_000_011 },
      ],
    });
  });

  it("serves and deletes caller history like upstream, refusing hostile numbers", async () => {
    expect((await get('/api/caller-history')).body).toEqual([{ number: '+4930111222', total_calls: 1, last_call_at: expect.any(Number), turn_count: 1 }]);
    const bad = await send('DELETE', '/api/caller-history/..%2F..%2Fetc%2Fpasswd');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/^number: not a phone number/);
    expect((await send('DELETE', '/api/caller-history/%2B49%2030%20111-222')).body).toEqual({ ok: true, number: '+49 30 111-222' });
    expect((await send('DELETE', '/api/caller-history/%2B4930111222')).body).toEqual({ ok: false, number: '+4930111222' });
    expect((await get('/api/caller-history')).body).toEqual([]);
  });

  it('imports an upstream folder through the API and rejects bad folders', async () => {
    const upstream = join(dir, 'upstream');
    writeUpstreamDir(upstream, {
      sessions: [upstreamSession('imported-session-1', 1_690_000_000, [upstreamTurn('Any news on my parcel', 'It arrives tomorrow.', 1_690_000_005)])],
      callers: [upstreamCaller('+4930999888', 1_690_000_010, 2, [['Any news on my parcel', 'It arrives tomorrow.']])],
      rawSessions: { 'bad.json': '{' },
    });
    const r = await send('POST', '/api/history/import', { dir: upstream });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ sessions: { imported: 1, skipped: 0, failed: [{ file: 'sessions/bad.json' }] }, callers: { imported: 1 } });
    expect((await get('/api/sessions/imported-session-1')).body.turns[0].reply).toBe('It arrives tomorrow.');
    expect((await send('POST', '/api/history/import', { dir: upstream })).body.sessions).toMatchObject({ imported: 0, skipped: 1 });

    const cases: [unknown, RegExp][] = [
      [{}, /^dir: /],
      [{ dir: 'relative/path' }, /^dir: must be an absolute path/],
      [{ dir: 42 }, /^dir: /],
      [{ dir: join(dir, 'missing') }, /^dir: not a folder/],
      [{ dir: join(dir, 'data') }, /^dir: no sessions\/ or caller_history\/ folder/],
    ];
    for (const [body, detail] of cases) {
      const res = await send('POST', '/api/history/import', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.detail).toMatch(detail);
    }
  });

  it('deletes a finished call and its own audio, keeps shared audio, refuses a live call', async () => {
    const greetingFile = store.recordingFile('call-a', 0, 'reply');
    const own = store.recordingFile('call-a', 1, 'reply');
    if (!greetingFile.ok || !own.ok) throw new Error('expected recordings');
    expect((await send('DELETE', '/api/calls/call-a')).body).toEqual({ ok: true, id: 'call-a' });
    expect((await get('/api/calls/call-a')).status).toBe(404);
    expect(existsSync(own.path)).toBe(false);
    expect(existsSync(greetingFile.path)).toBe(true); // call-b's greeting is the same WAV
    const again = await send('DELETE', '/api/calls/call-a');
    expect(again.status).toBe(404);
    const live = await send('DELETE', '/api/calls/call-live');
    expect(live.status).toBe(409);
    expect(live.body.detail).toMatch(/still in progress/);
  });

  it('the kill switch deletes all recordings and pauses recording until resumed', async () => {
    expect((await get('/api/recordings')).body).toMatchObject({ recording: true, paused: false, files: 1 });
    const p = await send('POST', '/api/recordings/purge');
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ ok: true, deleted_files: 1, recording: false, paused: true, files: 0, bytes: 0 });
    const r = await get('/api/calls/call-b/audio/0/reply');
    expect(r.status).toBe(404);
    expect((await send('POST', '/api/recordings/resume')).body).toMatchObject({ ok: true, recording: true, paused: false });
  });
});
