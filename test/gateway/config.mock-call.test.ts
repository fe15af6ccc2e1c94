/**
 * The mock-call settings section (/api/config/mock-call) on a real gateway: the view shows every key
 * with the schema defaults, a valid patch is saved and announced and the next mock call reads it, and
 * every bad value (unknown key, out of range, a device name with shell characters, minimum speech not
 * below the maximum utterance, a body that is not an object) is refused naming its key, changing nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { settingsFromConfig } from '../../src-main/mock-call/settings';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';
import { call, errorKeys, savedConfig, savedConfigText } from './support';

let gw: TestGateway | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await gw?.close();
  gw = undefined;
});


const DEFAULTS = {
  mock_barge_in: false,
  mock_barge_in_min_speech_ms: 200,
  mock_vad_engine: 'silero',
  mock_vad_threshold: 0.5,
  mock_vad_energy_threshold: 300,
  mock_vad_pre_roll_ms: 1200,
  mock_vad_min_speech_ms: 180,
  mock_vad_end_silence_ms: 520,
  mock_vad_max_utterance_ms: 8000,
  mock_input_device: '',
  mock_output_device: '',
  mock_recorder: 'auto',
  mock_level_interval_ms: 100,
};

describe('GET/POST /api/config/mock-call', () => {
  it('GET shows every key, the schema defaults and when the settings apply', async () => {
    gw = await startGateway();
    const r = await call(gw, 'GET', '/api/config/mock-call');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ...DEFAULTS, defaults: DEFAULTS, applies: 'next_mock_call', overridden: {} });
  });

  it('the defaults stay the defaults when saved values differ', async () => {
    gw = await startGateway({ config: { mock_vad_end_silence_ms: 700, mock_recorder: 'sox' } });
    const r = await call(gw, 'GET', '/api/config/mock-call');
    expect(r.json).toMatchObject({ mock_vad_end_silence_ms: 700, mock_recorder: 'sox', defaults: { mock_vad_end_silence_ms: 520, mock_recorder: 'auto' } });
  });

  it('POST saves to config.json, publishes config.mock_call_updated and the next mock call reads the new values', async () => {
    gw = await startGateway();
    const events = await eventStream(gw.url);
    cleanups.push(events.close);
    const patch = {
      mock_vad_end_silence_ms: 700, mock_vad_engine: 'energy', mock_vad_energy_threshold: 450, mock_vad_min_speech_ms: 240,
      mock_vad_max_utterance_ms: 12_000, mock_barge_in: true, mock_barge_in_min_speech_ms: 400,
      mock_input_device: 'plughw:CARD=PCH,DEV=0', mock_output_device: 'default', mock_recorder: 'arecord', mock_level_interval_ms: 250,
    };
    const r = await call(gw, 'POST', '/api/config/mock-call', patch);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, ...patch, defaults: DEFAULTS, applies: 'next_mock_call' });
    expect(savedConfig(gw)).toMatchObject(patch);
    const e = await events.waitFor((x) => x.type === 'config.mock_call_updated');
    expect(e.data).toMatchObject({ ...patch, defaults: DEFAULTS });
    expect((await call(gw, 'GET', '/api/config/mock-call')).json).toMatchObject(patch);

    // what a mock call started now is built from (the manager reads the config at start)
    const s = settingsFromConfig(gw.app.ctx.config.get());
    expect(s.endpointing).toMatchObject({ endSilenceMs: 700, minSpeechMs: 240, maxUtteranceMs: 12_000, preRollMs: 1200 });
    expect(s.vad).toMatchObject({ engine: 'energy', energyThreshold: 450 });
    expect(s).toMatchObject({ bargeIn: true, bargeInMinSpeechMs: 400, levelIntervalMs: 250 });
  });

  it('every bad value is refused with its key; nothing is saved; the server stays up', async () => {
    gw = await startGateway({ config: { mock_vad_min_speech_ms: 600, mock_vad_max_utterance_ms: 2000 } });
    const events = await eventStream(gw.url);
    cleanups.push(events.close);
    const before = savedConfigText(gw);
    const cases: [unknown, string][] = [
      [{ mock_vad_end_silence_ms: 600, mock_vad_gain: 2 }, 'mock_vad_gain'],
      [{ llm_model: 'elsewhere' }, 'llm_model'],
      [{ mock_vad_end_silence_ms: 50 }, 'mock_vad_end_silence_ms'],
      [{ mock_vad_end_silence_ms: 20_000 }, 'mock_vad_end_silence_ms'],
      [{ mock_vad_end_silence_ms: 520.5 }, 'mock_vad_end_silence_ms'],
      [{ mock_vad_end_silence_ms: '700' }, 'mock_vad_end_silence_ms'],
      [{ mock_vad_threshold: 1.5 }, 'mock_vad_threshold'],
      [{ mock_vad_max_utterance_ms: 100 }, 'mock_vad_max_utterance_ms'],
      [{ mock_vad_engine: 'webrtc' }, 'mock_vad_engine'],
      [{ mock_recorder: 'ffmpeg' }, 'mock_recorder'],
      [{ mock_barge_in: 'yes' }, 'mock_barge_in'],
      [{ mock_input_device: 'hw;rm -rf' }, 'mock_input_device'],
      [{ mock_output_device: 'default $(reboot)' }, 'mock_output_device'],
      [{ mock_input_device: '-D evil' }, 'mock_input_device'],
      // minimum speech must stay below the maximum utterance, the saved value counting for the other
      [{ mock_vad_min_speech_ms: 2000 }, 'mock_vad_min_speech_ms'],
      [{ mock_vad_max_utterance_ms: 500, mock_vad_end_silence_ms: 600 }, 'mock_vad_max_utterance_ms'],
      [{ mock_vad_min_speech_ms: 1000, mock_vad_max_utterance_ms: 1000 }, 'mock_vad_max_utterance_ms'],
      [{ mock_vad_min_speech_ms: 4000, mock_vad_max_utterance_ms: 3000 }, 'mock_vad_min_speech_ms'],
    ];
    for (const [patch, key] of cases) {
      const r = await call(gw, 'POST', '/api/config/mock-call', patch);
      expect(r.status, JSON.stringify(patch)).toBe(400);
      expect(r.json.ok).toBe(false);
      expect(errorKeys(r), JSON.stringify(patch)).toContain(key);
    }
    for (const body of ['[1,2]', '"text"', '42']) {
      const r = await call(gw, 'POST', '/api/config/mock-call', body);
      expect(r.status, body).toBe(400);
      expect(String(r.json.detail), body).toMatch(/object/);
    }
    expect(savedConfigText(gw)).toBe(before);
    expect(gw.app.ctx.config.get()).toMatchObject({ mock_vad_min_speech_ms: 600, mock_vad_max_utterance_ms: 2000, mock_vad_end_silence_ms: 520, mock_input_device: '' });
    expect(events.events.some((x) => x.type === 'config.mock_call_updated')).toBe(false);
    expect((await call(gw, 'GET', '/api/config/mock-call')).json).toMatchObject({ mock_vad_min_speech_ms: 600, mock_vad_max_utterance_ms: 2000 });
    expect((await call(gw, 'GET', '/api/status')).status).toBe(200);

    // the cross-field check accepts a pair that fits, in either order against the saved value
    expect((await call(gw, 'POST', '/api/config/mock-call', { mock_vad_max_utterance_ms: 500, mock_vad_min_speech_ms: 200 })).json).toMatchObject({ ok: true, mock_vad_max_utterance_ms: 500, mock_vad_min_speech_ms: 200 });
    expect((await call(gw, 'POST', '/api/config/mock-call', { mock_vad_min_speech_ms: 499 })).json).toMatchObject({ ok: true, mock_vad_min_speech_ms: 499 });
  });

  it('names keys an environment variable overrides', async () => {
    gw = await startGateway({ app: { env: { GATEWAY_MOCK_VAD_END_SILENCE_MS: '800' } } });
    const r = await call(gw, 'GET', '/api/config/mock-call');
    expect(r.json).toMatchObject({ mock_vad_end_silence_ms: 800, defaults: { mock_vad_end_silence_ms: 520 }, overridden: { mock_vad_end_silence_ms: 'environment' } });
  });
});
