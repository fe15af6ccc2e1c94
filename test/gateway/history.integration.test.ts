/** Calls through the real gateway land in the SQLite history: phone calls and a mock call replayed from a WAV. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav } from '../../src-shared/audio/wav';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { buildTrack, missingSpeechTools } from '../helpers/speech-fixtures';

let gw: TestGateway;
beforeEach(async () => {
  gw = await startGateway();
});
afterEach(async () => gw.close());

type CallList = { calls: { id: string; session_id: string; direction: string; turn_count: number }[] };
type CallDetail = { turns: { index: number; transcript: string; reply: string; producer: string; recordings?: Record<string, string> }[] };

describe('call history from live calls', () => {
  it('records a phone call turn by turn with its audio, searchable by what was said', async () => {
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hello, this is the assistant.');
    gw.engines.transcripts.push('I would like to book the blue room');
    await phone.say(utterance(2));
    const list = (await fetch(`${gw.url}/api/calls?q=blue`).then((r) => r.json())) as CallList;
    expect(list.calls.map((c) => c.session_id)).toEqual([phone.sessionId]);
    const id = list.calls[0].id;
    const detail = (await fetch(`${gw.url}/api/calls/${id}`).then((r) => r.json())) as CallDetail;
    expect(detail.turns.map((t) => t.producer)).toEqual(['forced', 'local:instant-llm']);
    expect(detail.turns[1].transcript).toBe('I would like to book the blue room');
    const audio = await fetch(`${gw.url}/api/calls/${id}/audio/1/reply`);
    expect(audio.status).toBe(200);
    expect(parseWav(new Uint8Array(await audio.arrayBuffer())).sampleRate).toBe(24000);
    const caller = await fetch(`${gw.url}/api/calls/${id}/audio/1/caller`);
    expect(parseWav(new Uint8Array(await caller.arrayBuffer())).sampleRate).toBe(24000);
    // upstream's session routes are served from the same history
    const sessions = (await fetch(`${gw.url}/api/sessions`).then((r) => r.json())) as { session_id: string; turn_count: number }[];
    expect(sessions.find((s) => s.session_id === phone.sessionId)?.turn_count).toBe(2);
  });

  it.skipIf(missingSpeechTools().length > 0)(`a mock call replayed from a spoken WAV runs through the real VAD and pipeline into history${missingSpeechTools().length ? ` — skipped: missing ${missingSpeechTools().join(', ')}` : ''}`, async () => {
    const track = await buildTrack([{ pause: 600 }, { say: 'Hello, is anybody there?' }, { pause: 1500 }, { say: 'I need a table for four.' }, { pause: 1500 }]);
    const file = join(gw.dataDir, 'caller.wav');
    writeFileSync(file, track.wav);
    gw.engines.transcripts.push('hello is anybody there', 'i need a table for four');
    const events = await eventStream(gw.url);
    const start = await fetch(`${gw.url}/api/mock-call/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'file', path: file, sink: 'none' }) });
    expect(start.status).toBe(200);
    const done = await events.waitFor((e) => e.type === 'turn.complete' && (e.data as { transcript?: string }).transcript === 'i need a table for four', 60_000);
    const sid = done.session_id;
    expect(gw.app.ctx.calls.get(sid)?.direction).toBe('mock');
    const stop = await fetch(`${gw.url}/api/mock-call/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(stop.status).toBe(200);
    const ended = await events.waitFor((e) => e.type === 'session.ended' && e.session_id === sid, 20_000);
    expect((ended.data as { reason: string }).reason).toBe('mock_stopped');
    const list = (await fetch(`${gw.url}/api/calls?direction=mock`).then((r) => r.json())) as CallList;
    expect(list.calls[0].session_id).toBe(sid);
    const detail = (await fetch(`${gw.url}/api/calls/${list.calls[0].id}`).then((r) => r.json())) as CallDetail;
    expect(detail.turns.filter((t) => t.producer.startsWith('local:')).map((t) => t.transcript)).toEqual(['hello is anybody there', 'i need a table for four']);
    events.close();
  });
});
