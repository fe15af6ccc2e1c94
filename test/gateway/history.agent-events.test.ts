/**
 * A real gateway flow — a phone call (PhoneSim), an agent taking it over, answering, releasing and
 * injecting speech over the agent WebSocket, then ending it — lands in history.sqlite: the call_events
 * rows (read straight from the SQLite file) say who did what in order, and the agent's turn is stored.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../agents/agent-client';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';

let gw: TestGateway;
afterEach(async () => gw?.close());

interface EventRow {
  type: string;
  data: string;
  at: number;
}

/** Read the rows as another process would: a separate read-only connection to the file. */
function readHistory(dataDir: string, sessionId: string) {
  const db = new Database(join(dataDir, 'history.sqlite'), { readonly: true });
  try {
    const call = db.prepare('SELECT pk, id, end_reason, handled_mask, turn_count FROM calls WHERE session_id = ?').get(sessionId) as
      | { pk: number; id: string; end_reason: string | null; turn_count: number }
      | undefined;
    if (!call) return { call: null, events: [] as EventRow[], turns: [] as { idx: number; producer: string; reply: string }[] };
    const events = db.prepare('SELECT type, data, at FROM call_events WHERE call_pk = ? ORDER BY pk').all(call.pk) as EventRow[];
    const turns = db.prepare('SELECT idx, producer, reply FROM turns WHERE call_pk = ? ORDER BY idx').all(call.pk) as { idx: number; producer: string; reply: string }[];
    return { call, events, turns };
  } finally {
    db.close();
  }
}

async function until<T>(read: () => T, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last value: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('call events in the SQLite history from a live gateway', () => {
  it('records takeover, release and inject by the agent, in order, with the agent turn and the end of the call', async () => {
    gw = await startGateway();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hello, this is the assistant.');
    const sid = phone.sessionId;

    const agent = await AgentClient.connect(gw.url, { name: 'scribe' });
    expect(await agent.request({ type: 'takeover', session_id: sid })).toMatchObject({ ok: true });
    gw.engines.transcripts.push('is the shop open on sunday');
    const turn = phone.say(utterance(2));
    const req = await agent.direct('turn.request');
    agent.send({ request_id: req.request_id, reply: 'Yes, from ten to four.' });
    await turn;
    expect(await agent.request({ type: 'release', session_id: sid })).toMatchObject({ ok: true });
    expect(await agent.request({ type: 'inject', session_id: sid, text: 'One more thing: we close early on holidays.' })).toMatchObject({ ok: true });
    expect(await agent.request({ type: 'end_session', session_id: sid })).toMatchObject({ ok: true });
    await agent.close();

    const h = await until(
      () => readHistory(gw.dataDir, sid),
      (v) => v.events.some((e) => e.type === 'agent.inject') && v.call?.end_reason != null,
    );
    const types = h.events.map((e) => e.type);
    const at = (t: string) => types.indexOf(t);
    expect(at('agent.takeover')).toBeGreaterThanOrEqual(0);
    expect(at('agent.takeover')).toBeLessThan(at('agent.release'));
    expect(at('agent.release')).toBeLessThan(at('agent.inject'));
    const data = (t: string) => JSON.parse(h.events.find((e) => e.type === t)!.data) as Record<string, unknown>;
    expect(data('agent.takeover')).toMatchObject({ agent: 'scribe' });
    expect(data('agent.release')).toMatchObject({ agent: 'scribe' });
    expect(data('agent.inject')).toMatchObject({ text: 'One more thing: we close early on holidays.' });
    // event times are real clock times, in order
    const times = h.events.map((e) => e.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.abs(times[times.length - 1] - Date.now() / 1000)).toBeLessThan(60);

    // the agent's answer is a stored turn of the same call, attributed to it
    const answered = h.turns.find((t) => t.reply === 'Yes, from ten to four.');
    expect(answered?.producer).toBe('agent:scribe');
    expect(h.call!.end_reason).toBe('ended_by_api');

    // the history API serves the same events
    const detail = (await (await fetch(`${gw.url}/api/calls/${h.call!.id}`)).json()) as { events: { type: string }[] };
    expect(detail.events.map((e) => e.type)).toEqual(types);
  });
});
