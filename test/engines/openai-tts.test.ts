import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeWav, rms } from '../../src-shared/audio/wav';
import type { AppConfig } from '../../src-shared/config/schema';
import { createOpenAiEngines, HealthCache, OpenAiTts, PiperTts, TtsByLanguage } from '../../src-main/engines/openai';
import { fakeEngineConfig, fakeSpeechMs, startFakeEngines, toneWav, unusedPort, rejectionOf, type FakeEngines } from '../helpers/fake-engines';

let fake: FakeEngines;
let cfg: AppConfig;

beforeEach(async () => {
  fake = await startFakeEngines();
  cfg = fakeEngineConfig(fake);
});
afterEach(async () => {
  await fake.close();
});

const frames = (ms: number, rate: number) => Math.round((rate * ms) / 1000);

describe('OpenAiTts', () => {
  it('posts {model, input, voice, speed, response_format: "wav"} as JSON and decodes the WAV', async () => {
    const tts = new OpenAiTts(() => cfg);
    const audio = await tts.synthesize('Hello there, caller.');
    const [req] = fake.requestsFor('tts');
    expect(req.path).toBe('/v1/audio/speech');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body.toString('utf8'))).toEqual({
      model: 'mlx-community/Kokoro-82M-bf16',
      input: 'Hello there, caller.',
      voice: 'am_adam',
      speed: 1.2,
      response_format: 'wav',
    });
    expect(audio.sampleRate).toBe(24000);
    expect(audio.samples.length).toBe(frames(fakeSpeechMs('Hello there, caller.'), 24000));
    expect(rms(audio.samples)).toBeGreaterThan(1000); // a real tone, not silence
  });

  it('speaks the text trimmed for TTS (no markdown, links or symbols)', async () => {
    const tts = new OpenAiTts(() => cfg);
    await tts.synthesize('<think>plan</think> **Sure!** See [the docs](http://x.y) \u2014 ok 😀');
    expect((fake.requestsFor('tts')[0].json as { input: string }).input).toBe('Sure! See the docs - ok');
  });

  it('uses the voice and speed of the call over the config, and the config read live otherwise', async () => {
    const tts = new OpenAiTts(() => cfg);
    await tts.synthesize('one', { voice: 'bf_emma', speed: 0.9 });
    cfg = { ...cfg, tts_voice: 'af_heart', tts_speed: 1.5, tts_model: 'kokoro-v1' };
    await tts.synthesize('two');
    const bodies = fake.requestsFor('tts').map((r) => r.json as Record<string, unknown>);
    expect(bodies.map((b) => [b.model, b.voice, b.speed])).toEqual([
      ['mlx-community/Kokoro-82M-bf16', 'bf_emma', 0.9],
      ['kokoro-v1', 'af_heart', 1.5],
    ]);
  });

  it('accepts 32-bit float stereo 48 kHz WAV and down-mixes it to mono 16-bit', async () => {
    fake.set({ tts: { sampleRate: 48000, format: 'float32', channels: 2 } });
    const audio = await new OpenAiTts(() => cfg).synthesize('Float audio');
    expect(audio.sampleRate).toBe(48000);
    expect(audio.samples).toBeInstanceOf(Int16Array);
    expect(audio.samples.length).toBe(frames(fakeSpeechMs('Float audio'), 48000));
    expect(rms(audio.samples)).toBeGreaterThan(1000);
  });

  it('rejects a body that is not a WAV with a clear error, and the next call works', async () => {
    const tts = new OpenAiTts(() => cfg);
    fake.fault('tts', { body: { error: 'voice not found' }, times: 1 });
    const err = await rejectionOf(tts.synthesize('hi'));
    expect(err.message).toMatch(/^TTS server at http:\/\/127\.0\.0\.1:\d+ returned invalid audio \(not a WAV file: missing RIFF\/WAVE header; 27 bytes, application\/json, starts "\{"error":"voice not found"\}"\)$/);
    expect((await tts.synthesize('hi')).samples.length).toBeGreaterThan(0);
  });

  it('rejects a WAV without samples and a truncated WAV header', async () => {
    const tts = new OpenAiTts(() => cfg);
    fake.fault('tts', { body: Buffer.from(encodeWav({ sampleRate: 24000, samples: new Int16Array(0) })), contentType: 'audio/wav', times: 1 });
    await expect(tts.synthesize('hi')).rejects.toThrow(/TTS server at .* returned a WAV with no audio samples/);
    fake.fault('tts', { body: toneWav(100).subarray(0, 20), contentType: 'audio/wav', times: 1 });
    await expect(tts.synthesize('hi')).rejects.toThrow(/TTS server at .* returned invalid audio \(WAV chunk 'fmt ' declares 16 bytes/);
  });

  it('reports a non-2xx answer with status and snippet', async () => {
    fake.fault('tts', { status: 422, body: { detail: 'Unknown voice xx_bad' } });
    await expect(new OpenAiTts(() => cfg).synthesize('hi', { voice: 'xx_bad' })).rejects.toThrow(/^TTS server at http:\/\/127\.0\.0\.1:\d+ answered HTTP 422: Unknown voice xx_bad$/);
  });

  it('refuses text with nothing speakable without calling the server', async () => {
    await expect(new OpenAiTts(() => cfg).synthesize(' **  ## 😀 ')).rejects.toThrow(/nothing to speak/);
    expect(fake.requestsFor('tts')).toHaveLength(0);
  });

  it('times out, and stops on abort', async () => {
    cfg.engine_timeout_sec = 0.3;
    fake.fault('tts', { hang: true });
    const tts = new OpenAiTts(() => cfg);
    await expect(tts.synthesize('hi')).rejects.toThrow(/TTS server at .* did not answer within 0\.3 s/);
    cfg.engine_timeout_sec = 60;
    const ac = new AbortController();
    const pending = tts.synthesize('hi', { signal: ac.signal });
    const req = await fake.nextRequest('tts');
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(await req.outcome).toBe('aborted');
  });

  it('says the server is not reachable', async () => {
    cfg.mlx_audio_base = `http://127.0.0.1:${await unusedPort()}`;
    await expect(new OpenAiTts(() => cfg).synthesize('hi')).rejects.toThrow(/^TTS server at http:\/\/127\.0\.0\.1:\d+ is not reachable \(connection refused\)/);
  });
});

describe('PiperTts', () => {
  it('posts the piper_* knobs to the root of piper_base without speaker_id when piper_speaker is 0', async () => {
    const audio = await new PiperTts(() => cfg).synthesize('Guten Tag, wie geht es Ihnen?');
    const [req] = fake.requestsFor('piper');
    expect(req.path).toBe('/piper');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body.toString('utf8'))).toEqual({
      text: 'Guten Tag, wie geht es Ihnen?',
      length_scale: 1,
      noise_scale: 0.667,
      noise_w: 0.8,
      sentence_silence: 0.2,
    });
    expect(audio.sampleRate).toBe(22050);
    expect(audio.samples.length).toBe(frames(fakeSpeechMs('Guten Tag, wie geht es Ihnen?'), 22050));
  });

  it('adds speaker_id when piper_speaker is non-zero and never sends piper_voice, voice or speed', async () => {
    cfg = { ...cfg, piper_speaker: 4, piper_voice: 'thorsten_emotional-medium', piper_length_scale: 0.8, piper_noise_scale: 0.5, piper_noise_w: 0.6, piper_sentence_silence: 0.1 };
    await new PiperTts(() => cfg).synthesize('Hallo', { voice: 'af_heart', speed: 2 });
    expect(fake.requestsFor('piper')[0].json).toEqual({ text: 'Hallo', length_scale: 0.8, noise_scale: 0.5, noise_w: 0.6, sentence_silence: 0.1, speaker_id: 4 });
  });

  it('posts to "/" when piper_base has no path', async () => {
    cfg.piper_base = `${fake.baseUrl}/`;
    await new PiperTts(() => cfg).synthesize('Hallo');
    expect(fake.requestsFor('piper')[0].path).toBe('/');
  });

  it('rejects an invalid WAV and a non-2xx answer clearly', async () => {
    const piper = new PiperTts(() => cfg);
    fake.fault('piper', { body: 'Internal Server Error', contentType: 'text/html', times: 1 });
    await expect(piper.synthesize('Hallo')).rejects.toThrow(/^Piper server at http:\/\/127\.0\.0\.1:\d+\/piper returned invalid audio \(not a WAV file/);
    fake.fault('piper', { status: 500, body: 'KeyError: speaker_id', times: 1 });
    await expect(piper.synthesize('Hallo')).rejects.toThrow(/^Piper server at .*\/piper answered HTTP 500: KeyError: speaker_id$/);
    expect((await piper.synthesize('Hallo')).samples.length).toBeGreaterThan(0);
  });

  it('health synthesises "test" once and reuses the result; fresh forces a probe', async () => {
    let now = 0;
    const piper = new PiperTts(() => cfg, { healthCache: new HealthCache({ ttlMs: 30_000, now: () => now }) });
    expect(await piper.health()).toEqual({ ok: true });
    expect(fake.requestsFor('piper').map((r) => r.json)).toEqual([{ text: 'test' }]);
    now += 20_000;
    expect(await piper.health()).toEqual({ ok: true });
    expect(fake.requestsFor('piper')).toHaveLength(1);
    expect(await piper.health({ fresh: true })).toEqual({ ok: true });
    expect(fake.requestsFor('piper')).toHaveLength(2);
    now += 31_000;
    await piper.health();
    expect(fake.requestsFor('piper')).toHaveLength(3);
  });

  it('a real synthesis refreshes health both ways without a probe', async () => {
    const piper = new PiperTts(() => cfg);
    fake.fault('piper', { status: 503, body: 'busy', times: 1 });
    await expect(piper.synthesize('Hallo')).rejects.toThrow(/HTTP 503/);
    expect(await piper.health()).toEqual({ ok: false, error: expect.stringMatching(/answered HTTP 503: busy/) });
    await piper.synthesize('Hallo');
    expect(await piper.health()).toEqual({ ok: true });
    expect(fake.requestsFor('piper').every((r) => (r.json as { text: string }).text === 'Hallo')).toBe(true);
  });

  it('health of an unreachable or hanging Piper is a quick not-ok', async () => {
    fake.fault('piper', { hang: true });
    const piper = new PiperTts(() => cfg, { probeTimeoutMs: 200 });
    expect(await piper.health()).toEqual({ ok: false, error: expect.stringMatching(/Piper server at .* did not answer within 0\.2 s/) });
    cfg.piper_base = `http://127.0.0.1:${await unusedPort()}`;
    expect(await piper.health()).toEqual({ ok: false, error: expect.stringMatching(/is not reachable \(connection refused\)/) });
  });
});

describe('TtsByLanguage and the factory', () => {
  it('routes to Piper when tts_lang is "de" and to the speech endpoint otherwise, per call', async () => {
    const engines = createOpenAiEngines(() => cfg);
    expect(engines.tts.kind).toBe('openai');
    expect((await engines.tts.synthesize('Hello')).sampleRate).toBe(24000);
    cfg.tts_lang = 'de';
    expect(engines.tts.kind).toBe('piper');
    expect((await engines.tts.synthesize('Hallo')).sampleRate).toBe(22050);
    expect(fake.requests.map((r) => r.route)).toEqual(['tts', 'piper']);
    expect(engines.tts).toBeInstanceOf(TtsByLanguage);
  });

  it('audioHealth answers {mlx_audio, piper, ok} with one model probe shared by ASR and TTS', async () => {
    fake.set({ models: ['kokoro'] });
    const engines = createOpenAiEngines(() => cfg);
    const [asrHealth, combined] = await Promise.all([engines.asr.health(), engines.audioHealth()]);
    expect(asrHealth).toEqual({ ok: true, models: ['kokoro'] });
    expect(combined).toEqual({ mlx_audio: { ok: true, models: ['kokoro'] }, piper: { ok: true }, ok: true });
    expect(fake.requestsFor('models')).toHaveLength(1);
  });

  it('audioHealth mirrors the sidecar in "ok" even when only Piper is up', async () => {
    cfg.mlx_audio_base = `http://127.0.0.1:${await unusedPort()}`;
    const combined = await createOpenAiEngines(() => cfg).audioHealth();
    expect(combined.ok).toBe(false);
    expect(combined.mlx_audio.ok).toBe(false);
    expect(combined.piper).toEqual({ ok: true });
  });
});
