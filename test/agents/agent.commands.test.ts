/**
 * The remaining upstream WebSocket commands (spec §7.2) with their exact ack shapes: set_instructions,
 * set_call_config, get_call_state, inject_context / clear_context, end_session, hangup, dial, inject.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

async function setup(opts: Parameters<typeof startGateway>[0] = {}) {
  gw = await startGateway(opts);
  const phone = new PhoneSim(gw.url, gw.bearer);
  await phone.greeting('Hello.');
  const a = await AgentClient.connect(gw.url, { name: 'cmd' });
  open.push(a);
  return { phone, sid: phone.sessionId, a };
}

describe('agent commands', () => {
  it('set_instructions: session and turn scopes, upstream refusals for global and a missing session', async () => {
    const { phone, sid, a } = await setup();
    expect(await a.request({ type: 'set_instructions', instructions: 'Be brief.', scope: 'global', session_id: sid })).toMatchObject({
      type: 'set_instructions.ack', ok: false, error: 'Global scope disabled. Use session or turn scope.',
    });
    expect(await a.request({ type: 'set_instructions', instructions: 'Be brief.', scope: 'session' })).toMatchObject({ ok: false, error: 'Missing session_id for session/turn scope.' });
    expect(await a.request({ type: 'set_instructions', instructions: 'Be brief.', scope: 'planet', session_id: sid })).toMatchObject({ ok: false, error: 'Missing session_id for session/turn scope.' });
    expect(await a.request({ type: 'set_instructions', instructions: 'x', session_id: 'unknown-call' })).toMatchObject({ ok: false, reason: 'unknown_session' });

    expect(await a.request({ type: 'set_instructions', instructions: 'You are a pirate.', scope: 'session', session_id: sid })).toEqual(expect.objectContaining({ type: 'set_instructions.ack', ok: true, scope: 'session' }));
    expect((await a.event('instructions.updated')).data).toEqual({ scope: 'session', session_id: sid });
    // default scope is turn (upstream)
    expect(await a.request({ type: 'set_instructions', instructions: 'Mention the treasure.', session_id: sid })).toMatchObject({ ok: true, scope: 'turn' });
    const state = await a.request({ type: 'get_call_state', session_id: sid }, 'call_state');
    expect(state.instructions).toEqual({ base: '', session: 'You are a pirate.', pending_turn: 'Mention the treasure.' });

    await phone.say(utterance(2));
    const sys = gw.engines.llmCalls[gw.engines.llmCalls.length - 1].messages[0].content;
    expect(sys).toBe('You are a pirate.\n\nMention the treasure.');
  });

  it('set_call_config applies only agent-allowed keys, validates values and saves them', async () => {
    const { a } = await setup();
    const r = await a.request({ type: 'set_call_config', config: { greeting_owner: 'Ada', keep_history: true, auth_passphrase: 'open sesame', caller_blocklist: ['+1'], llm_base_url: 'http://evil' } });
    expect(r).toMatchObject({ type: 'set_call_config.ack', ok: true, applied: ['greeting_owner', 'keep_history'] });
    expect(r.ignored).toEqual(['auth_passphrase', 'caller_blocklist', 'llm_base_url']);
    const ev = await a.event('config.call_updated');
    expect(ev.data).toMatchObject({ greeting_owner: 'Ada', keep_history: true, auth_required: false });
    const cfg = gw.app.ctx.config.get();
    expect(cfg.auth_passphrase).toBe('');
    expect(cfg.llm_base_url).toBe('');
    expect(JSON.parse(readFileSync(join(gw.dataDir, 'config.json'), 'utf8'))).toMatchObject({ greeting_owner: 'Ada', keep_history: true });
    const bad = await a.request({ type: 'set_call_config', config: { max_duration_sec: -5 } });
    expect(bad).toMatchObject({ ok: false, reason: 'invalid' });
    expect(String(bad.detail)).toContain('max_duration_sec');
  });

  it('get_call_state reports active, ended and unknown calls in upstream’s shape', async () => {
    const { phone, sid, a } = await setup();
    gw.engines.transcripts.push('hi there');
    await phone.say(utterance(2));
    const st = await a.request({ type: 'get_call_state', session_id: sid }, 'call_state');
    expect(st).toMatchObject({ type: 'call_state', session_id: sid, status: 'active', ended_at: null, turn_count: 2, agent_takeover: false, holder: null });
    expect(st).not.toHaveProperty('created_at');
    expect(st.history).toEqual([{ role: 'user', content: 'hi there' }, { role: 'assistant', content: 'You said: hi there. Anything else?' }]);
    expect(await a.request({ type: 'get_call_state', session_id: 'nobody' }, 'call_state')).toMatchObject({ status: 'unknown', history: [], turn_count: 0 });
    await a.request({ type: 'end_session', session_id: sid });
    const ended = await a.request({ type: 'get_call_state', session_id: sid }, 'call_state');
    expect(ended.status).toBe('ended');
    expect(typeof ended.ended_at).toBe('number');
  });

  it('inject_context / clear_context set and clear the call’s knowledge; end_session without an id is refused', async () => {
    const { sid, a } = await setup();
    expect(await a.request({ type: 'inject_context', session_id: sid, context: 'Order  #42\nships Monday.' })).toMatchObject({ type: 'inject_context.ack', ok: true });
    expect((await a.event('agent.context_injected')).data).toEqual({ session_id: sid });
    expect(gw.app.ctx.calls.get(sid)?.knowledge).toBe('Order #42 ships Monday.');
    expect(await a.request({ type: 'inject_context', session_id: sid, context: '   ' })).toMatchObject({ ok: false });
    expect(await a.request({ type: 'inject_context', session_id: '', context: 'x' })).toMatchObject({ ok: false });
    expect(await a.request({ type: 'inject_context', session_id: 'ghost', context: 'x' })).toMatchObject({ ok: false, reason: 'unknown_session' });
    expect(await a.request({ type: 'clear_context', session_id: sid })).toEqual(expect.objectContaining({ type: 'clear_context.ack', ok: true }));
    expect(gw.app.ctx.calls.get(sid)?.knowledge).toBe('');
    expect(await a.request({ type: 'end_session' })).toMatchObject({ type: 'end_session.ack', ok: false });
    expect(await a.request({ type: 'end_session', session_id: 'ghost' })).toMatchObject({ ok: false, session_id: 'ghost' });
    expect(await a.request({ type: 'end_session', session_id: sid })).toMatchObject({ ok: true, session_id: sid });
    expect((await a.event('session.ended', (e) => e.session_id === sid)).data).toMatchObject({ reason: 'ended_by_api' });
  });

  it('dial validates the number before the bridge sees it; hangup ends the only active call', async () => {
    const bridge = new FakeBridge();
    const { sid, a } = await setup({ app: { phone: bridge } });
    for (const bad of ['', '12; reboot', '$(id)', '+49 170 abc', '#*#*']) {
      const r = await a.request({ type: 'dial', number: bad });
      expect(r, bad).toMatchObject({ type: 'dial.ack', ok: false });
    }
    expect(bridge.dials).toEqual([]);
    const h = await a.request({ type: 'hangup' });
    expect(h).toMatchObject({ type: 'hangup.ack', ok: true, session_id: sid });
    expect((await a.event('call.hangup')).data).toMatchObject({ ok: true, session_id: sid });
    expect(gw.app.ctx.calls.get(sid)?.ended).toBe(true);
    // nothing active now: the phone still hangs up, no call is named
    const again = await a.request({ type: 'hangup', session_id: '' });
    expect(again).toMatchObject({ ok: true });
    expect(again).not.toHaveProperty('session_id');
    bridge.ok = false;
    expect(await a.request({ type: 'dial', number: '+4930123' })).toMatchObject({ ok: false, detail: 'No ADB device connected' });
  });

  it('inject refuses empty text, unknown and ended calls, and acks what it queued', async () => {
    const { sid, a } = await setup();
    expect(await a.request({ type: 'inject', text: '  ' })).toMatchObject({ type: 'inject.ack', ok: false, reason: 'invalid' });
    expect(await a.request({ type: 'inject', text: 'hi', session_id: 'ghost' })).toMatchObject({ ok: false, reason: 'unknown_session' });
    const ok = await a.request({ type: 'inject', text: 'Please hold.', session_id: sid });
    expect(ok).toMatchObject({ ok: true, session_id: sid });
    expect(typeof ok.tts_ms).toBe('number');
    expect(gw.app.ctx.calls.get(sid)?.injects.map((i) => i.text)).toEqual(['Please hold.']);
    await a.request({ type: 'end_session', session_id: sid });
    expect(await a.request({ type: 'inject', text: 'hi', session_id: sid })).toMatchObject({ ok: false, reason: 'session_ended' });
    expect(await a.request({ type: 'inject', text: 'hi' })).toMatchObject({ ok: false, reason: 'no_active_session' });
  });
});
