/** A phone call whose ASR, LLM and TTS are OpenAI-compatible servers (upstream config keys), on loopback. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src-main/app';
import { NoPhoneBridge } from '../../src-main/phone/call-control';
import { parseWav } from '../../src-shared/audio/wav';
import { startFakeEngines, type FakeEngines } from '../helpers/fake-engines';
import { PhoneSim, utterance } from '../helpers/phone-sim';

let fake: FakeEngines;
let app: App;
let dataDir: string;

async function start(config: Record<string, unknown>) {
  dataDir = mkdtempSync(join(tmpdir(), 'cf-oa-'));
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ bearer_token: 'b-123456', port: 0, llm_model: 'qwen-test', stt_model: 'whisper-test', ...fake.config, ...config }));
  app = await createApp({ dataDir, logToConsole: false, env: {}, consoleDir: join(dataDir, 'none'), phone: new NoPhoneBridge() });
  return app.start();
}

beforeEach(async () => {
  fake = await startFakeEngines({ asr: ['book a table for two', 'at eight'], llm: (msgs) => `Sure. I noted: ${msgs[msgs.length - 1].content}. Anything else?` });
});
afterEach(async () => {
  await app?.stop();
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('upstream config with OpenAI-compatible engine servers', () => {
  it('transcribes, streams the reply sentence by sentence into TTS and answers with a canonical WAV', async () => {
    const url = await start({ llm_system_prompt: 'Be brief.' });
    expect(app.ctx.engines.selected).toMatchObject({ asr: 'openai', tts: 'openai', llm: 'openai' });
    const phone = new PhoneSim(url, 'b-123456');
    await phone.greeting('Hello there.');
    const r = await phone.say(utterance(2));
    expect(r.status).toBe(200);
    expect(r.reply).toBe('Sure. I noted: book a table for two. Anything else?');
    const wav = parseWav(r.audio!);
    expect(wav.sampleRate).toBe(24000);
    expect(r.json.metrics).toMatchObject({ llm_model: 'qwen-test' });

    const asr = fake.requestsFor('asr');
    expect(asr).toHaveLength(1); // /api/asr and /api/turn shared one transcription
    expect(asr[0].fields).toMatchObject({ model: 'whisper-test', language: 'en' });
    const llm = fake.requestsFor('llm')[0].json as { model: string; stream: boolean; messages: { role: string; content: string }[] };
    expect(llm.model).toBe('qwen-test');
    expect(llm.stream).toBe(true);
    expect(llm.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    // greeting + three reply sentences were synthesised separately (pipelined)
    const spoken = fake.requestsFor('tts').map((q) => (q.json as { input: string }).input);
    expect(spoken).toEqual(['Hello there.', 'Sure.', 'I noted: book a table for two.', 'Anything else?']);
  });

  it('says so clearly and stays up when the LLM server is down', async () => {
    const url = await start({});
    fake.fault('llm', { status: 503, body: { error: 'overloaded' } });
    const phone = new PhoneSim(url, 'b-123456');
    await phone.greeting('Hello.');
    const r = await phone.say(utterance(2));
    expect(r.status).toBe(200);
    expect(r.reply).toMatch(/trouble answering/);
    const health = (await fetch(`${url}/api/status`).then((x) => x.json())) as { error_count: number };
    expect(health.error_count).toBe(1);
  });
});
