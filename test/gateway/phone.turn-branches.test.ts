/**
 * Every branch of `/api/turn` (spec §4.3 response shapes, §4.4 event order) through the real gateway,
 * driven by the phone simulator, with the §16 defects fixed (ended → hangup, stale writes nothing,
 * inject never replaces a greeting, outgoing calls are not filtered).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeWav, parseWav, silence } from '../../src-shared/audio/wav';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { call, phoneCall, postForm, replyWav, turnTypes } from './support';

let gw: TestGateway | undefined;
let closeEvents: (() => void) | undefined;
afterEach(async () => {
  closeEvents?.();
  closeEvents = undefined;
  await gw?.close();
  gw = undefined;
});

async function setup(config: Record<string, unknown> = {}) {
  gw = await startGateway({ config: { greeting_owner: 'Ada', ...config } });
  const events = await eventStream(gw.url);
  closeEvents = events.close;
  return { gw, events };
}

const COULD_NOT_HEAR = 'I could not hear that clearly. Please try again.';
const REJECT = "I'm sorry, I can't help you right now. Goodbye.";
const status = async (g: TestGateway) => (await call(g, 'GET', '/api/status')).json as { total_calls: number; error_count: number; active_sessions: number };

describe('/api/turn branches', () => {
  it('forced reply: speaks the text without ASR or LLM, upstream shape, started → reply → complete', async () => {
    const { gw, events } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    const r = await phone.greeting("Hello, I am Ada's assistant. Please wait for the beep before speaking.");
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, session_id: phone.sessionId, transcript: '', reply: "Hello, I am Ada's assistant. Please wait for the beep before speaking." });
    expect(r.json.metrics).toMatchObject({ asr_ms: 0, llm_ms: 0, llm_model: '' });
    for (const k of ['tts_ms', 'total_ms']) expect(typeof (r.json.metrics as Record<string, unknown>)[k]).toBe('number');
    // the WAV once, in the field the Python gateway uses (the phone reads it on every path)
    expect(typeof r.json.audio_base64).toBe('string');
    expect(r.json).not.toHaveProperty('audio_wav_base64');
    for (const k of ['hangup', 'rejected', 'ended', 'stale']) expect(r.json).not.toHaveProperty(k);
    expect(parseWav(replyWav(r.json)).sampleRate).toBe(24000);
    expect(gw.engines.asrCalls).toHaveLength(0);
    expect(gw.engines.llmCalls).toHaveLength(0);
    await events.waitFor((e) => e.type === 'turn.complete' && e.session_id === phone.sessionId);
    expect(turnTypes(events.events, phone.sessionId)).toEqual(['turn.started', 'turn.reply', 'turn.complete']);
    // a forced reply is not LLM history
    expect(gw.app.ctx.calls.get(phone.sessionId)!.history).toEqual([]);
  });

  it('normal turn: started → transcript → reply → complete, history grows by the pair', async () => {
    const { gw, events } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    gw.engines.transcripts.push('when do you open');
    const r = await phone.say(utterance(2));
    expect(r.asrTranscript).toBe('when do you open');
    expect(r.json).toMatchObject({ ok: true, session_id: phone.sessionId, transcript: 'when do you open', reply: 'You said: when do you open. Anything else?' });
    expect(r.json.metrics).toMatchObject({ llm_model: 'instant-llm' });
    replyWav(r.json);
    await events.waitFor((e) => e.type === 'turn.complete' && e.session_id === phone.sessionId && (e.data as { transcript: string }).transcript !== '');
    expect(turnTypes(events.events, phone.sessionId)).toEqual(['turn.started', 'turn.reply', 'turn.complete', 'turn.started', 'turn.transcript', 'turn.reply', 'turn.complete']);
    const complete = events.events.filter((e) => e.type === 'turn.complete').at(-1)!;
    expect(complete.data).toMatchObject({ transcript: 'when do you open', reply: r.json.reply, session_id: phone.sessionId });
    expect(gw.app.ctx.calls.get(phone.sessionId)!.history).toEqual([
      { role: 'user', content: 'when do you open' },
      { role: 'assistant', content: 'You said: when do you open. Anything else?' },
    ]);
    expect((await status(gw)).total_calls).toBe(2);
  });

  it('inject delivery: the queued audio is played on the next caller turn with the inject shape', async () => {
    const { gw, events } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const s = gw.app.ctx.calls.get(phone.sessionId)!;
    const spoken = await gw.app.ctx.pipeline.speech.speak('Your table is ready.');
    s.injects.push({ text: 'Your table is ready.', wav: spoken.wav, tts_ms: spoken.ttsMs, producer: 'inject' });
    const llmBefore = gw.engines.llmCalls.length;
    const totalBefore = (await status(gw)).total_calls;
    gw.engines.transcripts.push('hello?');
    const r = await phone.say(utterance(1.5));
    expect(r.status).toBe(200);
    expect(r.reply).toBe('Your table is ready.');
    expect(r.json).toMatchObject({ ok: true, session_id: phone.sessionId, reply: 'Your table is ready.', asr_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0, model: 'inject' });
    expect(r.json).not.toHaveProperty('metrics');
    expect(Buffer.from(r.audio!).equals(Buffer.from(spoken.wav))).toBe(true);
    expect(gw.engines.llmCalls.length).toBe(llmBefore);
    expect((await status(gw)).total_calls).toBe(totalBefore);
    await events.waitFor((e) => e.type === 'turn.complete' && (e.data as { model?: string }).model === 'inject');
    const types = turnTypes(events.events, phone.sessionId).slice(3);
    expect(types.filter((t) => t !== 'turn.transcript')).toEqual(['turn.started', 'turn.reply', 'turn.complete']);
    const complete = events.events.find((e) => e.type === 'turn.complete' && (e.data as { model?: string }).model === 'inject')!;
    expect(complete.data).toMatchObject({ metrics: { asr_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0 }, reply: 'Your table is ready.', model: 'inject' });
    expect(s.injects).toHaveLength(0);
    // the next turn is a normal one again
    const next = await phone.say(utterance(1, 24000, 9));
    expect(next.json.metrics).toMatchObject({ llm_model: 'instant-llm' });
  });

  it('a pending inject never replaces a forced reply (greeting or goodbye); it waits for the caller turn', async () => {
    const { gw } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const s = gw.app.ctx.calls.get(phone.sessionId)!;
    const spoken = await gw.app.ctx.pipeline.speech.speak('Queued news.');
    s.injects.push({ text: 'Queued news.', wav: spoken.wav, tts_ms: 0, producer: 'inject' });
    const bye = await phone.goodbye("I'm sorry, but we have reached the maximum call duration. Goodbye!");
    expect(bye.reply).toBe("I'm sorry, but we have reached the maximum call duration. Goodbye!");
    expect(s.injects).toHaveLength(1);
    const r = await phone.say(utterance(1));
    expect(r.reply).toBe('Queued news.');
  });

  describe('caller policy', () => {
    it('blocklisted caller: rejected shape, only turn.caller_rejected, call ended, phone hangs up', async () => {
      const { gw, events } = await setup({ caller_blocklist: ['+49 170 999-99'] });
      const phone = new PhoneSim(gw.url, gw.bearer, '+4917099999');
      const totalBefore = (await status(gw)).total_calls;
      const r = await phone.greeting('Hi');
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ ok: false, rejected: true, reason: 'blocklisted', session_id: phone.sessionId, reply: REJECT });
      expect(r.json).not.toHaveProperty('hangup');
      expect(r.disconnect).toBe(true);
      expect(r.audio).not.toBeNull();
      replyWav(r.json);
      const rejected = await events.waitFor((e) => e.type === 'turn.caller_rejected');
      expect(rejected).toMatchObject({ session_id: phone.sessionId, data: { number: '+4917099999', reason: 'blocklisted' } });
      await events.waitFor((e) => e.type === 'session.ended' && e.session_id === phone.sessionId);
      expect(turnTypes(events.events, phone.sessionId)).toEqual(['turn.caller_rejected']);
      expect((await status(gw)).total_calls).toBe(totalBefore);
      expect(gw.engines.llmCalls).toHaveLength(0);
      expect(gw.app.ctx.calls.get(phone.sessionId)!.endReason).toBe('rejected');
    });

    it('not on a non-empty allowlist → not_allowlisted; a listed caller passes', async () => {
      const { gw } = await setup({ caller_allowlist: ['+4930123456'] });
      const stranger = await new PhoneSim(gw.url, gw.bearer, '+4917000000').greeting('Hi');
      expect(stranger.json).toMatchObject({ ok: false, rejected: true, reason: 'not_allowlisted' });
      const friend = new PhoneSim(gw.url, gw.bearer, '+49 30 123456');
      const ok = await friend.greeting('Hi');
      expect(ok.json).toMatchObject({ ok: true, reply: 'Hi' });
      expect((await friend.say(utterance(1))).json.ok).toBe(true);
    });

    it('withheld number with unknown_callers_allowed=false → unknown_caller with an empty number', async () => {
      const { gw, events } = await setup({ unknown_callers_allowed: false });
      const r = await new PhoneSim(gw.url, gw.bearer, '').greeting('Hi');
      expect(r.json).toMatchObject({ ok: false, rejected: true, reason: 'unknown_caller' });
      const e = await events.waitFor((x) => x.type === 'turn.caller_rejected');
      expect(e.data).toEqual({ number: '', reason: 'unknown_caller' });
    });

    it('outgoing calls are not filtered (the dialled number is not a caller)', async () => {
      const { gw } = await setup({ caller_blocklist: ['+4917099999'], caller_allowlist: ['+1555'], unknown_callers_allowed: false });
      const out = new PhoneSim(gw.url, gw.bearer, '+4917099999', 'outgoing');
      const g = await out.greeting("Hello, this is Ada's assistant calling.");
      expect(g.json).toMatchObject({ ok: true });
      expect(g.disconnect).toBe(false);
      const r = await out.say(utterance(1));
      expect(r.json.ok).toBe(true);
      const hidden = await new PhoneSim(gw.url, gw.bearer, '', 'outgoing').greeting('Hi');
      expect(hidden.json.ok).toBe(true);
    });
  });

  it('ended session: hangup:true with a non-blank goodbye and a valid WAV, no turn events', async () => {
    const { gw, events } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const sid = phone.sessionId;
    expect((await phoneCall(gw, 'POST', '/api/session/end', { session_id: sid })).json).toEqual({ ok: true, session_id: sid });
    await events.waitFor((e) => e.type === 'session.ended' && e.session_id === sid);
    const before = turnTypes(events.events, sid).length;
    const llmBefore = gw.engines.llmCalls.length;
    const r = await phone.say(utterance(1));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: false, session_id: sid, ended: true, detail: 'session ended', hangup: true, reply: 'This call has ended. Goodbye.' });
    expect(r.disconnect).toBe(true);
    expect(r.reply).toBe('This call has ended. Goodbye.');
    expect(r.audio).not.toBeNull();
    replyWav(r.json);
    expect(gw.engines.llmCalls.length).toBe(llmBefore);
    // a goodbye turn of the phone for the ended call gets the same answer
    const bye = await phone.goodbye('Goodbye!');
    expect(bye.json).toMatchObject({ ended: true, hangup: true });
    // a marker: another phone's call; events arrive in order, so once its turn.complete is here every
    // event the ended call's turns could have caused is here too
    const other = new PhoneSim(gw.url, gw.bearer, '+4917099999');
    other.localAddress = '127.0.0.2';
    await other.greeting('Marker');
    await events.waitFor((e) => e.type === 'turn.complete' && e.session_id === other.sessionId);
    expect(turnTypes(events.events, sid).length).toBe(before);
  });

  describe('stale turns (the call was reset or ended while the turn was in flight)', () => {
    async function holdTurn(gw: TestGateway, events: Awaited<ReturnType<typeof eventStream>>, phone: PhoneSim) {
      let release!: () => void;
      gw.engines.gate = new Promise<void>((r) => (release = r));
      gw.engines.transcripts.push('book a table for two');
      const pending = phone.say(utterance(1.5), { skipAsrProbe: true });
      await events.waitFor((e) => e.type === 'turn.transcript' && e.session_id === phone.sessionId && (e.data as { transcript: string }).transcript === 'book a table for two');
      return { pending, release: () => { gw.engines.gate = null; release(); } };
    }

    it('reset mid-turn → stale:true, turn.stale, and nothing written to history', async () => {
      const { gw, events } = await setup();
      const phone = new PhoneSim(gw.url, gw.bearer);
      await phone.greeting('Hi');
      const sid = phone.sessionId;
      const { pending, release } = await holdTurn(gw, events, phone);
      const reset = await call(gw, 'POST', '/api/session/reset', `session_id=${sid}`, { 'content-type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${gw.bearer}` });
      expect(reset.json).toEqual({ ok: true, session_id: sid });
      release();
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ ok: false, session_id: sid, stale: true, detail: 'session reset during turn' });
      expect(r.reply).toBeNull();
      await events.waitFor((e) => e.type === 'turn.stale' && e.session_id === sid);
      expect(turnTypes(events.events, sid).slice(3)).toEqual(['turn.started', 'turn.transcript', 'turn.reply', 'turn.stale']);
      expect(events.events.find((e) => e.type === 'turn.stale')!.data).toEqual({ session_id: sid, reason: 'generation_changed' });
      expect(gw.app.ctx.calls.get(sid)!.history).toEqual([]);
      // the reset call continues normally with a clean history
      gw.engines.transcripts.push('hello again');
      const next = await phone.say(utterance(1, 24000, 4));
      expect(next.json.ok).toBe(true);
      expect(gw.engines.llmCalls.at(-1)!.messages.map((m) => m.content)).not.toContain('book a table for two');
    });

    it('ended mid-turn → the ended answer with hangup, nothing written to history', async () => {
      const { gw, events } = await setup();
      const phone = new PhoneSim(gw.url, gw.bearer);
      await phone.greeting('Hi');
      gw.engines.transcripts.push('first question');
      await phone.say(utterance(1, 24000, 2));
      const sid = phone.sessionId;
      const historyBefore = [...gw.app.ctx.calls.get(sid)!.history];
      expect(historyBefore).toHaveLength(2);
      const { pending, release } = await holdTurn(gw, events, phone);
      expect((await phoneCall(gw, 'POST', '/api/session/end', { session_id: sid })).json.ok).toBe(true);
      release();
      const r = await pending;
      expect(r.json).toMatchObject({ ok: false, session_id: sid, ended: true, hangup: true, reply: 'This call has ended. Goodbye.' });
      expect(r.disconnect).toBe(true);
      replyWav(r.json);
      expect(gw.app.ctx.calls.get(sid)!.history).toEqual(historyBefore);
      const completes = events.events.filter((e) => e.type === 'turn.complete' && e.session_id === sid);
      expect(completes).toHaveLength(2); // greeting + first question only
    });
  });

  describe('passphrase gate', () => {
    it('wrong then right: retry prompt, then success; transcripts redacted; gate turns skip the LLM and history', async () => {
      const { gw, events } = await setup({ auth_passphrase: 'Open Sesame', auth_max_attempts: 3 });
      const phone = new PhoneSim(gw.url, gw.bearer);
      const g = await phone.greeting('Hi, please say the passphrase.');
      expect(g.reply).toBe('Hi, please say the passphrase.');
      gw.engines.transcripts.push('open barley', 'well... open, sesame!', 'what are your hours');
      const wrong = await phone.say(utterance(1, 24000, 1), { skipAsrProbe: true });
      expect(wrong.json).toMatchObject({ ok: true, reply: "That's not correct. Please try again.", transcript: '[passphrase attempt]' });
      expect(wrong.json.metrics).toMatchObject({ llm_ms: 0, llm_model: '' });
      replyWav(wrong.json);
      const right = await phone.say(utterance(1, 24000, 2), { skipAsrProbe: true });
      expect(right.json).toMatchObject({ ok: true, reply: 'Authentication successful. How can I help you?' });
      expect(gw.engines.llmCalls).toHaveLength(0);
      expect(gw.app.ctx.calls.get(phone.sessionId)!.history).toEqual([]);
      const normal = await phone.say(utterance(1, 24000, 3), { skipAsrProbe: true });
      expect(normal.json).toMatchObject({ ok: true, transcript: 'what are your hours' });
      expect(gw.engines.llmCalls).toHaveLength(1);
      await events.waitFor((e) => e.type === 'turn.complete' && (e.data as { transcript: string }).transcript === 'what are your hours');
      const sid = phone.sessionId;
      expect(turnTypes(events.events, sid)).toEqual([
        'turn.started', 'turn.reply', 'turn.complete',
        'turn.started', 'turn.transcript', 'turn.auth_failed', 'turn.reply', 'turn.complete',
        'turn.started', 'turn.transcript', 'turn.authenticated', 'turn.reply', 'turn.complete',
        'turn.started', 'turn.transcript', 'turn.reply', 'turn.complete',
      ]);
      expect(events.events.find((e) => e.type === 'turn.auth_failed')!.data).toEqual({ session_id: sid, attempt: 1 });
      const leaked = events.events.filter((e) => /sesame|barley/i.test(JSON.stringify(e)));
      expect(leaked).toEqual([]);
    });

    it('max attempts → reject message with hangup:true, the call ends, later turns get the ended hangup', async () => {
      const { gw, events } = await setup({ auth_passphrase: 'open sesame', auth_max_attempts: 2 });
      const phone = new PhoneSim(gw.url, gw.bearer);
      await phone.greeting('Passphrase please.');
      gw.engines.transcripts.push('wrong one', 'wrong two');
      const first = await phone.say(utterance(1, 24000, 1), { skipAsrProbe: true });
      expect(first.json.reply).toBe("That's not correct. Please try again.");
      expect(first.json).not.toHaveProperty('hangup');
      const second = await phone.say(utterance(1, 24000, 2), { skipAsrProbe: true });
      expect(second.json).toMatchObject({ ok: true, reply: REJECT, hangup: true, transcript: '[passphrase attempt]' });
      expect(second.json.metrics).toMatchObject({ llm_model: '' });
      expect(second.disconnect).toBe(true);
      replyWav(second.json);
      const ended = await events.waitFor((e) => e.type === 'session.ended' && e.session_id === phone.sessionId);
      expect(ended.data).toMatchObject({ reason: 'auth_failed' });
      const after = await phone.say(utterance(1, 24000, 3), { skipAsrProbe: true });
      expect(after.json).toMatchObject({ ended: true, hangup: true });
      expect(gw.engines.llmCalls).toHaveLength(0);
      expect(events.events.filter((e) => e.type === 'turn.auth_failed').map((e) => (e.data as { attempt: number }).attempt)).toEqual([1, 2]);
      expect(events.events.filter((e) => /wrong (one|two)/.test(JSON.stringify(e)))).toEqual([]);
    });

    it('matches whole words only, and a passphrase of symbols alone fails closed instead of switching the gate off', async () => {
      const { gw } = await setup({ auth_passphrase: 'blue', auth_max_attempts: 0 });
      const phone = new PhoneSim(gw.url, gw.bearer);
      await phone.greeting('Passphrase please.');
      gw.engines.transcripts.push('blueberry pie', 'it is BLUE.');
      expect((await phone.say(utterance(1, 24000, 1), { skipAsrProbe: true })).json.reply).toBe("That's not correct. Please try again.");
      expect((await phone.say(utterance(1, 24000, 2), { skipAsrProbe: true })).json.reply).toBe('Authentication successful. How can I help you?');

      await call(gw, 'POST', '/api/config/call', { auth_passphrase: '!!!', auth_max_attempts: 1 });
      expect((await call(gw, 'GET', '/api/config/call')).json.auth_required).toBe(true);
      const other = new PhoneSim(gw.url, gw.bearer, '+4930111');
      await other.greeting('Passphrase please.');
      gw.engines.transcripts.push('anything at all');
      const r = await other.say(utterance(1, 24000, 3), { skipAsrProbe: true });
      expect(r.json).toMatchObject({ reply: REJECT, hangup: true });
      expect(gw.engines.llmCalls).toHaveLength(0);
    });

    it('an empty transcript skips the gate without counting an attempt', async () => {
      const { gw, events } = await setup({ auth_passphrase: 'open sesame', auth_max_attempts: 1 });
      const phone = new PhoneSim(gw.url, gw.bearer);
      await phone.greeting('Passphrase please.');
      const r = await phone.say(encodeWav(silence(24000, 800)), { skipAsrProbe: true });
      expect(r.suppressed).toBe(true);
      expect(r.json).not.toHaveProperty('hangup');
      expect(gw.app.ctx.calls.get(phone.sessionId)!.auth.attempts).toBe(0);
      expect(events.events.some((e) => e.type === 'turn.auth_failed')).toBe(false);
    });
  });

  it('silence: the phone\'s "could not hear" wording (swallowed by the phone), turn.no_speech, no LLM, no history', async () => {
    const { gw, events } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const r = await phone.say(encodeWav(silence(24000, 1000)));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, session_id: phone.sessionId, transcript: '', reply: COULD_NOT_HEAR });
    expect(r.json.metrics).toMatchObject({ llm_ms: 0, llm_model: '' });
    expect(r.suppressed).toBe(true);
    replyWav(r.json);
    expect(r.asrTranscript).toBe('');
    expect(gw.engines.llmCalls).toHaveLength(0);
    expect(gw.engines.ttsCalls.filter((t) => /hear/.test(t))).toEqual([]);
    expect(gw.app.ctx.calls.get(phone.sessionId)!.history).toEqual([]);
    await events.waitFor((e) => e.type === 'turn.complete' && e.session_id === phone.sessionId && (e.data as { reply: string }).reply === COULD_NOT_HEAR);
    expect(turnTypes(events.events, phone.sessionId).slice(3)).toEqual(['turn.started', 'turn.transcript', 'turn.no_speech', 'turn.complete']);
    expect(events.events.find((e) => e.type === 'turn.transcript')!.data).toEqual({ transcript: '' });
  });

  it('an empty ASR result falls back to the transcript hint (phone greeting without a forced reply)', async () => {
    const { gw } = await setup();
    const r = await postForm(gw, [['reset_session', 'true'], ['transcript_hint', 'Output exactly this and nothing else: Hello, I am your assistant.'], ['caller_number', '+491'], ['call_direction', 'incoming']], encodeWav(silence(16000, 300)));
    expect(r.json).toMatchObject({ ok: true, transcript: 'Output exactly this and nothing else: Hello, I am your assistant.' });
    expect(gw.engines.llmCalls).toHaveLength(1);
  });

  it('skip_asr with a hint uses the hint without running ASR', async () => {
    const { gw } = await setup();
    const r = await postForm(gw, [['reset_session', 'true'], ['transcript_hint', 'typed by the client'], ['skip_asr', ' TRUE '], ['caller_number', '+491']], utterance(1));
    expect(r.json).toMatchObject({ ok: true, transcript: 'typed by the client' });
    expect(r.json.metrics).toMatchObject({ asr_ms: 0 });
    expect(gw.engines.asrCalls).toHaveLength(0);
  });

  it('LLM output is cleaned for speech: <think> never spoken, markdown and links reduced, numbers kept in one sentence', async () => {
    const { gw } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    gw.engines.reply = () => '<think>internal plan: upsell</think>Sure, **we open** at 9.30 tomorrow. See [our site](http://example.com/a_b) for 50% off!';
    const r = await phone.say(utterance(1));
    expect(r.reply).toBe('Sure, we open at 9.30 tomorrow. See our site for 50 off!');
    const spoken = gw.engines.ttsCalls.slice(1);
    expect(spoken.join(' ')).not.toMatch(/plan|upsell|think|http|\*/);
    expect(spoken).toContain('Sure, we open at 9.30 tomorrow.');
    expect(gw.app.ctx.calls.get(phone.sessionId)!.history.at(-1)).toEqual({ role: 'assistant', content: r.reply });
    gw.engines.reply = () => '<think>only thoughts</think> ### ';
    const empty = await phone.say(utterance(1, 24000, 2));
    expect(empty.reply).toBe('Got it. Please continue.');
    expect(empty.audio).not.toBeNull();
  });

  it('LLM failure: HTTP 200 with a spoken apology, turn.error before the reply, error counted', async () => {
    const { gw, events } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    gw.engines.fail.llm = 'model crashed';
    const r = await phone.say(utterance(1));
    expect(r.status).toBe(200);
    expect(r.json.ok).toBe(true);
    expect(r.reply).toMatch(/sorry/i);
    expect(r.audio).not.toBeNull();
    await events.waitFor((e) => e.type === 'turn.complete' && e.session_id === phone.sessionId && (e.data as { transcript: string }).transcript !== '');
    expect(turnTypes(events.events, phone.sessionId).slice(3)).toEqual(['turn.started', 'turn.transcript', 'turn.error', 'turn.reply', 'turn.complete']);
    expect(events.events.find((e) => e.type === 'turn.error')!.data).toEqual({ error: 'LLM failed: model crashed' });
    expect((await status(gw)).error_count).toBe(1);
    gw.engines.fail.llm = null;
    expect((await phone.say(utterance(1, 24000, 5))).json.metrics).toMatchObject({ llm_model: 'instant-llm' });
  });

  it('TTS failure: 500 {detail}, one turn.error naming the TTS error, nothing in history, server still up', async () => {
    const { gw, events } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    gw.engines.fail.tts = 'voice engine down';
    gw.engines.transcripts.push('are you there');
    const r = await phone.say(utterance(1));
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ detail: 'voice engine down' });
    await events.waitFor((e) => e.type === 'turn.error' && e.session_id === phone.sessionId);
    const errors = events.events.filter((e) => e.type === 'turn.error');
    expect(errors.map((e) => e.data)).toEqual([{ error: 'voice engine down' }]);
    expect((await status(gw)).error_count).toBe(1);
    expect(gw.app.ctx.calls.get(phone.sessionId)!.history).toEqual([]);
    const forced = await phone.goodbye('Bye');
    expect(forced.status).toBe(500);
    gw.engines.fail.tts = null;
    expect((await phoneCall(gw, 'GET', '/health')).status).toBe(200);
    const ok = await phone.say(utterance(1, 24000, 6));
    expect(ok.status).toBe(200);
    expect(ok.json.ok).toBe(true);
  });

  it('ASR failure: 400 "ASR failed: …" on /api/asr and /api/turn, counted, server still up', async () => {
    const { gw, events } = await setup();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    gw.engines.fail.asr = 'decoder exploded';
    const asr = await postForm(gw, [], utterance(1), { path: '/api/asr' });
    expect(asr).toMatchObject({ status: 400, json: { detail: 'ASR failed: decoder exploded' } });
    const r = await phone.say(utterance(1), { skipAsrProbe: true });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ detail: 'ASR failed: decoder exploded' });
    await events.waitFor((e) => e.type === 'turn.error' && e.session_id === phone.sessionId);
    expect(turnTypes(events.events, phone.sessionId).slice(3)).toEqual(['turn.started', 'turn.error']);
    expect((await status(gw)).error_count).toBeGreaterThanOrEqual(1);
    gw.engines.fail.asr = null;
    // a failed transcription is not cached: the same bytes transcribe fine now
    const again = await phone.say(utterance(1), { skipAsrProbe: true });
    expect(again.status).toBe(200);
    expect((await phoneCall(gw, 'GET', '/health')).json.ok).toBe(true);
  });

  describe('greetings the phone mangled (writeBytes keeps only the low 8 bits)', () => {
    it('a German greeting with ä/ß arrives as Latin-1 and is spoken exactly as configured', async () => {
      const template = 'Grüß Gott, hier ist der Assistent von {owner}. Bitte warten Sie auf den Piepton.';
      const { gw } = await setup({ greeting_incoming: template, greeting_owner: 'Jürgen Weiß' });
      const phone = new PhoneSim(gw.url, gw.bearer);
      const cfg = await phone.getCallConfig();
      const expected = 'Grüß Gott, hier ist der Assistent von Jürgen Weiß. Bitte warten Sie auf den Piepton.';
      expect(cfg.greeting_incoming).toBe(expected);
      const r = await phone.greeting(String(cfg.greeting_incoming));
      expect(r.reply).toBe(expected);
      // synthesised sentence by sentence, from the configured text
      expect(gw.engines.ttsCalls.slice(-2).join(' ')).toBe(expected);
    });

    it('characters beyond Latin-1 (€, –, …, Ł) are restored from the gateway\'s own copy', async () => {
      const template = 'Grüße von {owner} – Anrufe kosten 0,20 € pro Minute… Bitte warten.';
      const { gw } = await setup({ greeting_incoming: template, greeting_owner: 'Łukasz', max_duration_message: 'Die Zeit ist um – auf Wiederhören…' });
      const phone = new PhoneSim(gw.url, gw.bearer);
      const cfg = await phone.getCallConfig();
      const g = await phone.greeting(String(cfg.greeting_incoming));
      // the gateway's own copy, sanitised the way every forced reply is (dash and ellipsis as ASCII)
      expect(g.reply).toBe('Grüße von Łukasz - Anrufe kosten 0,20 € pro Minute... Bitte warten.');
      const bye = await phone.goodbye(String(cfg.max_duration_message));
      expect(bye.reply).toBe('Die Zeit ist um - auf Wiederhören...');
    });
  });

  it('caller memory: with keep_history the next call from the number continues; keep_history=false deletes it', async () => {
    const { gw } = await setup({ keep_history: true });
    const phone = new PhoneSim(gw.url, gw.bearer, '+49 170 5550001');
    await phone.greeting('Hi');
    gw.engines.transcripts.push('my name is Grace', 'I need a table on Friday');
    await phone.say(utterance(1, 24000, 1));
    await phone.say(utterance(1, 24000, 2));
    const firstSid = phone.sessionId;

    // second call from the same number: the previous call closes and its history is remembered
    await phone.greeting('Welcome back');
    expect(phone.sessionId).not.toBe(firstSid);
    gw.engines.transcripts.push('what was my name');
    await phone.say(utterance(1, 24000, 3));
    const seen = gw.engines.llmCalls.at(-1)!.messages.map((m) => m.content);
    expect(seen).toContain('my name is Grace');
    expect(seen).toContain('I need a table on Friday');

    // another number does not see it
    const other = new PhoneSim(gw.url, gw.bearer, '+4917055500099');
    await other.greeting('Hi');
    gw.engines.transcripts.push('hello');
    await other.say(utterance(1, 24000, 4));
    expect(gw.engines.llmCalls.at(-1)!.messages.map((m) => m.content)).not.toContain('my name is Grace');

    // a caller number that is not a plain number keys nothing (no path from an unchecked number)
    const odd = new PhoneSim(gw.url, gw.bearer, '../../etc/passwd');
    expect((await odd.greeting('Hi')).status).toBe(200);
    gw.engines.transcripts.push('secret stuff');
    await odd.say(utterance(1, 24000, 7));
    await new PhoneSim(gw.url, gw.bearer, '../../etc/passwd').greeting('Hi again');
    expect(gw.app.ctx.calls.callerMemory.list().map((m) => m.number)).not.toContain('../../etc/passwd');
    expect(gw.app.ctx.calls.callerMemory.list().every((m) => /^[+0-9*#]+$/.test(m.number))).toBe(true);

    // keep_history off: the next call of that number deletes what was stored
    expect((await call(gw, 'POST', '/api/config/call', { keep_history: false })).status).toBe(200);
    await phone.greeting('Hi');
    expect(gw.app.ctx.calls.callerMemory.load('+491705550001')).toBeNull();
    gw.engines.transcripts.push('do you know me');
    await phone.say(utterance(1, 24000, 5));
    expect(gw.engines.llmCalls.at(-1)!.messages.map((m) => m.content)).not.toContain('my name is Grace');
    await call(gw, 'POST', '/api/config/call', { keep_history: true });
    await phone.greeting('Hi');
    gw.engines.transcripts.push('and now');
    await phone.say(utterance(1, 24000, 6));
    expect(gw.engines.llmCalls.at(-1)!.messages.map((m) => m.content)).not.toContain('my name is Grace');
  });
});
