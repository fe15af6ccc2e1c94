/**
 * The engines and network settings sections: every value validated (a bad patch changes nothing and
 * names the key), engine changes applied live and saved, the models folder followed at once, network
 * address changes saved for the next start with the pending restart said, the token policy applied at
 * once, and overrides from the environment or command line named.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { call, errorKeys, savedConfig, savedConfigText } from './support';

let gw: TestGateway | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await gw?.close();
  gw = undefined;
});


describe('GET/POST /api/config/engines', () => {
  it('GET shows the engine settings, the effective models folder and what is selected', async () => {
    gw = await startGateway();
    const r = await call(gw, 'GET', '/api/config/engines');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      asr_engine: 'auto', stt_language: 'en', whisper_threads: 0, whisper_short_audio: true, llama_context_size: 0,
      espeak_backend: 'wasm', piper_backend: 'http', models_dir: '', models_dir_effective: join(gw.dataDir, 'models'), overridden: {},
    });
    expect(r.json.selected).toEqual({ asr: expect.any(String), tts: expect.any(String), llm: expect.any(String) });
  });

  it('POST applies live (the engine choice changes), saves, publishes and answers the new view', async () => {
    gw = await startGateway();
    const events = await eventStream(gw.url);
    cleanups.push(events.close);
    expect(gw.app.ctx.engines.selected.asr).toBe('whisper');
    const r = await call(gw, 'POST', '/api/config/engines', { asr_engine: 'openai', mlx_audio_base: 'http://127.0.0.1:8000', stt_language: 'de', whisper_threads: 2 });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, asr_engine: 'openai', mlx_audio_base: 'http://127.0.0.1:8000', stt_language: 'de', whisper_threads: 2, selected: { asr: 'openai' } });
    expect(gw.app.ctx.engines.selected.asr).toBe('openai');
    expect(savedConfig(gw)).toMatchObject({ asr_engine: 'openai', mlx_audio_base: 'http://127.0.0.1:8000', stt_language: 'de', whisper_threads: 2 });
    const e = await events.waitFor((x) => x.type === 'config.engines_updated');
    expect(e.data).toMatchObject({ asr_engine: 'openai', stt_language: 'de' });
  });

  it('a new models folder is created and used by the model manager at once', async () => {
    gw = await startGateway();
    const dir = mkdtempSync(join(tmpdir(), 'cf-models-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const target = join(dir, 'nested', 'models');
    const r = await call(gw, 'POST', '/api/config/engines', { models_dir: target });
    expect(r.json).toMatchObject({ ok: true, models_dir: target, models_dir_effective: target });
    expect((await call(gw, 'GET', '/api/models')).json.dir).toBe(target);
  });

  it('every bad value is refused with its key; a patch with one bad value changes nothing; the server stays up', async () => {
    gw = await startGateway();
    const before = savedConfigText(gw);
    const blocker = join(gw.dataDir, 'a-file');
    writeFileSync(blocker, 'x');
    const cases: [Record<string, unknown>, string][] = [
      [{ asr_engine: 'cloud' }, 'asr_engine'],
      [{ mlx_audio_base: 'ftp://host' }, 'mlx_audio_base'],
      [{ mlx_audio_base: 'not a url' }, 'mlx_audio_base'],
      [{ piper_base: 'http://' }, 'piper_base'],
      [{ stt_language: 'English please' }, 'stt_language'],
      [{ stt_model: '   ' }, 'stt_model'],
      [{ whisper_threads: -1 }, 'whisper_threads'],
      [{ whisper_threads: 'four' }, 'whisper_threads'],
      [{ llama_context_size: 1.5 }, 'llama_context_size'],
      [{ llama_max_sessions: 0 }, 'llama_max_sessions'],
      [{ espeak_voice: 'en; rm -rf /' }, 'espeak_voice'],
      [{ espeak_rate: 1000 }, 'espeak_rate'],
      [{ whisper_model: 'a\nb' }, 'whisper_model'],
      [{ models_dir: 'relative/models' }, 'models_dir'],
      [{ models_dir: join(blocker, 'models') }, 'models_dir'],
      [{ llm_api_key: 'sk-elsewhere' }, 'llm_api_key'],
      [{ whisper_threads: 2, engine_timeout_sec: 0 }, 'engine_timeout_sec'],
    ];
    for (const [patch, key] of cases) {
      const r = await call(gw, 'POST', '/api/config/engines', patch);
      expect(r.status, JSON.stringify(patch)).toBe(400);
      expect(errorKeys(r), JSON.stringify(patch)).toContain(key);
      expect(r.json.ok).toBe(false);
    }
    expect((await call(gw, 'POST', '/api/config/engines', '[1,2]')).status).toBe(400);
    expect(savedConfigText(gw)).toBe(before);
    expect(gw.app.ctx.config.get().whisper_threads).toBe(0);
    expect((await call(gw, 'GET', '/api/config/engines')).status).toBe(200);
  });

  it('names keys an environment variable overrides', async () => {
    gw = await startGateway({ app: { env: { GATEWAY_STT_LANGUAGE: 'fr' } } });
    const r = await call(gw, 'GET', '/api/config/engines');
    expect(r.json).toMatchObject({ stt_language: 'fr', overridden: { stt_language: 'environment' } });
  });
});

describe('GET/POST /api/config/network', () => {
  it('a new port and address are saved for the next start; the running server keeps its address and says a restart is pending', async () => {
    gw = await startGateway();
    const first = await call(gw, 'GET', '/api/config/network');
    expect(first.json).toMatchObject({ host: '127.0.0.1', port: 0, agent_token_required: false, restart_required: false, exposed: false, listening: { host: '127.0.0.1', port: 0 } });
    expect((first.json.listening as { bound_port: number }).bound_port).toBe(Number(new URL(gw.url).port));
    const r = await call(gw, 'POST', '/api/config/network', { port: 9107, host: '0.0.0.0' });
    expect(r.json).toMatchObject({ ok: true, port: 9107, host: '0.0.0.0', restart_required: true, exposed: true });
    expect(savedConfig(gw)).toMatchObject({ port: 9107, host: '0.0.0.0' });
    // still served where it was
    expect((await call(gw, 'GET', '/api/status')).status).toBe(200);
  });

  it('refuses bad addresses and ports, naming the key, and saves nothing', async () => {
    gw = await startGateway();
    const before = savedConfigText(gw);
    for (const [patch, key] of [
      [{ host: 'example.com' }, 'host'],
      [{ host: '127.0.0.1; rm -rf /' }, 'host'],
      [{ host: 42 }, 'host'],
      [{ port: 0 }, 'port'],
      [{ port: 70000 }, 'port'],
      [{ port: '8996' }, 'port'],
      [{ agent_token_required: 'yes' }, 'agent_token_required'],
      [{ bearer_token: 'x' }, 'bearer_token'],
    ] as [Record<string, unknown>, string][]) {
      const r = await call(gw, 'POST', '/api/config/network', patch);
      expect(r.status, JSON.stringify(patch)).toBe(400);
      expect(errorKeys(r), JSON.stringify(patch)).toContain(key);
    }
    expect(savedConfigText(gw)).toBe(before);
  });

  it('requiring the token applies at once: this computer then needs it too', async () => {
    gw = await startGateway();
    expect((await call(gw, 'POST', '/api/config/network', { agent_token_required: true })).json).toMatchObject({ ok: true, agent_token_required: true, restart_required: false });
    expect((await call(gw, 'GET', '/api/config/network')).status).toBe(401);
    const auth = { Authorization: `Bearer ${gw.operatorToken}` };
    expect((await call(gw, 'GET', '/api/config/network', undefined, auth)).json).toMatchObject({ agent_token_required: true });
    expect((await call(gw, 'POST', '/api/config/network', { agent_token_required: false }, auth)).json).toMatchObject({ ok: true, agent_token_required: false });
    expect((await call(gw, 'GET', '/api/config/network')).status).toBe(200);
  });

  it('names the address and port given on the command line (they win over the saved values)', async () => {
    gw = await startGateway({ app: { port: 0, host: '127.0.0.1' } });
    expect((await call(gw, 'GET', '/api/config/network')).json.overridden).toEqual({ host: 'command line', port: 'command line' });
  });
});
