/**
 * Every bad input on the phone API answers with a clear 4xx, and afterwards the server still answers
 * and the call that was running before is intact (same session, same history, next turn fine).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src-shared/audio/wav';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, rawRequest, utterance } from '../helpers/phone-sim';
import { call, phoneCall, postForm, turnTypes } from './support';

let gw: TestGateway;
let phone: PhoneSim;
let history: unknown[];

/** A WAV header with any format fields around a data chunk. */
function wavWith(format: number, bits: number, channels: number, rate: number, dataBytes = 4000): Uint8Array {
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode('RIFF'), 0);
  v.setUint32(4, 36 + dataBytes, true);
  out.set(new TextEncoder().encode('WAVEfmt '), 8);
  v.setUint32(16, 16, true);
  v.setUint16(20, format, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, (rate * channels * bits) / 8, true);
  v.setUint16(32, (channels * bits) / 8, true);
  v.setUint16(34, bits, true);
  out.set(new TextEncoder().encode('data'), 36);
  v.setUint32(40, dataBytes, true);
  for (let i = 44; i < out.length; i++) out[i] = (i * 31) & 0xff;
  return out;
}

beforeAll(async () => {
  gw = await startGateway({ config: { max_upload_bytes: 64 * 1024 } });
  phone = new PhoneSim(gw.url, gw.bearer);
  await phone.greeting('Hi');
  gw.engines.transcripts.push('remember this');
  await phone.say(utterance(1));
  history = structuredClone(gw.app.ctx.calls.get(phone.sessionId)!.history);
  expect(history).toHaveLength(2);
});
afterAll(async () => gw.close());

/** After every bad request: the server answers and the running call is untouched. */
async function stillFine() {
  const h = await phoneCall(gw, 'GET', '/health');
  expect(h.status).toBe(200);
  expect(h.json.ok).toBe(true);
  const s = gw.app.ctx.calls.get(phone.sessionId)!;
  expect(s.ended).toBe(false);
  expect(s.history).toEqual(history);
}

describe('bad input on the phone API', () => {
  beforeEach(() => {
    gw.engines.asrCalls.length = 0;
  });

  it('no audio part → 422', async () => {
    const r = await postForm(gw, [['session_id', phone.sessionId], ['reset_session', 'false']], null);
    expect(r.status).toBe(422);
    expect(String(r.json.detail)).toMatch(/audio/);
    const asr = await postForm(gw, [], null, { path: '/api/asr' });
    expect(asr.status).toBe(422);
    await stillFine();
  });

  it('a body that is not multipart → 422', async () => {
    for (const [ct, body] of [['application/json', JSON.stringify({ session_id: phone.sessionId })], ['application/x-www-form-urlencoded', `session_id=${phone.sessionId}`], ['application/octet-stream', 'RIFF....']]) {
      const r = await phoneCall(gw, 'POST', '/api/turn', body, { 'content-type': ct });
      expect(r.status, ct).toBe(422);
      expect(r.json.detail).toBeTruthy();
    }
    const none = await phoneCall(gw, 'POST', '/api/turn');
    expect(none.status).toBe(422);
    await stillFine();
  });

  it('a malformed multipart body (no boundary, truncated) → 400 naming the problem', async () => {
    const noBoundary = await phoneCall(gw, 'POST', '/api/turn', '--x\r\n', { 'content-type': 'multipart/form-data' });
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.json.detail).toMatch(/boundary/);
    const b = '----PhoneBridge1';
    const truncated = `--${b}\r\nContent-Disposition: form-data; name="session_id"\r\n\r\n${phone.sessionId}\r\n--${b}\r\nContent-Disposition: form-data; name="audio"; filename="turn.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF`;
    const r = await phoneCall(gw, 'POST', '/api/turn', truncated, { 'content-type': `multipart/form-data; boundary=${b}` });
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(/truncated/);
    await stillFine();
  });

  it('garbage instead of a WAV → 400 on /api/turn and /api/asr, no ASR run', async () => {
    for (const junk of [new TextEncoder().encode('definitely not audio'), new Uint8Array(0), new Uint8Array(5000).fill(0x41)]) {
      const r = await postForm(gw, [['session_id', phone.sessionId]], junk);
      expect(r.status).toBe(400);
      expect(r.json.detail).toMatch(/^invalid audio: /);
      const a = await postForm(gw, [], junk, { path: '/api/asr' });
      expect(a.status).toBe(400);
      expect(a.json.detail).toMatch(/^invalid audio: /);
    }
    expect(gw.engines.asrCalls).toHaveLength(0);
    await stillFine();
  });

  it('a turn with unusable audio is closed for the console: turn.started then turn.error', async () => {
    const events = await eventStream(gw.url);
    const sid = String((await phoneCall(gw, 'POST', '/api/session/new')).json.session_id);
    const r = await postForm(gw, [['session_id', sid]], new TextEncoder().encode('junk'));
    expect(r.status).toBe(400);
    const err = await events.waitFor((e) => e.type === 'turn.error' && e.session_id === sid);
    expect(String((err.data as { error: string }).error)).toMatch(/^invalid audio/);
    expect(turnTypes(events.events, sid)).toEqual(['turn.started', 'turn.error']);
    events.close();
    await stillFine();
  });

  it('8-bit, float, 24-bit and 96 kHz WAVs → 400 saying what is expected', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [wavWith(1, 8, 1, 16000), /16-bit PCM/],
      [wavWith(3, 32, 1, 16000), /16-bit PCM.*float/],
      [wavWith(1, 24, 1, 16000, 3000), /16-bit PCM/],
      [wavWith(1, 16, 1, 96000), /96000 Hz/],
      [wavWith(1, 16, 1, 4000), /4000 Hz/],
      [wavWith(1, 16, 6, 16000, 6000), /channel count 6/],
      [wavWith(2, 4, 1, 16000), /format tag 2/],
    ];
    for (const [wav, msg] of cases) {
      const r = await postForm(gw, [['session_id', phone.sessionId]], wav);
      expect(r.status).toBe(400);
      expect(r.json.detail).toMatch(msg);
    }
    expect(gw.engines.asrCalls).toHaveLength(0);
    await stillFine();
  });

  it('stereo 16-bit at 8 and 48 kHz is accepted', async () => {
    for (const rate of [8000, 48000]) {
      const r = await postForm(gw, [['session_id', phone.sessionId]], wavWith(1, 16, 2, rate, 8000), { path: '/api/asr' });
      expect(r.status).toBe(200);
      expect(typeof r.json.transcript).toBe('string');
    }
    expect(gw.engines.asrCalls.map((c) => c.audio.sampleRate)).toEqual([8000, 48000]);
    expect(gw.engines.asrCalls[0].audio.samples.length).toBe(2000); // 8000 bytes / 4 bytes per stereo frame
  });

  it('wrong or missing bearer → 401 {"detail":"Unauthorized"} on every phone route', async () => {
    for (const bearer of [null, 'wrong-bearer', `${gw.bearer}x`]) {
      const r = await postForm(gw, [['session_id', phone.sessionId]], utterance(0.5), { bearer });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ detail: 'Unauthorized' });
    }
    for (const [method, path] of [['GET', '/health'], ['POST', '/api/session/new'], ['POST', '/api/session/end'], ['POST', '/api/session/reset'], ['POST', '/api/asr']]) {
      expect((await call(gw, method, path, method === 'POST' ? {} : undefined)).status, path).toBe(401);
      expect((await call(gw, method, path, method === 'POST' ? {} : undefined, { Authorization: 'Bearer nope' })).status, path).toBe(401);
    }
    // the scheme is case-sensitive and exactly one space, as upstream compares it
    expect((await call(gw, 'GET', '/health', undefined, { Authorization: `bearer ${gw.bearer}` })).status).toBe(401);
    expect((await call(gw, 'GET', '/health', undefined, { Authorization: `Bearer  ${gw.bearer}` })).status).toBe(401);
    await stillFine();
  });

  it('a body over max_upload_bytes → 413 naming the limit', async () => {
    const big = encodeWav({ sampleRate: 24000, samples: new Int16Array(24000 * 3) }); // ~144 KB > 64 KB
    const boundary = '----PhoneBridge2';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="turn.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
    const body = Buffer.concat([Buffer.from(head), Buffer.from(big), Buffer.from(`\r\n--${boundary}--\r\n`)]);
    let status = 0;
    let text = '';
    try {
      const r = await rawRequest(gw.url, { method: 'POST', path: '/api/turn', body, headers: { Authorization: `Bearer ${gw.bearer}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` } });
      status = r.status;
      text = r.body.toString();
    } catch (e) {
      // the server may close the connection while the client is still sending; that is not a 413
      throw new Error(`request failed instead of answering 413: ${(e as Error).message}`);
    }
    expect(status).toBe(413);
    expect(JSON.parse(text).detail).toMatch(/65536 bytes/);
    await stillFine();
  });

  it('invalid JSON and non-object JSON on JSON routes → 400', async () => {
    for (const body of ['{not json', '[1,2,3]', '"a string"', '42', 'null']) {
      const r = await phoneCall(gw, 'POST', '/api/session/end', body);
      expect(r.status, body).toBe(400);
      expect(r.json.detail, body).toMatch(/JSON/);
      const c = await call(gw, 'POST', '/api/config/call', body);
      expect(c.status, body).toBe(400);
    }
    await stillFine();
  });

  it('unknown or already-ended session end → ok:false, nothing else changes', async () => {
    expect((await phoneCall(gw, 'POST', '/api/session/end', { session_id: 'deadbeef' })).json).toEqual({ ok: false, session_id: 'deadbeef' });
    const sid = String((await phoneCall(gw, 'POST', '/api/session/new')).json.session_id);
    expect((await phoneCall(gw, 'POST', '/api/session/end', { session_id: sid })).json.ok).toBe(true);
    expect((await phoneCall(gw, 'POST', '/api/session/end', { session_id: sid })).json).toEqual({ ok: false, session_id: sid });
    await stillFine();
  });

  it('an invalid session id ("../x", slashes, too long) → 400 on turn, reset and end', async () => {
    for (const bad of ['../x', 'a/b', '..', '.hidden', 'x'.repeat(129), 'a b\u0000c/..']) {
      const t = await postForm(gw, [['session_id', bad]], utterance(0.5));
      expect(t.status, bad).toBe(400);
      expect(t.json.detail).toMatch(/invalid session_id/);
      const r = await call(gw, 'POST', '/api/session/reset', `session_id=${encodeURIComponent(bad)}`, { 'content-type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${gw.bearer}` });
      expect(r.status, bad).toBe(400);
      const e = await phoneCall(gw, 'POST', '/api/session/end', { session_id: bad });
      expect(e.status, bad).toBe(400);
      expect(e.json.detail).toMatch(/invalid session_id/);
    }
    expect(gw.app.ctx.calls.all().some((s) => s.id.includes('/') || s.id.startsWith('.'))).toBe(false);
    await stillFine();
  });

  it('the call that was running before all of this still works', async () => {
    gw.engines.transcripts.push('still there?');
    const r = await phone.say(utterance(1, 24000, 8));
    expect(r.json).toMatchObject({ ok: true, session_id: phone.sessionId, transcript: 'still there?' });
    const messages = gw.engines.llmCalls.at(-1)!.messages.map((m) => m.content);
    expect(messages).toContain('remember this');
  });
});
