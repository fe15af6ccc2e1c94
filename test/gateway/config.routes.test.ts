/**
 * Runtime configuration over HTTP (spec §3.6–§3.8, §11): upstream shapes and aliases, validation
 * naming the key, atomic persistence that survives a reload, env overrides never saved, upstream
 * files loading unchanged, no secrets in /api/status, and the instruction routes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';
import { call, phoneCall, savedConfig, savedConfigText } from './support';

let gw: TestGateway | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await gw?.close();
  gw = undefined;
});


const CALL_VIEW_KEYS = [
  'auto_answer', 'auto_answer_delay_ms', 'caller_allowlist', 'caller_blocklist', 'unknown_callers_allowed', 'greeting_incoming', 'greeting_outgoing',
  'greeting_incoming_template', 'greeting_outgoing_template', 'greeting_owner', 'max_duration_sec', 'max_duration_message', 'auth_required',
  'auth_reject_message', 'auth_max_attempts', 'keep_history',
];

describe('GET/POST /api/config/call', () => {
  it('GET has the upstream shape with {owner} filled in and never the passphrase', async () => {
    gw = await startGateway({ config: { greeting_owner: 'Ada', auth_passphrase: 'swordfish' } });
    const r = await call(gw, 'GET', '/api/config/call', undefined, { Authorization: `Bearer ${gw.bearer}` });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual([...CALL_VIEW_KEYS].sort());
    expect(r.json).toMatchObject({
      auto_answer: true, auto_answer_delay_ms: 500, caller_allowlist: [], caller_blocklist: [], unknown_callers_allowed: true,
      greeting_incoming: "Hello, I am Ada's assistant. Please wait for the beep before speaking.",
      greeting_incoming_template: "Hello, I am {owner}'s assistant. Please wait for the beep before speaking.",
      greeting_outgoing: "Hello, this is Ada's assistant calling. Please wait for the beep before speaking.",
      greeting_owner: 'Ada', max_duration_sec: 300, auth_required: true, auth_max_attempts: 3, keep_history: false,
    });
    expect(r.text).not.toContain('swordfish');
  });

  it('POST takes full key names (and the GET aliases), answers the GET shape, publishes, persists', async () => {
    gw = await startGateway();
    const events = await eventStream(gw.url);
    cleanups.push(events.close);
    const body = {
      call_auto_answer: false, auto_answer_delay_ms: 1500, caller_allowlist: ['+4930123'], caller_blocklist: ['+4917099'], unknown_callers_allowed: false,
      greeting_incoming: 'Hi from {owner}', greeting_outgoing: '{owner} calling', greeting_owner: 'Grace', max_duration_sec: 120,
      max_duration_message: 'Time is up.', auth_passphrase: 'blue moon', auth_reject_message: 'Nope.', auth_max_attempts: 5, keep_history: true,
    };
    const r = await call(gw, 'POST', '/api/config/call', body);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, auto_answer: false, auto_answer_delay_ms: 1500, greeting_incoming: 'Hi from Grace', greeting_outgoing: 'Grace calling', auth_required: true, auth_max_attempts: 5, keep_history: true });
    expect(r.text).not.toContain('blue moon');
    const e = await events.waitFor((x) => x.type === 'config.call_updated');
    expect(e.data).toMatchObject({ greeting_incoming: 'Hi from Grace', auto_answer: false });
    expect(JSON.stringify(e)).not.toContain('blue moon');
    expect(savedConfig(gw)).toMatchObject({ call_auto_answer: false, call_auto_answer_delay_ms: 1500, caller_allowlist: ['+4930123'], auth_passphrase: 'blue moon', keep_history: true });
    expect((await call(gw, 'GET', '/api/config/call')).json).toMatchObject({ auto_answer: false, greeting_owner: 'Grace' });
  });

  it('POST ignores keys it does not own: no way to change the bearer, host, port or engines from here', async () => {
    gw = await startGateway();
    const before = savedConfigText(gw);
    const r = await call(gw, 'POST', '/api/config/call', { bearer_token: 'attacker', host: '0.0.0.0', port: 1, llm_base_url: 'http://evil', greeting_owner: 'Ada' });
    expect(r.status).toBe(200);
    const saved = savedConfig(gw);
    expect(saved.bearer_token).toBe(gw.bearer);
    expect(saved).not.toHaveProperty('host');
    expect(saved).not.toHaveProperty('llm_base_url');
    expect(saved.greeting_owner).toBe('Ada');
    expect(before).not.toContain('Ada');
    expect((await phoneCall(gw, 'GET', '/health')).status).toBe(200);
  });

  it('invalid values → 400 naming each key; nothing is changed or written', async () => {
    gw = await startGateway();
    const file = join(gw.dataDir, 'config.json');
    const before = readFileSync(file, 'utf8');
    const r = await call(gw, 'POST', '/api/config/call', { max_duration_sec: 'long', caller_blocklist: '+4917099', auth_max_attempts: -1, greeting_owner: 'Valid' });
    expect(r.status).toBe(400);
    expect(r.json.ok).toBe(false);
    for (const k of ['max_duration_sec', 'caller_blocklist', 'auth_max_attempts']) expect(String(r.json.detail)).toContain(k);
    expect((r.json.errors as { key: string }[]).map((x) => x.key).sort()).toEqual(['auth_max_attempts', 'caller_blocklist', 'max_duration_sec']);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect((await call(gw, 'GET', '/api/config/call')).json.greeting_owner).toBe('the owner');
    expect(readdirSync(gw.dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('GET/POST /api/config/llm', () => {
  it('GET shape; the API key is never returned, only has_api_key', async () => {
    gw = await startGateway({ config: { llm_model: 'gpt-x', llm_base_url: 'http://127.0.0.1:9/v1', llm_api_key: 'sk-hidden-1234' } });
    const r = await call(gw, 'GET', '/api/config/llm');
    expect(r.json).toMatchObject({
      model: 'gpt-x', base_url: 'http://127.0.0.1:9/v1', has_api_key: true, max_tokens: 400, context_tokens: 0, context_tokens_effective: 4096,
      max_history_turns: 8, temperature: 0.2, top_p: 1, top_p_enabled: true, top_k: 0, top_k_enabled: true, repeat_penalty: 1, stop: [], is_local: false,
    });
    expect(r.text).not.toContain('sk-hidden-1234');
  });

  it('POST accepts the short aliases and full llm_* names; persists; publishes config.llm_updated without the key', async () => {
    gw = await startGateway();
    const events = await eventStream(gw.url);
    cleanups.push(events.close);
    const r = await call(gw, 'POST', '/api/config/llm', {
      model: 'qwen', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-new-5678', max_tokens: 256, temperature: 0.7, top_p: 0.9, top_k: 40,
      top_p_enabled: false, top_k_enabled: false, repeat_penalty: 1.1, stop: ['END'], context_tokens: 2048, max_history_turns: 4, llm_temperature: 0.5,
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, model: 'qwen', has_api_key: true, max_tokens: 256, top_p: 0.9, top_k: 40, top_p_enabled: false, stop: ['END'], context_tokens: 2048, context_tokens_effective: 2048, max_history_turns: 4, is_local: false });
    expect([0.7, 0.5]).toContain(r.json.temperature);
    expect(r.text).not.toContain('sk-new-5678');
    const e = await events.waitFor((x) => x.type === 'config.llm_updated');
    expect(JSON.stringify(e)).not.toContain('sk-new-5678');
    expect(savedConfig(gw)).toMatchObject({ llm_model: 'qwen', llm_api_key: 'sk-new-5678', llm_max_tokens: 256, max_history_turns: 4 });
  });

  it('POST with a bad value → 400 naming the key', async () => {
    gw = await startGateway();
    const r = await call(gw, 'POST', '/api/config/llm', { temperature: 9, stop: 'END' });
    expect(r.status).toBe(400);
    expect(String(r.json.detail)).toMatch(/llm_temperature/);
    expect(String(r.json.detail)).toMatch(/llm_stop/);
    expect((await call(gw, 'GET', '/api/config/llm')).json.temperature).toBe(0.2);
  });
});

describe('GET/POST /api/config/tts', () => {
  async function fakePiper(status: number): Promise<string> {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(status, { 'content-type': 'audio/wav' });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('English shape with the Kokoro catalogue; voice/speed aliases; persisted; event', async () => {
    gw = await startGateway();
    const events = await eventStream(gw.url);
    cleanups.push(events.close);
    const g = await call(gw, 'GET', '/api/config/tts');
    expect(g.json).toMatchObject({ lang: 'en', model: 'mlx-community/Kokoro-82M-bf16', voice: 'am_adam', speed: 1.2 });
    expect(Object.keys(g.json.voices as object).length).toBeGreaterThan(0);
    const r = await call(gw, 'POST', '/api/config/tts', { voice: 'af_heart', speed: 1.5 });
    expect(r.json).toMatchObject({ ok: true, lang: 'en', voice: 'af_heart', speed: 1.5 });
    await events.waitFor((e) => e.type === 'config.tts_updated' && (e.data as { voice?: string }).voice === 'af_heart');
    expect(savedConfig(gw)).toMatchObject({ tts_voice: 'af_heart', tts_speed: 1.5 });
    expect((await call(gw, 'POST', '/api/config/tts', { speed: 'fast' })).status).toBe(400);
  });

  it('switching to German needs a running Piper: 400 with upstream\'s error and nothing changed; with Piper up it switches', async () => {
    const down = await fakePiper(503);
    gw = await startGateway({ config: { piper_base: down } });
    const refused = await call(gw, 'POST', '/api/config/tts', { lang: 'de' });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ ok: false, error: `Piper TTS is not running on ${down} — cannot switch to German. Start the gateway with a Piper model to enable German TTS.` });
    expect((await call(gw, 'GET', '/api/config/tts')).json.lang).toBe('en');
    await gw.close();

    const up = await fakePiper(200);
    gw = await startGateway({ config: { piper_base: up } });
    const r = await call(gw, 'POST', '/api/config/tts', { lang: 'de', piper_length_scale: 0.9 });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, lang: 'de', piper_voice: 'thorsten-high', piper_speaker: 0, piper_length_scale: 0.9, piper_noise_scale: 0.667, piper_noise_w: 0.8, piper_sentence_silence: 0.2 });
    expect(r.json.emotions).toMatchObject({ amused: 0, whisper: 7 });
    expect(Object.keys(r.json.voices as object).sort()).toEqual(['Emotional', 'Female', 'Male']);
    expect(savedConfig(gw).tts_lang).toBe('de');
  });

  it('with a local Piper voice (piper_backend "local") German needs no Piper server', async () => {
    const down = await fakePiper(503);
    gw = await startGateway({ config: { piper_base: down, piper_backend: 'local' } });
    const r = await call(gw, 'POST', '/api/config/tts', { lang: 'de' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, lang: 'de' });
    expect(savedConfig(gw).tts_lang).toBe('de');
  });
});

describe('config POST bodies', () => {
  it('an empty body changes nothing (200); invalid JSON, arrays and non-JSON bodies → 400; server still up', async () => {
    gw = await startGateway();
    const before = savedConfig(gw);
    for (const path of ['/api/config/call', '/api/config/llm', '/api/config/tts']) {
      expect((await call(gw, 'POST', path)).status, path).toBe(200);
      for (const [body, ct] of [['{oops', 'application/json'], ['[1]', 'application/json'], ['"x"', 'text/plain'], ['abc', 'application/octet-stream']]) {
        const r = await call(gw, 'POST', path, body, { 'content-type': ct });
        expect(r.status, `${path} ${ct} ${body}`).toBe(400);
        expect(r.json.detail).toBeTruthy();
      }
    }
    expect(savedConfig(gw)).toEqual(before);
    expect((await phoneCall(gw, 'GET', '/health')).status).toBe(200);
  });
});

describe('persistence, reload and environment overrides', () => {
  it('POST /api/config reloads config.json from disk; changes survive; broken files are refused', async () => {
    gw = await startGateway();
    const events = await eventStream(gw.url);
    cleanups.push(events.close);
    await call(gw, 'POST', '/api/config/call', { greeting_owner: 'Persisted' });
    const file = join(gw.dataDir, 'config.json');
    const onDisk = savedConfig(gw);
    expect(onDisk.greeting_owner).toBe('Persisted');
    writeFileSync(file, JSON.stringify({ ...onDisk, max_duration_sec: 42, llm_api_key: 'sk-reload' }));
    const r = await call(gw, 'POST', '/api/config');
    expect(r.status).toBe(200);
    expect(r.json.ok).toBe(true);
    expect(r.json.config).toMatchObject({ greeting_owner: 'Persisted', max_duration_sec: 42 });
    expect(r.text).not.toContain('sk-reload');
    expect(r.text).not.toContain(gw.bearer);
    await events.waitFor((e) => e.type === 'status.update' && (e.data as { event?: string }).event === 'config_reloaded');
    expect((await call(gw, 'GET', '/api/config/call')).json.max_duration_sec).toBe(42);

    writeFileSync(file, '{ "max_duration_sec": ');
    const broken = await call(gw, 'POST', '/api/config');
    expect(broken.status).toBe(400);
    expect(broken.json.ok).toBe(false);
    writeFileSync(file, JSON.stringify({ max_duration_sec: 'soon' }));
    const invalid = await call(gw, 'POST', '/api/config');
    expect(invalid.status).toBe(400);
    expect(String(invalid.json.detail)).toContain('max_duration_sec');
    expect((await call(gw, 'GET', '/api/config/call')).json.max_duration_sec).toBe(42);
  });

  it('GATEWAY_* overrides apply but are never written into config.json', async () => {
    gw = await startGateway({ app: { env: { GATEWAY_GREETING_OWNER: 'Env Owner', GATEWAY_AUTH_PASSPHRASE: 'env-pass', GATEWAY_MAX_DURATION_SEC: '77', GATEWAY_KEEP_HISTORY: 'yes' } } });
    const g = await call(gw, 'GET', '/api/config/call');
    expect(g.json).toMatchObject({ greeting_owner: 'Env Owner', auth_required: true, max_duration_sec: 77, keep_history: true });
    await call(gw, 'POST', '/api/config/call', { auto_answer_delay_ms: 900 });
    await call(gw, 'POST', '/api/config/llm', { temperature: 0.3 });
    const text = savedConfigText(gw);
    expect(JSON.parse(text)).toMatchObject({ call_auto_answer_delay_ms: 900, llm_temperature: 0.3 });
    for (const s of ['Env Owner', 'env-pass', '77', 'keep_history']) expect(text).not.toContain(s);
    // reload keeps applying them
    expect((await call(gw, 'POST', '/api/config')).json.config).toMatchObject({ greeting_owner: 'Env Owner' });
  });

  it('an upstream config.json with legacy LLM keys loads and the file is left byte-for-byte unchanged', async () => {
    const upstream = {
      host: '127.0.0.1', port: 0, bearer_token: 'CHANGE_ME', mlx_audio_base: 'http://127.0.0.1:8765', stt_model: 'mlx-community/parakeet-tdt-0.6b-v2',
      stt_language: 'en', tts_model: 'mlx-community/Kokoro-82M-bf16', tts_voice: 'af_heart', tts_speed: 1.2, tts_lang: 'en',
      llm_backend: 'openai', llm_local_model: 'mlx-community/Qwen2.5-1.5B-Instruct-4bit', llm_remote_model: 'gpt-4o-mini',
      llm_remote_base_url: 'http://127.0.0.1:9/v1', llm_remote_api_key: 'sk-legacy-0000', llm_max_tokens: 400, llm_temperature: 0.2,
      llm_system_prompt: 'You are a concise assistant.', max_history_turns: 8, call_auto_answer: true, caller_allowlist: [], caller_blocklist: [],
      unknown_callers_allowed: true, greeting_owner: 'the owner', max_duration_sec: 300, auth_passphrase: '', auth_max_attempts: 3,
    };
    gw = await startGateway({ config: upstream });
    const file = join(gw.dataDir, 'config.json');
    const before = readFileSync(file, 'utf8');
    expect(gw.bearer).toBe('CHANGE_ME');
    const llm = await call(gw, 'GET', '/api/config/llm');
    expect(llm.json).toMatchObject({ model: 'gpt-4o-mini', base_url: 'http://127.0.0.1:9/v1', has_api_key: true, is_local: false });
    expect((await call(gw, 'GET', '/api/config/tts')).json).toMatchObject({ voice: 'af_heart' });
    expect((await call(gw, 'GET', '/api/instructions')).json.base).toBe('You are a concise assistant.');
    const phone = new PhoneSim(gw.url, 'CHANGE_ME');
    expect((await phone.greeting('Hi')).status).toBe(200);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});

describe('/api/status', () => {
  it('never contains the bearer, the API key, the passphrase or the operator token', async () => {
    gw = await startGateway({ config: { bearer_token: 'BEARER-abcdef123456', llm_api_key: 'sk-APIKEY-987', auth_passphrase: 'PASS-phrase-xyz', custom_secret_token: 'CUSTOM-tok-1' } });
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const r = await call(gw, 'GET', '/api/status');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ total_calls: 1, error_count: 0, active_sessions: 1, ended_sessions: 0, agents: [] });
    expect(typeof r.json.uptime_s).toBe('number');
    expect(r.json.config).toMatchObject({ llm_max_tokens: 400, greeting_owner: 'the owner' });
    for (const s of ['BEARER-abcdef123456', 'sk-APIKEY-987', 'PASS-phrase-xyz', 'CUSTOM-tok-1', gw.operatorToken]) expect(r.text).not.toContain(s);
    for (const k of ['bearer_token', 'llm_api_key', 'auth_passphrase']) expect(r.json.config).not.toHaveProperty(k);
  });
});

describe('/api/instructions', () => {
  it('global base prompt: GET/POST, persisted, used as the system message', async () => {
    gw = await startGateway();
    const events = await eventStream(gw.url);
    cleanups.push(events.close);
    expect((await call(gw, 'GET', '/api/instructions')).json).toEqual({ base: '', sessions: {} });
    expect((await call(gw, 'POST', '/api/instructions', { text: 'Speak like a pirate.' })).json).toEqual({ ok: true, scope: 'global' });
    await events.waitFor((e) => e.type === 'instructions.updated');
    expect(savedConfig(gw).llm_system_prompt).toBe('Speak like a pirate.');
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    await phone.say(utterance(1));
    expect(gw.engines.llmCalls.at(-1)!.messages[0]).toEqual({ role: 'system', content: 'Speak like a pirate.' });
    expect((await call(gw, 'POST', '/api/instructions', { text: 5 })).status).toBe(400);
    expect((await call(gw, 'POST', '/api/instructions', '{bad')).status).toBe(400);
  });

  it('per-call override, one-shot turn supplement, delete; unknown or ended calls → 404', async () => {
    gw = await startGateway({ config: { llm_system_prompt: 'Base.' } });
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hi');
    const sid = phone.sessionId;
    expect((await call(gw, 'POST', `/api/instructions/${sid}`, { text: 'Only this call.' })).json).toEqual({ ok: true, session_id: sid });
    expect((await call(gw, 'POST', `/api/instructions/${sid}/turn`, { text: 'Mention the discount.' })).json).toEqual({ ok: true, session_id: sid, scope: 'turn' });
    expect((await call(gw, 'GET', '/api/instructions')).json).toEqual({ base: 'Base.', sessions: { [sid]: 'Only this call.' } });
    await phone.say(utterance(1, 24000, 1));
    expect(gw.engines.llmCalls.at(-1)!.messages[0].content).toBe('Only this call.\n\nMention the discount.');
    await phone.say(utterance(1, 24000, 2));
    expect(gw.engines.llmCalls.at(-1)!.messages[0].content).toBe('Only this call.');
    expect((await call(gw, 'DELETE', `/api/instructions/${sid}`)).json).toEqual({ ok: true, session_id: sid });
    await phone.say(utterance(1, 24000, 3));
    expect(gw.engines.llmCalls.at(-1)!.messages[0].content).toBe('Base.');

    expect((await call(gw, 'POST', '/api/instructions/nope', { text: 'x' })).status).toBe(404);
    expect((await call(gw, 'POST', '/api/instructions/nope/turn', { text: 'x' })).status).toBe(404);
    expect((await call(gw, 'DELETE', '/api/instructions/nope')).status).toBe(404);
    await phoneCall(gw, 'POST', '/api/session/end', { session_id: sid });
    const ended = await call(gw, 'POST', `/api/instructions/${sid}`, { text: 'late' });
    expect(ended.status).toBe(404);
    expect(ended.json.detail).toMatch(/ended/);
    expect((await call(gw, 'POST', `/api/instructions/${sid}`, { text: 'x'.repeat(20_001) })).status).toBe(400);
  });
});
