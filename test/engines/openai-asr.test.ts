import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseWav } from '../../src-shared/audio/wav';
import type { AppConfig } from '../../src-shared/config/schema';
import { HealthCache, OpenAiAsr } from '../../src-main/engines/openai';
import { EngineUnavailableError, type AsrInput } from '../../src-main/engines/types';
import { fakeEngineConfig, startFakeEngines, toneWav, unusedPort, rejectionOf, type FakeEngines } from '../helpers/fake-engines';

let fake: FakeEngines;
let cfg: AppConfig;
let asr: OpenAiAsr;

function utterance(ms = 400, rate = 24000): AsrInput {
  const wav = new Uint8Array(toneWav(ms, { sampleRate: rate }));
  return { wav, audio: parseWav(wav) };
}

beforeEach(async () => {
  fake = await startFakeEngines({ asr: 'hello there' });
  cfg = fakeEngineConfig(fake);
  asr = new OpenAiAsr(() => cfg);
});
afterEach(async () => {
  await fake.close();
});

describe('OpenAiAsr request', () => {
  it('posts the WAV as multipart part "file" (turn.wav, audio/wav) with model and language fields', async () => {
    const input = utterance();
    const out = await asr.transcribe(input);
    expect(out.text).toBe('hello there');
    const [req] = fake.requestsFor('asr');
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/audio/transcriptions');
    expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.parts?.map((p) => p.name)).toEqual(['file', 'model', 'language']);
    expect(req.file?.filename).toBe('turn.wav');
    expect(req.file?.contentType).toBe('audio/wav');
    expect(Buffer.compare(req.file!.data, Buffer.from(input.wav))).toBe(0);
    expect(req.fields).toEqual({ model: 'mlx-community/parakeet-tdt-0.6b-v2', language: 'en' });
    // the part header exactly as servers (python-multipart, whisper.cpp) parse it
    expect(req.body.includes(Buffer.from('Content-Disposition: form-data; name="file"; filename="turn.wav"\r\nContent-Type: audio/wav\r\n\r\n'))).toBe(true);
  });

  it('sends the configured stt_model and stt_language, read live on every call', async () => {
    cfg.stt_model = 'whisper-1';
    cfg.stt_language = 'de';
    await asr.transcribe(utterance());
    cfg = { ...cfg, stt_model: 'large-v3', stt_language: 'fr' };
    await asr.transcribe(utterance());
    expect(fake.requestsFor('asr').map((r) => r.fields)).toEqual([
      { model: 'whisper-1', language: 'de' },
      { model: 'large-v3', language: 'fr' },
    ]);
  });

  it("uses the input's language over stt_language", async () => {
    await asr.transcribe({ ...utterance(), language: 'it' });
    expect(fake.requestsFor('asr')[0].fields?.language).toBe('it');
  });

  it('leaves out the language field when stt_language is empty (server auto-detects)', async () => {
    cfg.stt_language = '';
    await asr.transcribe(utterance());
    expect(fake.requestsFor('asr')[0].fields).toEqual({ model: 'mlx-community/parakeet-tdt-0.6b-v2' });
  });

  it('strips trailing slashes of mlx_audio_base', async () => {
    cfg.mlx_audio_base = `${fake.baseUrl}//`;
    await asr.transcribe(utterance());
    expect(fake.requestsFor('asr')[0].path).toBe('/v1/audio/transcriptions');
  });

  it('passes the uploaded bytes to a scripted transcriber', async () => {
    fake.set({ asr: (file) => `got ${file.length} bytes` });
    const input = utterance(100, 16000);
    expect((await asr.transcribe(input)).text).toBe(`got ${input.wav.length} bytes`);
  });
});

describe('OpenAiAsr response parsing', () => {
  it('takes "text" and runs it through safeText', async () => {
    fake.set({ asr: { text: '  \u201cHi\u201d \u2014 there\u2026\n\tfriend\u0007 ' } });
    expect((await asr.transcribe(utterance())).text).toBe('"Hi" - there... friend');
  });

  it('falls back to "transcript" when "text" is missing or empty', async () => {
    fake.set({ asr: { text: '', transcript: 'from transcript' } });
    expect((await asr.transcribe(utterance())).text).toBe('from transcript');
  });

  it('joins segments[].text with spaces when there is no text or transcript, and keeps the segments', async () => {
    fake.set({
      asr: {
        segments: [
          { start: 0, end: 1.2, text: ' Good morning, ', no_speech_prob: 0.1 },
          { start: 1.2, end: 2, text: 'how are you?', no_speech_prob: 0.4 },
        ],
      },
    });
    const out = await asr.transcribe(utterance());
    expect(out.text).toBe('Good morning, how are you?');
    expect(out.segments).toEqual([
      { start: 0, end: 1.2, text: 'Good morning,', noSpeechProb: 0.1 },
      { start: 1.2, end: 2, text: 'how are you?', noSpeechProb: 0.4 },
    ]);
    expect(out.noSpeechProb).toBe(0.1);
  });

  it('keeps "text" over segments but still returns the segments', async () => {
    fake.set({ asr: { text: 'whole text', segments: [{ start: 0, end: 1, text: 'seg' }] } });
    const out = await asr.transcribe(utterance());
    expect(out.text).toBe('whole text');
    expect(out.segments).toHaveLength(1);
    expect(out.noSpeechProb).toBeUndefined();
  });

  it('uses a bare JSON string directly', async () => {
    fake.fault('asr', { body: '"  bare   string "', contentType: 'application/json' });
    expect((await asr.transcribe(utterance())).text).toBe('bare string');
  });

  it('accepts a text/plain transcript', async () => {
    fake.fault('asr', { body: ' plain text reply\n', contentType: 'text/plain; charset=utf-8' });
    expect((await asr.transcribe(utterance())).text).toBe('plain text reply');
  });

  it('returns an empty transcript for an object without any transcript field (silence)', async () => {
    fake.set({ asr: { language: 'en', duration: 0.4 } });
    const out = await asr.transcribe(utterance());
    expect(out).toEqual({ text: '' });
  });

  it('rejects a body that is not JSON with a clear error, and the next call works', async () => {
    fake.fault('asr', { body: '{"text": "unterminated', contentType: 'application/json', times: 1 });
    await expect(asr.transcribe(utterance())).rejects.toThrow(/ASR server at http:\/\/127\.0\.0\.1:\d+ returned a body that is not valid JSON: \{"text": "unterminated/);
    expect((await asr.transcribe(utterance())).text).toBe('hello there');
  });

  it('rejects JSON that cannot hold a transcript (a number, a list)', async () => {
    fake.fault('asr', { body: '42', contentType: 'application/json', times: 1 });
    fake.fault('asr', { body: '["a"]', contentType: 'application/json', times: 1 });
    await expect(asr.transcribe(utterance())).rejects.toThrow(/returned JSON without a transcript: 42/);
    await expect(asr.transcribe(utterance())).rejects.toThrow(/returned JSON without a transcript/);
  });
});

describe('OpenAiAsr failures', () => {
  it('reports a non-2xx answer with its status and a snippet of the body', async () => {
    fake.fault('asr', { status: 503, body: { detail: 'model is still loading' }, times: 1 });
    const err = await rejectionOf(asr.transcribe(utterance()));
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/^ASR server at http:\/\/127\.0\.0\.1:\d+ answered HTTP 503: model is still loading$/);
    expect(err).toMatchObject({ name: 'EngineHttpError', status: 503, stage: 'asr' });
    expect((await asr.transcribe(utterance())).text).toBe('hello there');
  });

  it('truncates a long non-JSON error body', async () => {
    fake.fault('asr', { status: 500, body: `<html>${'x'.repeat(5000)}</html>`, contentType: 'text/html' });
    const err = await rejectionOf(asr.transcribe(utterance()));
    expect(err.message).toMatch(/answered HTTP 500: <html>x+…$/);
    expect(err.message.length).toBeLessThan(300);
  });

  it('says the server is not reachable when nothing listens', async () => {
    cfg.mlx_audio_base = `http://127.0.0.1:${await unusedPort()}`;
    await expect(asr.transcribe(utterance())).rejects.toThrow(`ASR server at ${cfg.mlx_audio_base} is not reachable (connection refused)`);
  });

  it('reports a dropped connection', async () => {
    fake.fault('asr', { destroy: true, times: 1 });
    await expect(asr.transcribe(utterance())).rejects.toThrow(/ASR server at http:\/\/127\.0\.0\.1:\d+ closed the connection unexpectedly/);
    expect((await asr.transcribe(utterance())).text).toBe('hello there');
  });

  it('gives up after engine_timeout_sec and the server sees the request cancelled', async () => {
    cfg.engine_timeout_sec = 0.3;
    fake.fault('asr', { hang: true, times: 1 });
    await expect(asr.transcribe(utterance())).rejects.toThrow(/ASR server at .* did not answer within 0\.3 s \(engine_timeout_sec\)/);
    expect(await fake.requestsFor('asr')[0].outcome).toBe('aborted');
  });

  it("stops when the caller's signal aborts, rethrowing the abort reason", async () => {
    fake.fault('asr', { hang: true, times: 1 });
    const ac = new AbortController();
    const pending = asr.transcribe({ ...utterance(), signal: ac.signal });
    const req = await fake.nextRequest('asr');
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(await req.outcome).toBe('aborted');
  });

  it('does not send anything when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('turn superseded'));
    await expect(asr.transcribe({ ...utterance(), signal: ac.signal })).rejects.toThrow('turn superseded');
    expect(fake.requestsFor('asr')).toHaveLength(0);
  });

  it('names the key when mlx_audio_base is empty or not a URL', async () => {
    cfg.mlx_audio_base = '';
    await expect(asr.transcribe(utterance())).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(asr.transcribe(utterance())).rejects.toThrow(/mlx_audio_base is not set/);
    cfg.mlx_audio_base = 'ftp://example';
    await expect(asr.transcribe(utterance())).rejects.toThrow(/mlx_audio_base "ftp:\/\/example" must start with http:\/\//);
    cfg.mlx_audio_base = 'not a url';
    await expect(asr.transcribe(utterance())).rejects.toThrow(/mlx_audio_base "not a url" is not a valid URL/);
  });
});

describe('OpenAiAsr health', () => {
  it('lists the server models', async () => {
    fake.set({ models: ['parakeet', 'kokoro'] });
    expect(await asr.health()).toEqual({ ok: true, models: ['parakeet', 'kokoro'] });
    expect(fake.requestsFor('models')[0].path).toBe('/v1/models');
  });

  it('reports an unreachable server, a non-2xx answer and an empty base as not ok', async () => {
    cfg.mlx_audio_base = `http://127.0.0.1:${await unusedPort()}`;
    expect(await new OpenAiAsr(() => cfg).health()).toEqual({ ok: false, error: expect.stringMatching(/is not reachable/) });
    cfg.mlx_audio_base = fake.baseUrl;
    fake.fault('models', { status: 500, body: 'boom' });
    expect(await new OpenAiAsr(() => cfg).health()).toEqual({ ok: false, error: expect.stringMatching(/answered HTTP 500: boom/) });
    cfg.mlx_audio_base = '';
    expect(await asr.health()).toEqual({ ok: false, error: expect.stringMatching(/mlx_audio_base is not set/) });
  });

  it('does not stall on a hanging server: the probe has its own short limit', async () => {
    fake.fault('models', { hang: true });
    const slow = new OpenAiAsr(() => cfg, { probeTimeoutMs: 200 });
    expect(await slow.health()).toEqual({ ok: false, error: expect.stringMatching(/did not answer within 0\.2 s/) });
  });

  it('reuses a result within the cache lifetime and probes again after it', async () => {
    let now = 1_000_000;
    const cached = new OpenAiAsr(() => cfg, { healthCache: new HealthCache({ ttlMs: 5000, now: () => now }) });
    await cached.health();
    now += 4000;
    await cached.health();
    expect(fake.requestsFor('models')).toHaveLength(1);
    now += 1500;
    await cached.health();
    expect(fake.requestsFor('models')).toHaveLength(2);
  });

  it('shares one probe between concurrent callers', async () => {
    fake.fault('models', { delayMs: 100 });
    const results = await Promise.all([asr.health(), asr.health(), asr.health()]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.requestsFor('models')).toHaveLength(1);
  });

  it('probes the new server after mlx_audio_base changes', async () => {
    await asr.health();
    const other = await startFakeEngines({ models: ['other'] });
    try {
      cfg.mlx_audio_base = other.baseUrl;
      expect(await asr.health()).toEqual({ ok: true, models: ['other'] });
    } finally {
      await other.close();
    }
  });
});
