/** `/api/turn/stream` (phone spec §1.5, switched off in the current APK): NDJSON events and a WAV in chunks. */
import { afterEach, describe, expect, it } from 'vitest';
import { phoneWavProblem } from '../../src-shared/audio/wav';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { phoneMultipart, rawRequest, utterance } from '../helpers/phone-sim';
import { phoneCall } from './support';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function stream(g: TestGateway, fields: [string, string][], audio: Uint8Array) {
  const boundary = `----PhoneBridge${Date.now()}`;
  const r = await rawRequest(g.url, {
    method: 'POST', path: '/api/turn/stream', body: phoneMultipart(boundary, fields, audio),
    headers: { Authorization: `Bearer ${g.bearer}`, 'Content-Type': `multipart/form-data; boundary=${boundary}`, Accept: 'application/x-ndjson' },
  });
  const lines = r.body.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, type: r.headers['content-type'], lines };
}

describe('/api/turn/stream', () => {
  it('streams session → asr → reply → audio chunks → done; the chunks form a valid WAV', async () => {
    gw = await startGateway();
    gw.engines.transcripts.push('streaming works');
    const r = await stream(gw, [['reset_session', 'true'], ['caller_number', '+491'], ['call_direction', 'incoming']], utterance(1));
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/application\/x-ndjson/);
    const events = r.lines.map((l) => l.event);
    expect(events[0]).toBe('session');
    expect(events.slice(1, 3)).toEqual(['asr', 'reply']);
    expect(events.at(-1)).toBe('done');
    const sid = r.lines[0].session_id;
    expect(sid).toMatch(/^[0-9a-f]{32}$/);
    expect(r.lines.at(-1)).toEqual({ event: 'done', session_id: sid });
    expect(r.lines[1]).toEqual({ event: 'asr', transcript: 'streaming works' });
    const chunks = r.lines.filter((l) => l.event === 'audio');
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    const wav = Buffer.concat(chunks.map((c) => Buffer.from(String(c.chunk_base64), 'base64')));
    expect(phoneWavProblem(new Uint8Array(wav))).toBeNull();
    expect(gw.app.ctx.calls.get(String(sid))!.history).toHaveLength(2);
  });

  it('ends with an error event for an ended session, and bad input gets a plain 4xx', async () => {
    gw = await startGateway();
    const sid = String((await phoneCall(gw, 'POST', '/api/session/new')).json.session_id);
    await phoneCall(gw, 'POST', '/api/session/end', { session_id: sid });
    const r = await stream(gw, [['session_id', sid]], utterance(1));
    expect(r.lines.at(-1)).toMatchObject({ event: 'error' });
    const bad = await rawRequest(gw.url, { method: 'POST', path: '/api/turn/stream', body: Buffer.from('{}'), headers: { Authorization: `Bearer ${gw.bearer}`, 'Content-Type': 'application/json' } });
    expect(bad.status).toBe(422);
    expect((await phoneCall(gw, 'GET', '/health')).status).toBe(200);
  });
});
