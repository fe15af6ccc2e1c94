/** The config file layer: first run, upstream files, env overrides never saved, atomic writes, reload. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_SYSTEM_PROMPT } from '../../src-shared/config/schema';
import { ConfigStore } from '../../src-main/config/store';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-cfg-'));
  file = join(dir, 'config.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const readJson = () => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('ConfigStore', () => {
  it('first run writes a default config with a random bearer token, readable only by the user', () => {
    const { store, created } = ConfigStore.open(file, { env: {} });
    expect(created).toBe(true);
    const saved = readJson();
    expect(typeof saved.bearer_token).toBe('string');
    expect((saved.bearer_token as string).length).toBeGreaterThanOrEqual(24);
    expect(store.get().bearer_token).toBe(saved.bearer_token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // like upstream's example config, a fresh install has the concise-assistant base prompt
    expect(saved.llm_system_prompt).toBe(DEFAULT_SYSTEM_PROMPT);
    const again = ConfigStore.open(join(dir, 'other.json'), { env: {} });
    expect(again.store.get().bearer_token).not.toBe(saved.bearer_token);
  });

  it('loads an upstream config.json with legacy keys unchanged on disk', () => {
    const upstream = {
      host: '127.0.0.1', port: 8996, bearer_token: 'CHANGE_ME', mlx_audio_base: 'http://127.0.0.1:8765',
      stt_model: 'mlx-community/parakeet-tdt-0.6b-v2', stt_language: 'en', tts_voice: 'af_heart',
      llm_backend: 'openai', llm_remote_model: 'gpt-4o-mini', llm_remote_base_url: 'https://api.example/v1', llm_remote_api_key: 'sk-old',
    };
    const text = JSON.stringify(upstream, null, 2) + '\n';
    writeFileSync(file, text);
    const { store, created } = ConfigStore.open(file, { env: {} });
    expect(created).toBe(false);
    expect(store.get()).toMatchObject({ tts_voice: 'af_heart', llm_model: 'gpt-4o-mini', llm_base_url: 'https://api.example/v1', llm_api_key: 'sk-old', mlx_audio_base: 'http://127.0.0.1:8765' });
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('applies env overrides but never writes them to the file', () => {
    writeFileSync(file, JSON.stringify({ bearer_token: 'file-bearer', tts_voice: 'am_adam' }));
    const { store } = ConfigStore.open(file, { env: { GATEWAY_BEARER_TOKEN: 'env-bearer', GATEWAY_KEEP_HISTORY: 'true', GATEWAY_SESSION_TTL: '42' } });
    expect(store.get()).toMatchObject({ bearer_token: 'env-bearer', keep_history: true, session_ttl: 42 });
    store.update({ tts_voice: 'af_bella' });
    const saved = readJson();
    expect(saved).toEqual({ bearer_token: 'file-bearer', tts_voice: 'af_bella' });
    expect(store.get()).toMatchObject({ bearer_token: 'env-bearer', tts_voice: 'af_bella', keep_history: true });
  });

  it('command-line overrides win over the file and are not saved', () => {
    writeFileSync(file, JSON.stringify({ port: 8996 }));
    const { store } = ConfigStore.open(file, { env: {}, overrides: { port: 0 } });
    expect(store.get().port).toBe(0);
    store.update({ greeting_owner: 'Ada' });
    expect(readJson()).toEqual({ port: 8996, greeting_owner: 'Ada' });
  });

  it('records env values that do not parse and ignores them', () => {
    writeFileSync(file, JSON.stringify({ port: 8996 }));
    const { store } = ConfigStore.open(file, { env: { GATEWAY_PORT: 'eighty' } });
    expect(store.get().port).toBe(8996);
    expect(store.envErrors).toEqual([{ key: 'GATEWAY_PORT', message: expect.stringContaining('eighty') }]);
  });

  it('refuses an invalid file with an error naming the key and the file', () => {
    writeFileSync(file, JSON.stringify({ port: 'x' }));
    expect(() => ConfigStore.open(file, { env: {} })).toThrow(ConfigError);
    expect(() => ConfigStore.open(file, { env: {} })).toThrow(/port/);
    writeFileSync(file, '{ not json');
    expect(() => ConfigStore.open(file, { env: {} })).toThrow(/not valid JSON/);
    writeFileSync(file, '[1,2]');
    expect(() => ConfigStore.open(file, { env: {} })).toThrow(/JSON object/);
  });

  it('update validates first (naming the key) and changes nothing on error', () => {
    writeFileSync(file, JSON.stringify({ tts_speed: 1.2 }));
    const { store } = ConfigStore.open(file, { env: {} });
    const before = readFileSync(file, 'utf8');
    expect(() => store.update({ tts_speed: 'fast', max_history_turns: 0 })).toThrow(/tts_speed.*max_history_turns|max_history_turns.*tts_speed/);
    expect(store.get().tts_speed).toBe(1.2);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('saves atomically: no temp files left, mode 0600, valid JSON after many writes', () => {
    writeFileSync(file, JSON.stringify({}));
    const { store } = ConfigStore.open(file, { env: {} });
    for (let i = 0; i < 25; i++) store.update({ call_auto_answer_delay_ms: i * 10 });
    expect(readdirSync(dir)).toEqual(['config.json']);
    expect(readJson().call_auto_answer_delay_ms).toBe(240);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });

  it('tells listeners which keys changed', () => {
    writeFileSync(file, JSON.stringify({}));
    const { store } = ConfigStore.open(file, { env: {} });
    const seen: string[][] = [];
    const off = store.onChange((_c, changed) => seen.push(changed as string[]));
    store.update({ keep_history: true, tts_voice: 'am_adam' });
    store.update({ keep_history: true });
    off();
    store.update({ keep_history: false });
    expect(seen).toEqual([['keep_history']]);
  });

  it('reload re-reads the file; a broken file leaves the running config as it was', () => {
    writeFileSync(file, JSON.stringify({ greeting_owner: 'Ada' }));
    const { store } = ConfigStore.open(file, { env: { GATEWAY_KEEP_HISTORY: 'yes' } });
    writeFileSync(file, JSON.stringify({ greeting_owner: 'Grace', llm_backend: 'mlx_local', llm_local_model: 'm' }));
    expect(store.reload()).toMatchObject({ greeting_owner: 'Grace', llm_model: 'm', keep_history: true });
    writeFileSync(file, '{ broken');
    expect(() => store.reload()).toThrow(ConfigError);
    expect(store.get().greeting_owner).toBe('Grace');
    writeFileSync(file, JSON.stringify({ greeting_owner: 5 }));
    expect(() => store.reload()).toThrow(/greeting_owner/);
    expect(store.get().greeting_owner).toBe('Grace');
  });
});
