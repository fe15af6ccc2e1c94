/**
 * A browser mock call (the console's microphone in the page) through the real app: its turns are the
 * phone's multipart form posted to /api/mock-call/turn, they run as a mock session (history direction
 * `mock`), /api/mock-call/stop {id: session id} ends it, and a phone call can never be taken over
 * through these routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, SILENCE_WAV, utterance } from '../helpers/phone-sim';
import { call, postForm } from '../gateway/support';

let gw: TestGateway;
let stream: Awaited<ReturnType<typeof eventStream>>;

beforeAll(async () => {
  gw = await startGateway();
  stream = await eventStream(gw.url);
});
afterAll(async () => {
  stream.close();
  await gw.close();
});

const mockTurn = (fields: [string, string][], audio: Uint8Array | null = SILENCE_WAV, bearer: string | null = null) =>
  postForm(gw, fields, audio, { path: '/api/mock-call/turn', bearer });

async function greetMock(): Promise<string> {
  const r = await mockTurn([['reset_session', 'true'], ['transcript_hint', 'Hello there.'], ['forced_reply', 'Hello there.']]);
  expect(r.status).toBe(200);
  expect(r.json.reply).toBe('Hello there.');
  return r.json.session_id as string;
}

describe('browser mock call routes', () => {
  it('runs the greeting and a spoken turn as a mock call, recorded with direction mock', async () => {
    const sid = await greetMock();
    const turn = await mockTurn([['reset_session', 'false'], ['session_id', sid]], utterance(1, 16000, 3));
    expect(turn.status).toBe(200);
    expect(turn.json).toMatchObject({ ok: true, session_id: sid });
    expect(typeof turn.json.audio_base64).toBe('string');
    const started = await stream.waitFor((e) => e.type === 'session.started' && e.session_id === sid);
    expect(started.data.direction).toBe('mock');

    const stop = await call(gw, 'POST', '/api/mock-call/stop', { id: sid });
    expect(stop.status).toBe(200);
    expect(stop.json).toMatchObject({ ok: true, session_ended: sid });
    const ended = await stream.waitFor((e) => e.type === 'session.ended' && e.session_id === sid);
    expect(ended.data.reason).toBe('mock_stopped');

    const detail = await call(gw, 'GET', `/api/calls/${sid}`);
    expect(detail.json.call).toMatchObject({ direction: 'mock', end_reason: 'mock_stopped' });
    expect((detail.json.turns as unknown[]).length).toBe(2);

    // stopping it again: nothing to stop
    expect((await call(gw, 'POST', '/api/mock-call/stop', { id: sid })).status).toBe(404);
  });

  it('a phone call cannot be continued or ended through the mock routes', async () => {
    const phone = new PhoneSim(gw.url, gw.bearer, '+4917000000001');
    await phone.greeting('Hi, phone here.');
    const hijack = await mockTurn([['reset_session', 'false'], ['session_id', phone.sessionId]], utterance(1, 16000, 4));
    expect(hijack.status).toBe(409);
    expect(String(hijack.json.detail)).toContain('not a mock call');
    const stop = await call(gw, 'POST', '/api/mock-call/stop', { id: phone.sessionId });
    expect(stop.status).toBe(404);
    // the phone call goes on untouched
    const next = await phone.say(utterance(1, 24000, 5));
    expect(next.status).toBe(200);
    expect(next.reply).toBeTruthy();
    const sessions = await call(gw, 'GET', '/api/sessions');
    expect(JSON.stringify(sessions.json)).toContain(phone.sessionId);
  });

  it('bad bodies get a clear 4xx and the gateway keeps serving', async () => {
    const noAudio = await mockTurn([['reset_session', 'true']], null);
    expect(noAudio.status).toBe(422);
    expect(String(noAudio.json.detail)).toContain('audio');
    const json = await call(gw, 'POST', '/api/mock-call/turn', { reset_session: true });
    expect(json.status).toBe(422);
    const badStop = await call(gw, 'POST', '/api/mock-call/stop', { id: '../etc/passwd' });
    expect(badStop.status).toBe(400);
    // still up
    await greetMock();
  });

  it('is an operator route: with agent tokens required, neither no token nor the phone bearer opens it', async () => {
    const strict = await startGateway({ config: { agent_token_required: true } });
    try {
      const fields: [string, string][] = [['reset_session', 'true'], ['forced_reply', 'Hi.']];
      expect((await postForm(strict, fields, SILENCE_WAV, { path: '/api/mock-call/turn', bearer: null })).status).toBe(401);
      expect((await postForm(strict, fields, SILENCE_WAV, { path: '/api/mock-call/turn', bearer: strict.bearer })).status).toBe(401);
      const ok = await postForm(strict, fields, SILENCE_WAV, { path: '/api/mock-call/turn', bearer: strict.operatorToken });
      expect(ok.status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});
