/** The config schema: upstream defaults (spec §11.2), legacy migration, env overrides, patch validation, secrets. */
import { describe, expect, it } from 'vitest';
import {
  ConfigError, configShape, defaultConfig, envOverrides, fillOwner, keyKind, migrateLegacy, parseConfig, publicConfig, SECRET_KEYS, upstreamKeys, validatePatch,
} from '../../src-shared/config/schema';

describe('defaults', () => {
  it('fills every upstream key of spec §11.2 with the upstream code default', () => {
    const cfg = defaultConfig();
    expect(cfg).toMatchObject({
      bearer_token: '',
      tts_model: 'mlx-community/Kokoro-82M-bf16',
      tts_voice: 'am_adam',
      tts_speed: 1.2,
      tts_lang: 'en',
      piper_base: 'http://127.0.0.1:5123',
      piper_voice: 'thorsten-high',
      piper_speaker: 0,
      piper_length_scale: 1.0,
      piper_noise_scale: 0.667,
      piper_noise_w: 0.8,
      piper_sentence_silence: 0.2,
      llm_model: '',
      llm_base_url: '',
      llm_api_key: '',
      llm_max_tokens: 400,
      llm_temperature: 0.2,
      llm_top_p: 1.0,
      llm_top_p_enabled: true,
      llm_top_k: 0,
      llm_top_k_enabled: true,
      llm_repeat_penalty: 1.0,
      llm_stop: [],
      llm_context_tokens: 0,
      llm_system_prompt: '',
      max_history_turns: 8,
      call_auto_answer: true,
      call_auto_answer_delay_ms: 500,
      caller_allowlist: [],
      caller_blocklist: [],
      unknown_callers_allowed: true,
      greeting_incoming: "Hello, I am {owner}'s assistant. Please wait for the beep before speaking.",
      greeting_outgoing: "Hello, this is {owner}'s assistant calling. Please wait for the beep before speaking.",
      greeting_owner: 'the owner',
      max_duration_sec: 300,
      max_duration_message: "I'm sorry, but we have reached the maximum call duration. Goodbye!",
      auth_passphrase: '',
      auth_reject_message: "I'm sorry, I can't help you right now. Goodbye.",
      auth_max_attempts: 3,
      keep_history: false,
      session_ttl: 300,
      // upstream's required keys get the values of its example file
      host: '127.0.0.1',
      port: 8996,
      stt_language: 'en',
    });
    // deliberate deviation (schema comment): upstream waits 60 s, longer than the phone's 45 s read timeout
    expect(cfg.agent_takeover_timeout).toBe(35);
    expect(cfg.agent_takeover_timeout).toBeLessThan(45);
    for (const k of Object.keys(upstreamKeys)) expect(cfg, k).toHaveProperty(k);
  });

  it('keeps unknown keys a user had (they are written back, never lost)', () => {
    const cfg = parseConfig({ my_custom_note: 'hello', nested: { a: 1 } }) as Record<string, unknown>;
    expect(cfg.my_custom_note).toBe('hello');
    expect(cfg.nested).toEqual({ a: 1 });
  });
});

describe('parseConfig errors name the key', () => {
  it('reads upstream values as upstream did: null is the default, out-of-range numbers are clamped, each noted', () => {
    const notes: { key: string; message: string }[] = [];
    const cfg = parseConfig({ max_history_turns: 0, llm_api_key: null, session_ttl: 5, llm_max_tokens: 0, tts_speed: 0.2, llm_repeat_penalty: 3, max_duration_sec: 1.5 }, notes);
    expect(cfg).toMatchObject({ max_history_turns: 1, llm_api_key: '', session_ttl: 10, llm_max_tokens: 1, tts_speed: 0.25, llm_repeat_penalty: 2.5, max_duration_sec: 2 });
    expect(notes.map((n) => n.key).sort()).toEqual(['llm_api_key', 'llm_max_tokens', 'llm_repeat_penalty', 'max_duration_sec', 'max_history_turns', 'session_ttl', 'tts_speed']);
    expect(notes.find((n) => n.key === 'session_ttl')?.message).toBe('5 is outside the allowed range: 10 is used');
  });

  it('rejects wrong types and out-of-range values', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ port: 'eighty' }, 'port'],
      [{ port: 70000 }, 'port'],
      [{ tts_speed: 'fast' }, 'tts_speed'],
      [{ port: 80.5 }, 'port'],
      [{ caller_allowlist: '+49' }, 'caller_allowlist'],
      [{ caller_blocklist: [1, 2] }, 'caller_blocklist'],
      [{ keep_history: 'yes' }, 'keep_history'],
      [{ max_duration_sec: Number.NaN }, 'max_duration_sec'],
      [{ log_level: 'loud' }, 'log_level'],
    ];
    for (const [raw, key] of bad) {
      let err: unknown;
      try {
        parseConfig(raw);
      } catch (e) {
        err = e;
      }
      expect(err, key).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.key.split('.')[0]), key).toContain(key);
      expect((err as ConfigError).message).toContain(key);
    }
  });
});

describe('legacy keys (spec §11.1)', () => {
  it('mlx_local backend → the local model, empty base URL; legacy keys removed', () => {
    const m = migrateLegacy({ llm_backend: 'mlx_local', llm_local_model: 'local-model', llm_remote_model: 'remote-model', llm_remote_base_url: 'http://x/v1', llm_remote_api_key: 'k' });
    expect(m).toEqual({ llm_model: 'local-model', llm_base_url: '' });
  });

  it('a remote backend → the remote model, base URL and key', () => {
    const m = migrateLegacy({ llm_backend: 'openai', llm_local_model: 'l', llm_remote_model: 'gpt-x', llm_remote_base_url: 'http://h:1/v1', llm_remote_api_key: 'sk-1', port: 8996 });
    expect(m).toEqual({ llm_model: 'gpt-x', llm_base_url: 'http://h:1/v1', llm_api_key: 'sk-1', port: 8996 });
  });

  it('a remote backend without a remote model falls back to the local model name', () => {
    expect(migrateLegacy({ llm_backend: 'remote', llm_local_model: 'only-local' })).toEqual({ llm_model: 'only-local' });
  });

  it('an explicit llm_model wins; legacy keys are dropped anyway', () => {
    expect(migrateLegacy({ llm_backend: 'mlx_local', llm_local_model: 'old', llm_model: 'new', llm_base_url: 'http://keep' })).toEqual({ llm_model: 'new', llm_base_url: 'http://keep' });
    expect(migrateLegacy({ llm_local_model: 'stray' })).toEqual({});
  });

  it('does not modify its input', () => {
    const raw = { llm_backend: 'mlx_local', llm_local_model: 'x' };
    migrateLegacy(raw);
    expect(raw).toEqual({ llm_backend: 'mlx_local', llm_local_model: 'x' });
  });

  it('parseConfig migrates too', () => {
    const cfg = parseConfig({ llm_backend: 'openai', llm_remote_model: 'm', llm_remote_base_url: 'http://r/v1' }) as Record<string, unknown>;
    expect(cfg.llm_model).toBe('m');
    expect(cfg.llm_base_url).toBe('http://r/v1');
    expect(cfg).not.toHaveProperty('llm_backend');
    expect(cfg).not.toHaveProperty('llm_remote_model');
  });
});

describe('GATEWAY_* environment overrides', () => {
  it('casts by the key type (bool, int, float, list, string)', () => {
    const { values, errors } = envOverrides({
      GATEWAY_KEEP_HISTORY: 'Yes',
      GATEWAY_CALL_AUTO_ANSWER: 'off',
      GATEWAY_UNKNOWN_CALLERS_ALLOWED: '1',
      GATEWAY_PORT: '9001',
      GATEWAY_TTS_SPEED: '1.5',
      GATEWAY_AGENT_TAKEOVER_TIMEOUT: '2.5',
      GATEWAY_SESSION_TTL: '600',
      GATEWAY_CALLER_BLOCKLIST: '["+4930123", "+4940"]',
      GATEWAY_BEARER_TOKEN: 'from-env',
      GATEWAY_LOG_LEVEL: 'debug',
      UNRELATED: 'x',
      GATEWAY_NOT_A_KEY: 'x',
    });
    expect(errors).toEqual([]);
    expect(values).toEqual({
      keep_history: true,
      call_auto_answer: false,
      unknown_callers_allowed: true,
      port: 9001,
      tts_speed: 1.5,
      agent_takeover_timeout: 2.5,
      session_ttl: 600,
      caller_blocklist: ['+4930123', '+4940'],
      bearer_token: 'from-env',
      log_level: 'debug',
    });
  });

  it('reports values that do not parse, naming the variable, and drops them', () => {
    const { values, errors } = envOverrides({
      GATEWAY_PORT: 'abc',
      GATEWAY_MAX_DURATION_SEC: '12abc',
      GATEWAY_SESSION_TTL: '60.5',
      GATEWAY_TTS_SPEED: 'fast',
      GATEWAY_LLM_TEMPERATURE: '',
      GATEWAY_CALLER_ALLOWLIST: 'not json',
    });
    expect(values).toEqual({});
    expect(errors.map((e) => e.key).sort()).toEqual(
      ['GATEWAY_CALLER_ALLOWLIST', 'GATEWAY_LLM_TEMPERATURE', 'GATEWAY_MAX_DURATION_SEC', 'GATEWAY_PORT', 'GATEWAY_SESSION_TTL', 'GATEWAY_TTS_SPEED'],
    );
    expect(errors.find((e) => e.key === 'GATEWAY_PORT')?.message).toMatch(/not an integer: abc/);
  });

  it('classifies every numeric key by whether it accepts fractions', () => {
    expect(keyKind('agent_takeover_timeout')).toBe('float');
    expect(keyKind('engine_timeout_sec')).toBe('float');
    expect(keyKind('session_ttl')).toBe('int');
    expect(keyKind('max_upload_bytes')).toBe('int');
    expect(keyKind('tts_speed')).toBe('float');
    expect(keyKind('llm_top_p')).toBe('float');
    expect(keyKind('port')).toBe('int');
    expect(keyKind('caller_allowlist')).toBe('list');
    expect(keyKind('keep_history')).toBe('bool');
    expect(keyKind('log_level')).toBe('string');
    expect(keyKind('nope')).toBe('unknown');
    for (const k of Object.keys(configShape)) {
      const kind = keyKind(k);
      expect(kind, k).not.toBe('unknown');
      if (kind === 'int') expect(configShape[k as keyof typeof configShape].safeParse((defaultConfig() as Record<string, unknown>)[k] as number + 0.5).success, k).toBe(false);
    }
  });
});

describe('validatePatch', () => {
  it('returns the validated values of known keys', () => {
    expect(validatePatch({ tts_speed: 1.1, caller_blocklist: ['+1'] })).toEqual({ ok: true, value: { tts_speed: 1.1, caller_blocklist: ['+1'] } });
  });

  it('names every bad key: unknown keys, wrong types, out of range', () => {
    const r = validatePatch({ tts_speed: 'fast', bogus_key: 1, max_history_turns: 0, greeting_owner: 'ok' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues.map((i) => i.key).sort()).toEqual(['bogus_key', 'max_history_turns', 'tts_speed']);
      expect(r.issues.find((i) => i.key === 'bogus_key')?.message).toMatch(/unknown/);
    }
  });

  it('does not fill defaults for keys that were not sent', () => {
    const r = validatePatch({ keep_history: true });
    expect(r).toEqual({ ok: true, value: { keep_history: true } });
  });
});

describe('publicConfig', () => {
  it('never contains the bearer, the LLM API key or the passphrase', () => {
    const cfg = parseConfig({ bearer_token: 'B-SECRET', llm_api_key: 'K-SECRET', auth_passphrase: 'P-SECRET' });
    const pub = publicConfig(cfg);
    for (const k of SECRET_KEYS) expect(pub).not.toHaveProperty(k);
    const text = JSON.stringify(pub);
    for (const s of ['B-SECRET', 'K-SECRET', 'P-SECRET']) expect(text).not.toContain(s);
  });

  it('keeps the non-secret keys upstream hid by substring (llm_max_tokens, llm_context_tokens)', () => {
    const pub = publicConfig(defaultConfig());
    expect(pub.llm_max_tokens).toBe(400);
    expect(pub.llm_context_tokens).toBe(0);
  });

  it('hides unknown keys whose names look secret (a user\'s own tts_api_key in config.json)', () => {
    const pub = publicConfig(parseConfig({ tts_api_key: 'T-SECRET', my_password: 'pw', harmless_note: 'visible' }));
    expect(pub).not.toHaveProperty('tts_api_key');
    expect(pub).not.toHaveProperty('my_password');
    expect(pub.harmless_note).toBe('visible');
  });
});

describe('fillOwner', () => {
  it('replaces every {owner}', () => {
    expect(fillOwner('{owner} and {owner}', 'Ada')).toBe('Ada and Ada');
    expect(fillOwner('no placeholder', 'Ada')).toBe('no placeholder');
    expect(fillOwner('{owner}', '$&')).toBe('$&');
  });
});

describe('config.json written by upstream with loosely typed values', () => {
  it('reads numeric and boolean strings of known keys as numbers and booleans', () => {
    const cfg = parseConfig({ max_duration_sec: '300', tts_speed: '1.1', keep_history: 'True', llm_model: '42' });
    expect(cfg.max_duration_sec).toBe(300);
    expect(cfg.tts_speed).toBe(1.1);
    expect(cfg.keep_history).toBe(true);
    expect(cfg.llm_model).toBe('42');
    expect(() => parseConfig({ max_duration_sec: 'five minutes' })).toThrow(/max_duration_sec/);
  });
});
