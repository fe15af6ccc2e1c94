/** Session routes (spec §3.1), the TTL sweep on its own timer, and /api/asr with its cache for the next /api/turn. */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeWav, silence } from '../../src-shared/audio/wav';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { call, phoneCall, postForm } from './support';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const form = (g: TestGateway, body: string) =>
  call(g, 'POST', '/api/session/reset', body, { 'content-type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${g.bearer}` });

describe('GET /health', () => {
  it('has the upstream shape: nested audio health, llm, active_sessions, uptime_s', async () => {
    gw = await startGateway();
    const r = await phoneCall(gw, 'GET', '/health');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, mlx_audio: { mlx_audio: { ok: true }, piper: { ok: true }, ok: true }, llm: { ok: true }, active_sessions: 0 });
    expect(Number.isInteger(r.json.uptime_s)).toBe(true);
    expect(r.text).not.toContain(gw.bearer);
  });
});

describe('/api/session/new|reset|end', () => {
  it('new: a fresh 32-hex id that counts as active', async () => {
    gw = await startGateway();
    const a = await phoneCall(gw, 'POST', '/api/session/new');
    const b = await phoneCall(gw, 'POST', '/api/session/new');
    expect(a.status).toBe(200);
    expect(Object.keys(a.json)).toEqual(['session_id']);
    expect(a.json.session_id).toMatch(/^[0-9a-f]{32}$/);
    expect(b.json.session_id).not.toBe(a.json.session_id);
    expect((await phoneCall(gw, 'GET', '/health')).json.active_sessions).toBe(2);
    expect((await call(gw, 'GET', '/api/status')).json.active_sessions).toBe(2);
  });

  it('reset: urlencoded or multipart session_id; always ok; empty id is a no-op; revives an ended call', async () => {
    gw = await startGateway();
    expect((await form(gw, 'session_id=')).json).toEqual({ ok: true, session_id: '' });
    expect((await form(gw, '')).json).toEqual({ ok: true, session_id: '' });
    expect((await call(gw, 'GET', '/api/status')).json.active_sessions).toBe(0);
    const unknown = await form(gw, 'session_id=%20abc123%20');
    expect(unknown.json).toEqual({ ok: true, session_id: 'abc123' });
    expect(gw.app.ctx.calls.get('abc123')?.ended).toBe(false);
    const multi = await postForm(gw, [['session_id', 'abc123']], null, { path: '/api/session/reset' });
    expect(multi.json).toEqual({ ok: true, session_id: 'abc123' });

    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    await phone.say(utterance(1));
    const sid = phone.sessionId;
    expect(gw.app.ctx.calls.get(sid)!.history).toHaveLength(2);
    await phoneCall(gw, 'POST', '/api/session/end', { session_id: sid });
    expect((await form(gw, `session_id=${sid}`)).json).toEqual({ ok: true, session_id: sid });
    const s = gw.app.ctx.calls.get(sid)!;
    expect(s.ended).toBe(false);
    expect(s.history).toEqual([]);
    const r = await phone.say(utterance(1, 24000, 3));
    expect(r.json).toMatchObject({ ok: true, session_id: sid });
  });

  it('resetting an ended call does not store its caller memory a second time', async () => {
    gw = await startGateway({ config: { keep_history: true } });
    const phone = new PhoneSim(gw.url, gw.bearer, '+4930999888');
    await phone.greeting('Hi');
    await phone.say(utterance(1));
    await phoneCall(gw, 'POST', '/api/session/end', { session_id: phone.sessionId });
    expect(gw.app.ctx.calls.callerMemory.list()).toMatchObject([{ number: '+4930999888', total_calls: 1, turn_count: 2 }]);
    await form(gw, `session_id=${phone.sessionId}`);
    expect(gw.app.ctx.calls.callerMemory.list()).toMatchObject([{ number: '+4930999888', total_calls: 1, turn_count: 2 }]);
  });

  it('end: ok once, then ok:false; unknown ids ok:false; session.ended only when ok', async () => {
    gw = await startGateway();
    const events = await eventStream(gw.url);
    const sid = String((await phoneCall(gw, 'POST', '/api/session/new')).json.session_id);
    expect((await phoneCall(gw, 'POST', '/api/session/end', { session_id: ` ${sid} ` })).json).toEqual({ ok: true, session_id: sid });
    const ended = await events.waitFor((e) => e.type === 'session.ended' && e.session_id === sid);
    expect(ended.data).toEqual({ session_id: sid, reason: 'ended_by_api' });
    expect((await phoneCall(gw, 'POST', '/api/session/end', { session_id: sid })).json).toEqual({ ok: false, session_id: sid });
    expect((await phoneCall(gw, 'POST', '/api/session/end', { session_id: 'never-seen' })).json).toEqual({ ok: false, session_id: 'never-seen' });
    // a JSON body sent as text/plain is parsed too (upstream parses regardless of Content-Type)
    const sid2 = String((await phoneCall(gw, 'POST', '/api/session/new')).json.session_id);
    expect((await phoneCall(gw, 'POST', '/api/session/end', JSON.stringify({ session_id: sid2 }), { 'content-type': 'text/plain' })).json).toEqual({ ok: true, session_id: sid2 });
    expect(events.events.filter((e) => e.type === 'session.ended').map((e) => e.session_id)).toEqual([sid, sid2]);
    events.close();
  });

  it('end: a missing or empty session_id → 400 "session_id required"', async () => {
    gw = await startGateway();
    for (const body of [{}, { session_id: '' }, { session_id: '  ' }]) {
      expect(await phoneCall(gw, 'POST', '/api/session/end', body)).toMatchObject({ status: 400, json: { detail: 'session_id required' } });
    }
    expect((await phoneCall(gw, 'POST', '/api/session/end', { session_id: 5 })).status).toBe(400);
  });
});

describe('session TTL sweep', () => {
  it('ends an idle call from the sweep alone (no turn needed) with reason stale; the phone then gets a hangup', async () => {
    gw = await startGateway({ config: { session_ttl: 10 } });
    const events = await eventStream(gw.url);
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const sid = phone.sessionId;
    // nothing is due yet
    expect(gw.app.ctx.calls.sweep(Date.now() / 1000 + 5)).toEqual([]);
    expect(gw.app.ctx.calls.sweep(Date.now() / 1000 + 11)).toEqual([sid]);
    const ended = await events.waitFor((e) => e.type === 'session.ended' && e.session_id === sid);
    expect(ended.data).toEqual({ session_id: sid, reason: 'stale' });
    const r = await phone.say(utterance(1));
    expect(r.json).toMatchObject({ ended: true, hangup: true });
    expect(r.disconnect).toBe(true);
    events.close();
  });

  it('ends a phone call that runs past max_duration_sec plus the grace period (reason max_duration)', async () => {
    gw = await startGateway({ config: { max_duration_sec: 60, max_duration_grace_sec: 5 } });
    const events = await eventStream(gw.url);
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const s = gw.app.ctx.calls.get(phone.sessionId)!;
    const now = Date.now() / 1000;
    s.lastActivity = now + 64; // still talking, so not idle
    expect(gw.app.ctx.calls.sweep(now + 64)).toEqual([]);
    s.lastActivity = now + 66;
    expect(gw.app.ctx.calls.sweep(now + 66)).toEqual([phone.sessionId]);
    expect((await events.waitFor((e) => e.type === 'session.ended' && e.session_id === phone.sessionId)).data).toMatchObject({ reason: 'max_duration' });
    events.close();
  });

  it('the sweeper timer runs by itself', async () => {
    gw = await startGateway({ config: { session_ttl: 10 } });
    // started by app.start(), not by the test
    expect(gw.app.ctx.calls.sweeperRunning).toBe(true);
    const events = await eventStream(gw.url);
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const s = gw.app.ctx.calls.get(phone.sessionId)!;
    s.lastActivity -= 60; // idle for a minute
    gw.app.ctx.calls.startSweeper(25);
    const ended = await events.waitFor((e) => e.type === 'session.ended' && e.session_id === phone.sessionId);
    expect(ended.data).toMatchObject({ reason: 'stale' });
    events.close();
  });

  it('a turn keeps its call alive and the sweep on a turn ends other idle calls (session.ended for them)', async () => {
    gw = await startGateway({ config: { session_ttl: 10 } });
    const events = await eventStream(gw.url);
    const idle = String((await phoneCall(gw, 'POST', '/api/session/new')).json.session_id);
    gw.app.ctx.calls.get(idle)!.lastActivity -= 60;
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const e = await events.waitFor((x) => x.type === 'session.ended' && x.session_id === idle);
    expect(e.data).toMatchObject({ reason: 'stale' });
    expect(gw.app.ctx.calls.get(phone.sessionId)!.ended).toBe(false);
    events.close();
  });
});

describe('/api/asr', () => {
  it('answers {transcript, asr_ms} and the following /api/turn with the same bytes reuses the transcript', async () => {
    gw = await startGateway();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    gw.engines.transcripts.push('only once please');
    const wav = utterance(2, 24000, 3);
    const asr = await postForm(gw, [], wav, { path: '/api/asr' });
    expect(asr.status).toBe(200);
    expect(Object.keys(asr.json).sort()).toEqual(['asr_ms', 'transcript']);
    expect(asr.json.transcript).toBe('only once please');
    expect(typeof asr.json.asr_ms).toBe('number');
    const turn = await phone.say(wav, { skipAsrProbe: true });
    expect(turn.json.transcript).toBe('only once please');
    expect(gw.engines.asrCalls).toHaveLength(1);
    // different bytes → a new transcription
    await phone.say(utterance(2, 24000, 4));
    expect(gw.engines.asrCalls).toHaveLength(2);
  });

  it('transcribes twice when the cache is switched off (asr_cache_ttl_sec 0)', async () => {
    gw = await startGateway({ config: { asr_cache_ttl_sec: 0 } });
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    await phone.say(utterance(1));
    expect(gw.engines.asrCalls).toHaveLength(2);
  });

  it('silence transcribes to an empty transcript; needs no session; publishes no events', async () => {
    gw = await startGateway();
    const events = await eventStream(gw.url);
    const r = await postForm(gw, [], encodeWav(silence(16000, 500)), { path: '/api/asr' });
    expect(r.json.transcript).toBe('');
    expect((await call(gw, 'GET', '/api/status')).json).toMatchObject({ active_sessions: 0, total_calls: 0 });
    // a marker event proves the stream is live, and nothing came before it
    gw.app.ctx.bus.publish('status.update', '', { event: 'marker' });
    await events.waitFor((e) => e.type === 'status.update');
    expect(events.events.map((e) => e.type)).toEqual(['status.update']);
    events.close();
  });

  it('runs ASR once for concurrent /api/asr and /api/turn with the same bytes', async () => {
    gw = await startGateway();
    gw.engines.delay.asr = 100;
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    gw.engines.transcripts.push('racing');
    const wav = utterance(1, 24000, 7);
    const [asr, turn] = await Promise.all([postForm(gw, [], wav, { path: '/api/asr' }), phone.say(wav, { skipAsrProbe: true })]);
    expect(asr.json.transcript).toBe('racing');
    expect(turn.json.transcript).toBe('racing');
    expect(gw.engines.asrCalls).toHaveLength(1);
  });
});
