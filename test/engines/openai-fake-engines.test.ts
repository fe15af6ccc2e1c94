/** The fake engine server itself: other suites rely on it behaving like the real servers. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseWav } from '../../src-shared/audio/wav';
import { fakeSpeechMs, parseMultipart, startFakeEngines, toneWav, type FakeEngines } from '../helpers/fake-engines';

let fake: FakeEngines;

beforeEach(async () => {
  fake = await startFakeEngines();
});
afterEach(async () => {
  await fake.close();
});

function upload(extra: Record<string, string> = {}, file = new Uint8Array([1, 2, 3])): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([file], { type: 'audio/wav' }), 'a.wav');
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  return fetch(`${fake.baseUrl}/v1/audio/transcriptions`, { method: 'POST', body: form });
}

const chat = (body: unknown) =>
  fetch(`${fake.llmBaseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('fake ASR', () => {
  it('answers a queue of transcripts in order, then a clear 500', async () => {
    fake.set({ asr: ['first', { text: 'second', segments: [] }] });
    expect(await (await upload()).json()).toEqual({ text: 'first' });
    expect(await (await upload()).json()).toEqual({ text: 'second', segments: [] });
    const third = await upload();
    expect(third.status).toBe(500);
    expect(await third.json()).toEqual({ detail: 'fake ASR script exhausted' });
  });

  it('records multipart fields and the file, and passes them to a script', async () => {
    fake.set({ asr: (file, call) => `${file.length}:${call.fields.model}:${call.filename}:${call.contentType}` });
    const res = await upload({ model: 'm1', language: 'en' }, new Uint8Array(10));
    expect(await res.json()).toEqual({ text: '10:m1:a.wav:audio/wav' });
    const [req] = fake.requestsFor('asr');
    expect(req.fields).toEqual({ model: 'm1', language: 'en' });
    expect(req.parts?.map((p) => p.name)).toEqual(['file', 'model', 'language']);
  });

  it('answers 400 without a file part', async () => {
    const form = new FormData();
    form.append('model', 'x');
    const res = await fetch(`${fake.baseUrl}/v1/audio/transcriptions`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: 'multipart field "file" is required' });
  });
});

describe('fake TTS and Piper', () => {
  it('answers real WAVs whose length follows the text, in the requested layout', async () => {
    fake.set({ tts: { sampleRate: 48000, format: 'float32', channels: 2, msPerChar: 10 } });
    const speech = await fetch(`${fake.baseUrl}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'x'.repeat(30) }) });
    expect(speech.headers.get('content-type')).toBe('audio/wav');
    const bytes = new Uint8Array(await speech.arrayBuffer());
    expect(new DataView(bytes.buffer).getUint16(20, true)).toBe(3); // float format tag
    expect(new DataView(bytes.buffer).getUint16(22, true)).toBe(2);
    const a = parseWav(bytes);
    expect(a.sampleRate).toBe(48000);
    expect(a.samples.length).toBe(Math.round((48000 * fakeSpeechMs('x'.repeat(30), { msPerChar: 10 })) / 1000));

    const piper = await fetch(fake.piperUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Hallo' }) });
    expect(parseWav(new Uint8Array(await piper.arrayBuffer())).sampleRate).toBe(22050);
  });

  it('answers 400 when the text field is missing or the JSON is broken', async () => {
    const noInput = await fetch(`${fake.baseUrl}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noInput.status).toBe(400);
    const broken = await fetch(fake.piperUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ detail: 'body is not valid JSON' });
  });

  it('toneWav writes a header parseWav reads back exactly', () => {
    for (const opts of [{ sampleRate: 8000 }, { sampleRate: 24000, channels: 2 }, { sampleRate: 44100, format: 'float32' as const }]) {
      const a = parseWav(new Uint8Array(toneWav(250, opts)));
      expect(a.sampleRate).toBe(opts.sampleRate);
      expect(a.samples.length).toBe(Math.round(opts.sampleRate / 4));
    }
  });
});

describe('fake LLM', () => {
  it('answers non-streamed requests with a chat completion and a queue in order', async () => {
    fake.set({ llm: ['one', 'two'] });
    const first = (await (await chat({ model: 'm', messages: [] })).json()) as { choices: { message: { content: string } }[]; model: string };
    expect(first.choices[0].message.content).toBe('one');
    expect(first.model).toBe('m');
    const second = (await (await chat({ messages: [] })).json()) as { choices: { message: { content: string } }[] };
    expect(second.choices[0].message.content).toBe('two');
    expect((await chat({ messages: [] })).status).toBe(500);
  });

  it('streams SSE chunks ending with [DONE]', async () => {
    fake.set({ llm: 'a b' });
    const res = await chat({ messages: [], stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const lines = (await res.text()).split('\n\n').filter(Boolean);
    expect(lines[lines.length - 1]).toBe('data: [DONE]');
    const deltas = lines.slice(0, -1).map((l) => (JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0].delta.content);
    expect(deltas).toEqual(['', 'a', ' b', undefined]);
  });

  it('answers 400 to a body without messages', async () => {
    expect((await chat({ model: 'x' })).status).toBe(400);
  });
});

describe('fake faults and lifecycle', () => {
  it('applies faults in order for their number of requests, then answers normally', async () => {
    fake.fault('models', { status: 503, times: 2 });
    fake.fault('models', { body: 'raw', contentType: 'text/plain', times: 1 });
    const statuses: (number | string)[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${fake.baseUrl}/v1/models`);
      statuses.push(res.status === 200 ? await res.text() : res.status);
    }
    expect(statuses.slice(0, 3)).toEqual([503, 503, 'raw']);
    expect(JSON.parse(String(statuses[3]))).toMatchObject({ object: 'list' });
    fake.fault('models', { status: 500 });
    fake.clearFaults('models');
    expect((await fetch(`${fake.baseUrl}/v1/models`)).status).toBe(200);
  });

  it('drops the connection on a destroy fault', async () => {
    fake.fault('models', { destroy: true, times: 1 });
    await expect(fetch(`${fake.baseUrl}/v1/models`)).rejects.toThrow(/fetch failed/);
    expect(await fake.requestsFor('models')[0].outcome).toBe('aborted');
  });

  it('answers 404 for unknown routes and records them', async () => {
    const res = await fetch(`${fake.baseUrl}/nope`);
    expect(res.status).toBe(404);
    expect(fake.requests[0]).toMatchObject({ route: 'unknown', method: 'GET', path: '/nope' });
  });

  it('waits for requests by route and count', async () => {
    const waiting = fake.waitForRequests('models', 2);
    await fetch(`${fake.baseUrl}/v1/models`);
    await fetch(`${fake.baseUrl}/models`);
    expect((await waiting).map((r) => r.path)).toEqual(['/v1/models', '/models']);
    fake.clearRequests();
    expect(fake.requests).toHaveLength(0);
  });

  it('close() ends hanging requests and releases the port', async () => {
    const other = await startFakeEngines();
    other.fault('llm', { hang: true });
    const pending = fetch(`${other.llmBaseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages":[]}' }).then(
      () => 'answered',
      () => 'failed',
    );
    await other.nextRequest('llm');
    await other.close();
    expect(await pending).toBe('failed');
    await expect(fetch(`${other.baseUrl}/v1/models`)).rejects.toThrow(/fetch failed/);
  });
});

describe('parseMultipart', () => {
  it('splits parts with a quoted boundary and keeps binary data intact', () => {
    const bin = Buffer.from([0, 13, 10, 45, 45, 255]);
    const body = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="audio"; filename="u.wav"\r\nContent-Type: audio/wav\r\n\r\n'),
      bin,
      Buffer.from('\r\n--XyZ\r\nContent-Disposition: form-data; name="session_id"\r\n\r\nabc\r\n--XyZ--\r\n'),
    ]);
    const parts = parseMultipart(body, 'multipart/form-data; boundary="XyZ"');
    expect(parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
      ['audio', 'u.wav', 'audio/wav'],
      ['session_id', undefined, undefined],
    ]);
    expect(Buffer.compare(parts[0].data, bin)).toBe(0);
    expect(parts[1].value).toBe('abc');
  });

  it('refuses a body without boundary or terminator', () => {
    expect(() => parseMultipart(Buffer.from('x'), 'multipart/form-data')).toThrow(/without a boundary/);
    expect(() => parseMultipart(Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv'), 'multipart/form-data; boundary=b')).toThrow(/not terminated/);
  });
});
