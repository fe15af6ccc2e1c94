/** 100 agents connected at once all receive the full event stream in upstream's envelope. */
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { AgentClient } from './agent-client';

let gw: TestGateway;
const open: AgentClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
  await gw.close();
});

describe('event stream fan-out', () => {
  it('delivers every event of a call, in order, to 100 concurrent agents; each disconnect is counted', async () => {
    gw = await startGateway();
    const N = 100;
    open.push(...(await Promise.all(Array.from({ length: N }, (_, i) => AgentClient.connect(gw.url, { name: `agent-${i}` })))));
    // the last to connect saw itself counted among all of them
    const counts = await Promise.all(open.map((a) => a.event('agent.connected', (e) => e.data.agent === a.ws.url.split('name=')[1])));
    expect(Math.max(...counts.map((c) => Number(c.data.agent_count)))).toBe(N);
    const status = (await (await fetch(`${gw.url}/api/status`)).json()) as { agents: unknown[] };
    expect(status.agents).toHaveLength(N);

    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hello.');
    gw.engines.transcripts.push('is everyone listening');
    const r = await phone.say(utterance(2));
    const sid = phone.sessionId;

    const seen = await Promise.all(open.map((a) => a.event('turn.complete', (e) => e.session_id === sid && e.data.reply === r.reply)));
    for (const e of seen) {
      expect(e).toMatchObject({ type: 'turn.complete', session_id: sid, data: { transcript: 'is everyone listening', reply: r.reply } });
      expect(typeof e.timestamp).toBe('number');
    }
    // every agent got the same sequence of this call's turn events
    const sequence = (a: AgentClient) => a.frames.filter((f) => 'data' in f && f.session_id === sid && String(f.type).startsWith('turn.') && f.type !== 'turn.metrics').map((f) => f.type);
    const first = sequence(open[0]);
    expect(first).toEqual(['turn.started', 'turn.reply', 'turn.complete', 'turn.started', 'turn.transcript', 'turn.reply', 'turn.complete']);
    for (const a of open) expect(sequence(a)).toEqual(first);

    const watcher = open[0];
    await Promise.all(open.slice(1).map((a) => a.close()));
    const gone = await watcher.event('agent.disconnected', (e) => e.data.agent_count === 1);
    expect(gone.data).toMatchObject({ agent_count: 1 });
  });
});
