/**
 * The takeover deadline fits the phone's read timeout (phone spec: 45 s, no retries): it is
 * min(agent_takeover_timeout, 45 s − what the turn already took − the fallback margin); a draft still
 * being written is waited for only until the phone's budget ends; a takeover timeout the phone cannot
 * wait for is warned about at startup and on a config change.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PHONE_BUDGET, takeoverDeadlineMs } from '../../src-main/agents/takeover';
import { takeoverTimeoutWarning } from '../../src-shared/protocol/agent';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { AgentClient } from './agent-client';

let gw: TestGateway | undefined;
const open: AgentClient[] = [];
const saved = { ...PHONE_BUDGET };
beforeEach(() => Object.assign(PHONE_BUDGET, saved));
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
  const g = gw;
  gw = undefined;
  await g?.close();
  Object.assign(PHONE_BUDGET, saved);
});

async function setup(config: Record<string, unknown>) {
  gw = await startGateway({ config });
  const phone = new PhoneSim(gw.url, gw.bearer);
  await phone.greeting('Hello.');
  const agent = await AgentClient.connect(gw.url, { name: 'bot' });
  open.push(agent);
  return { gw, phone, sid: phone.sessionId, agent };
}

const logText = (g: TestGateway) => readdirSync(join(g.dataDir, 'logs')).map((f) => readFileSync(join(g.dataDir, 'logs', f), 'utf8')).join('\n');

async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('takeover deadline within the phone budget', () => {
  it('is the configured timeout when the phone has time, else what the phone still waits minus the margin', () => {
    expect(takeoverDeadlineMs(10, 1_000)).toBe(10_000);
    expect(takeoverDeadlineMs(60, 0)).toBe(40_000);
    expect(takeoverDeadlineMs(60, 2_500)).toBe(37_500);
    expect(takeoverDeadlineMs(35, 8_000)).toBe(32_000);
    expect(takeoverDeadlineMs(35, 44_000)).toBe(0);
  });

  it('counts the speech recognition time: the holder gets what is left, and the local model answers before the phone gives up', async () => {
    PHONE_BUDGET.readTimeoutMs = 4_000;
    PHONE_BUDGET.fallbackMarginMs = 1_000;
    const { gw, phone, sid, agent } = await setup({ agent_takeover_timeout: 60 });
    expect(await agent.request({ type: 'takeover', session_id: sid })).toMatchObject({ ok: true });
    gw.engines.delay.asr = 1_200;
    gw.engines.transcripts.push('hello there');
    const t0 = Date.now();
    const turn = phone.say(utterance(2), { skipAsrProbe: true });
    const req = await agent.direct('turn.request');
    expect(req.deadline_ms).toBeLessThanOrEqual(4_000 - 1_000 - 1_200);
    expect(req.deadline_ms).toBeGreaterThan(1_000);
    const res = await turn;
    const took = Date.now() - t0;
    expect(res.reply).toBe('You said: hello there. Anything else?');
    expect(took).toBeLessThan(4_000);
    expect(took).toBeGreaterThanOrEqual(2_900);
    const timeout = await agent.direct('turn.timeout');
    expect(timeout).toMatchObject({ request_id: req.request_id, fallback: 'local' });
    expect(String(timeout.detail)).toMatch(/no reply within 1\.\d s/);
  });

  it('a draft still being written when the budget ends: the holding phrase now, the draft on the next poll', async () => {
    PHONE_BUDGET.readTimeoutMs = 2_500;
    PHONE_BUDGET.fallbackMarginMs = 1_000;
    const { gw, phone, sid, agent } = await setup({ agent_takeover_timeout: 1 });
    expect(await agent.request({ type: 'takeover', session_id: sid, mode: 'draft' })).toMatchObject({ ok: true, mode: 'draft' });
    gw.engines.delay.llm = 3_000; // the local model needs longer than the phone would wait
    gw.engines.transcripts.push('what time is it', 'thanks');
    const t0 = Date.now();
    const res = await phone.say(utterance(2), { skipAsrProbe: true });
    const took = Date.now() - t0;
    expect(res.reply).toBe('One moment, please.');
    expect(took).toBeLessThan(2_500);
    const req = await agent.direct('turn.request');
    expect(await agent.direct('turn.holding')).toMatchObject({ request_id: req.request_id });
    // the draft arrives later: it is not lost, it is spoken as proposed on the caller's next turn
    expect(await agent.direct('turn.draft')).toMatchObject({ request_id: req.request_id, draft: 'You said: what time is it. Anything else?' });
    expect(await agent.direct('turn.timeout')).toMatchObject({ request_id: req.request_id, fallback: 'draft' });
    const inject = await agent.event('agent.inject');
    expect(inject.data).toMatchObject({ text: 'You said: what time is it. Anything else?' });
    expect(String(inject.data.producer)).toMatch(/^local:/);
    gw.engines.delay.llm = 0;
    const next = await phone.say(utterance(2, 24000, 2), { skipAsrProbe: true });
    expect(next.reply).toBe('You said: what time is it. Anything else?');
    // a late reply to the request is refused precisely
    agent.send({ request_id: req.request_id, reply: 'too late' });
    expect(await agent.direct('reply.ack')).toMatchObject({ ok: false, reason: 'not_pending' });
  });

  it('warns at startup and on a config change when agent_takeover_timeout exceeds what the phone waits', async () => {
    expect(takeoverTimeoutWarning(40)).toBeNull();
    expect(takeoverTimeoutWarning(60)).toMatch(/agent_takeover_timeout is 60 s/);
    gw = await startGateway({ config: { agent_takeover_timeout: 60 } });
    const g = gw;
    await waitFor(() => logText(g).includes('agent_takeover_timeout is 60 s'));
    expect(logText(g)).not.toContain('agent_takeover_timeout is 50 s');
    const file = join(g.dataDir, 'config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), agent_takeover_timeout: 50 }));
    const r = await fetch(`${g.url}/api/config`, { method: 'POST', headers: { authorization: `Bearer ${g.bearer}` } });
    expect(r.status).toBe(200);
    await waitFor(() => logText(g).includes('agent_takeover_timeout is 50 s'));
  });

  it('does not warn for a timeout the phone can wait for', async () => {
    gw = await startGateway({ config: { agent_takeover_timeout: 35 } });
    await new Promise((r) => setTimeout(r, 300));
    expect(logText(gw)).not.toContain('agent_takeover_timeout is');
  });
});
