/**
 * Agent replies join the call's history like the model's (spec §7.4) and compaction still summarises
 * with the local model; the turn instruction is not consumed by agent turns (§9.1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { AgentClient } from './agent-client';

let gw: TestGateway;
afterEach(async () => gw.close());

describe('history during takeover', () => {
  it('keeps agent turns in history, compacts them with the local model, and leaves the turn instruction for the model', async () => {
    gw = await startGateway({ config: { max_history_turns: 1 } });
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hello.');
    const sid = phone.sessionId;
    const agent = await AgentClient.connect(gw.url, { name: 'scribe' });
    await agent.request({ type: 'takeover', session_id: sid });
    await agent.request({ type: 'set_instructions', instructions: 'Mention the opening hours.', session_id: sid, scope: 'turn' });

    gw.engines.reply = (messages) => (messages[0].content.startsWith('You summarise') ? 'Caller asked two things; the agent answered both.' : `Model: ${messages[messages.length - 1].content}`);
    gw.engines.transcripts.push('first question', 'second question', 'third question');
    for (const n of [1, 2]) {
      const turn = phone.say(utterance(2, 24000, n));
      const req = await agent.direct('turn.request');
      agent.send({ request_id: req.request_id, reply: `Agent answer ${n}.` });
      await turn;
    }
    // the second agent turn pushed history past one exchange: the local model summarised the first
    await agent.event('turn.complete', (e) => e.data.reply === 'Agent answer 2.');
    const waitForSummary = async () => {
      for (;;) {
        const s = gw.app.ctx.calls.get(sid)!;
        if (s.summary) return s;
        await new Promise((r) => setImmediate(r));
      }
    };
    const s = await waitForSummary();
    expect(s.summary).toBe('Caller asked two things; the agent answered both.');
    expect(s.history.map((m) => m.content)).toEqual(['second question', 'Agent answer 2.']);
    const summariser = gw.engines.llmCalls.find((c) => c.messages[0].content.startsWith('You summarise'))!;
    expect(summariser.messages[1].content).toBe('user: first question\nassistant: Agent answer 1.');
    expect(s.turnInstruction).toBe('Mention the opening hours.');

    await agent.request({ type: 'release', session_id: sid });
    await phone.say(utterance(2, 24000, 3));
    const last = gw.engines.llmCalls.find((c) => c.messages[c.messages.length - 1].content === 'third question')!.messages;
    expect(last[0].content).toContain('Mention the opening hours.');
    expect(last.some((m) => m.content.includes('Caller asked two things'))).toBe(true);
    await agent.close();
  });
});
