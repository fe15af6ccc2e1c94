/**
 * Dial options (ours): the phone to use, a greeting and instructions for this call. The options wait
 * until the phone connects the outgoing call, then apply to that call only: the greeting turn speaks
 * the override, the assistant follows the instructions, the call shows the device.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { AgentClient, FakeBridge } from './agent-client';

let gw: TestGateway;
const open: AgentClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
  await gw.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(gw.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.bearer}` },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

const lastSystemPrompt = () => gw.engines.llmCalls[gw.engines.llmCalls.length - 1].messages[0].content;

describe('dial options', () => {
  it('REST: device, greeting and instructions reach the outgoing call the phone connects', async () => {
    const bridge = new FakeBridge();
    gw = await startGateway({ app: { phone: bridge } });
    const r = await post('/api/call/dial', { number: '030 123456', device: 'R58M12ABC', greeting: 'Hi, this is Ada calling about your parcel.', instructions: 'You are calling about parcel 42.' });
    expect(r).toEqual({
      status: 200,
      json: { ok: true, detail: 'Broadcast completed: result=0', number: '030123456', device: 'R58M12ABC', greeting: 'Hi, this is Ada calling about your parcel.', instructions: 'You are calling about parcel 42.' },
    });
    expect(bridge.dials).toEqual(['030123456']);
    expect(bridge.dialSerials).toEqual(['R58M12ABC']);

    // the phone reports the number in international format and sends the configured greeting
    const phone = new PhoneSim(gw.url, gw.bearer, '+4930123456', 'outgoing');
    const g = await phone.greeting('Hello, this is the assistant.');
    expect(g.reply).toBe('Hi, this is Ada calling about your parcel.');
    const s = gw.app.ctx.calls.get(phone.sessionId)!;
    expect(s.device).toBe('R58M12ABC');
    expect(s.sessionInstruction).toBe('You are calling about parcel 42.');

    await phone.say(utterance(2));
    expect(lastSystemPrompt()).toContain('You are calling about parcel 42.');
    expect(gw.app.ctx.calls.dials.size).toBe(0);

    // consumed once: the next outgoing call to that number gets the defaults again
    const again = new PhoneSim(gw.url, gw.bearer, '+4930123456', 'outgoing');
    expect((await again.greeting('Hello, this is the assistant.')).reply).toBe('Hello, this is the assistant.');
    expect(gw.app.ctx.calls.get(again.sessionId)!.sessionInstruction).toBe('');
  });

  it('an incoming call from the dialled number does not take the options; the outgoing call still does', async () => {
    const bridge = new FakeBridge();
    gw = await startGateway({ app: { phone: bridge } });
    await post('/api/call/dial', { number: '+4917099', greeting: 'Override greeting.' });
    const incoming = new PhoneSim(gw.url, gw.bearer, '+4917099', 'incoming');
    expect((await incoming.greeting('Default incoming.')).reply).toBe('Default incoming.');
    const outgoing = new PhoneSim(gw.url, gw.bearer, '+4917099', 'outgoing');
    expect((await outgoing.greeting('Default outgoing.')).reply).toBe('Override greeting.');
  });

  it('a call to another number, or a failed dial, leaves nothing behind', async () => {
    const bridge = new FakeBridge();
    gw = await startGateway({ app: { phone: bridge } });
    await post('/api/call/dial', { number: '+4917011111', instructions: 'Only for 111.' });
    const other = new PhoneSim(gw.url, gw.bearer, '+4917022222', 'outgoing');
    await other.greeting('Hello.');
    expect(gw.app.ctx.calls.get(other.sessionId)!.sessionInstruction).toBe('');
    expect(gw.app.ctx.calls.dials.size).toBe(1);

    bridge.ok = false;
    const failed = await post('/api/call/dial', { number: '+4917033333', instructions: 'Never placed.' });
    expect(failed.json).toMatchObject({ ok: false, detail: 'No ADB device connected' });
    expect(gw.app.ctx.calls.dials.size).toBe(1);
  });

  it('the greeting override may name the owner like the configured greetings', async () => {
    const bridge = new FakeBridge();
    gw = await startGateway({ app: { phone: bridge }, config: { greeting_owner: 'Grace' } });
    await post('/api/call/dial', { number: '+4917012', greeting: 'Hello, I am calling for {owner}.' });
    const phone = new PhoneSim(gw.url, gw.bearer, '+4917012', 'outgoing');
    expect((await phone.greeting('Hello.')).reply).toBe('Hello, I am calling for Grace.');
  });

  it('bad options get a 400 naming the field, the bridge never sees them and the server stays up', async () => {
    const bridge = new FakeBridge();
    gw = await startGateway({ app: { phone: bridge } });
    for (const [body, field] of [
      [{ number: '+4917012', device: 'R58; reboot' }, 'device'],
      [{ number: '+4917012', device: '' }, 'device'],
      [{ number: '+4917012', greeting: 'x'.repeat(2001) }, 'greeting'],
      [{ number: '+4917012', instructions: 42 }, 'instructions'],
    ] as const) {
      const r = await post('/api/call/dial', body);
      expect(r.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(JSON.stringify(r.json), field).toContain(field);
    }
    expect(bridge.dials).toEqual([]);
    expect((await post('/api/call/dial', { number: '+4917012' })).json).toMatchObject({ ok: true });
  });

  it('WebSocket dial takes the same options and echoes them in the ack', async () => {
    const bridge = new FakeBridge();
    gw = await startGateway({ app: { phone: bridge } });
    const a = await AgentClient.connect(gw.url, { name: 'dialer' });
    open.push(a);
    expect(await a.request({ type: 'dial', number: '+4930555', device: 'emulator-5554', instructions: 'Book a table for two.' })).toMatchObject({
      type: 'dial.ack', ok: true, number: '+4930555', device: 'emulator-5554', instructions: 'Book a table for two.',
    });
    expect(bridge.dialSerials).toEqual(['emulator-5554']);
    const bad = await a.request({ type: 'dial', number: '+4930555', device: 'bad serial' });
    expect(bad).toMatchObject({ type: 'dial.ack', ok: false, reason: 'invalid' });
    expect(JSON.stringify(bad)).toContain('device');
    expect(bridge.dials).toEqual(['+4930555']);
    const phone = new PhoneSim(gw.url, gw.bearer, '+4930555', 'outgoing');
    await phone.greeting('Hello.');
    await phone.say(utterance(1));
    expect(lastSystemPrompt()).toContain('Book a table for two.');
  });
});
