import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, type AppConfig } from '../../src-shared/config/schema';
import { durationMs, encodeWav, parseWav, rms, type PcmAudio } from '../../src-shared/audio/wav';
import { createEspeakTts, ESPEAK_RATE } from '../../src-main/engines/embedded';
import { EspeakProcess } from '../../src-main/engines/embedded/espeak-process';
import { EngineUnavailableError } from '../../src-main/engines/types';

const hasSystemEspeak = spawnSync('espeak-ng', ['--version']).status === 0;
const closers: (() => Promise<void>)[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const c of closers) await c();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function make(over: Partial<AppConfig> = {}, opts: Parameters<typeof createEspeakTts>[1] = {}) {
  const cfg: AppConfig = { ...defaultConfig(), ...over };
  const tts = createEspeakTts(() => cfg, opts);
  closers.push(() => tts.close());
  return { tts, cfg };
}

function assertSpeech(a: PcmAudio, minMs: number, maxMs: number) {
  expect(a.sampleRate).toBe(ESPEAK_RATE);
  const ms = durationMs(a);
  expect(ms).toBeGreaterThan(minMs);
  expect(ms).toBeLessThan(maxMs);
  expect(rms(a.samples)).toBeGreaterThan(300); // not silence
  const back = parseWav(encodeWav(a));
  expect(back.sampleRate).toBe(a.sampleRate);
  expect(back.samples).toEqual(a.samples);
}

describe('espeak-ng TTS, WebAssembly build in a child process', () => {
  it('speaks a sentence as 22.05 kHz PCM that round-trips through the WAV codec', async () => {
    const { tts } = make();
    const a = await tts.synthesize('Hello, this is your assistant speaking.');
    assertSpeech(a, 1000, 5000);
  });

  it('speaks long text sentence by sentence, and faster at a higher rate', async () => {
    const { tts, cfg } = make();
    const one = await tts.synthesize('I can help with that.');
    const three = await tts.synthesize('I can help with that. Please tell me the date. Thank you for calling.');
    expect(durationMs(three)).toBeGreaterThan(durationMs(one) * 2);
    cfg.espeak_rate = 350;
    const fast = await tts.synthesize('I can help with that. Please tell me the date. Thank you for calling.');
    expect(durationMs(fast)).toBeLessThan(durationMs(three) * 0.75);
    assertSpeech(fast, 500, 8000);
  });

  it('uses the voice from config, and the language when no voice is set', async () => {
    const { tts, cfg } = make({ tts_lang: 'de' });
    expect(tts.params().voice).toBe('de');
    assertSpeech(await tts.synthesize('Guten Tag, wie kann ich helfen?'), 800, 5000);
    cfg.espeak_voice = 'en-us+f3';
    assertSpeech(await tts.synthesize('Good morning.'), 300, 3000);
  });

  it('reports an unknown voice as a clear error and keeps speaking with a good one', async () => {
    const { tts, cfg } = make({ espeak_voice: 'xx-nonexistent' });
    const err = await tts.synthesize('Hello.').catch((e) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect(err.message).toMatch(/unknown voice 'xx-nonexistent'/);
    cfg.espeak_voice = 'en-us';
    assertSpeech(await tts.synthesize('Hello again.'), 300, 3000);
  });

  it('returns a short silence for text with nothing to say', async () => {
    const { tts } = make();
    const a = await tts.synthesize(' *** ');
    expect(a.sampleRate).toBe(ESPEAK_RATE);
    expect(rms(a.samples)).toBe(0);
  });

  it('honours an AbortSignal', async () => {
    const { tts } = make();
    const ac = new AbortController();
    ac.abort();
    await expect(tts.synthesize('Hello.', { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const ac2 = new AbortController();
    const p = tts.synthesize('One. Two. Three. Four. Five. Six. Seven. Eight.', { signal: ac2.signal });
    setTimeout(() => ac2.abort(), 5);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    assertSpeech(await tts.synthesize('Still here.'), 300, 3000);
  });

  it('restarts the voice process after a crash', async () => {
    const proc = new EspeakProcess();
    closers.push(() => proc.close());
    const first = await proc.synth({ text: 'Before the crash.', voice: 'en-us', rate: 175, pitch: 50 });
    const pid = proc.pid;
    const crash = await proc.crashForTest();
    expect(String(crash)).toMatch(/espeak-ng process exited \(code 70\)/);
    const again = await proc.synth({ text: 'After the crash.', voice: 'en-us', rate: 175, pitch: 50 });
    expect(again.samples.length).toBeGreaterThan(first.samples.length / 3);
    expect(proc.pid).not.toBe(pid);
    expect(proc.restarts).toBe(1);
  });

  it('gives up with a clear error when the voice process keeps crashing', async () => {
    const { tts } = make({}, { process: { maxCrashes: 2 } });
    await tts.synthesize('Warm.');
    const proc = (tts as unknown as { proc: EspeakProcess }).proc;
    await proc.crashForTest();
    await proc.crashForTest();
    const err = await tts.synthesize('Hello.').catch((e) => e);
    expect(err.message).toMatch(/crashed 2 times in a row/);
    const h = await tts.health();
    expect(h.ok).toBe(false);
    expect(String(h.error)).toMatch(/speech is disabled until the TTS settings change/);
  });

  it('warms up and reports health', async () => {
    const { tts } = make();
    await tts.warmup();
    const h = await tts.health();
    expect(h).toMatchObject({ ok: true, backend: 'espeak-ng-wasm', voice: 'en-us', running: true });
    expect((await tts.voices()).some((v) => v.id === 'gmw/en-US')).toBe(true);
  });
});

describe('espeak-ng TTS, system program', () => {
  it.skipIf(!hasSystemEspeak)('speaks through the espeak-ng binary (skipped: espeak-ng not installed)', async () => {
    const { tts } = make({ espeak_backend: 'system' });
    assertSpeech(await tts.synthesize('Hello from the system voice. Second sentence here.'), 1000, 8000);
    expect((await tts.health()).ok).toBe(true);
  });

  it('passes text that looks like options as text, not as arguments', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cf-espeak-'));
    dirs.push(dir);
    // a stand-in program that records its argv and stdin, then writes a valid WAV
    const fake = path.join(dir, 'fake-espeak');
    const log = path.join(dir, 'log.json');
    await writeFile(fake, `#!/usr/bin/env node
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  require('fs').writeFileSync(${JSON.stringify(log)}, JSON.stringify({ argv: process.argv.slice(2), input }));
  const n = 22050, b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0); b.writeUInt32LE(36 + n * 2, 4); b.write('WAVE', 8); b.write('fmt ', 12); b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(22050, 24); b.writeUInt32LE(44100, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(Math.sin(i / 5) * 5000), 44 + i * 2);
  process.stdout.write(b);
});
`);
    await chmod(fake, 0o755);
    const { tts } = make({ espeak_backend: 'system' }, { systemBinary: fake });
    await tts.synthesize('--help; rm -rf / $(reboot)');
    const rec = JSON.parse(await import('node:fs/promises').then((f) => f.readFile(log, 'utf8')));
    expect(rec.argv).toEqual(['--stdout', '-v', 'en-us', '-s', '175', '-p', '50']);
    expect(rec.input).toBe('--help; rm -rf (reboot)');
  });

  it('names the problem when the program is missing', async () => {
    const { tts } = make({ espeak_backend: 'system' }, { systemBinary: '/nonexistent/espeak-ng' });
    const err = await tts.synthesize('Hello.').catch((e) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect(err.message).toMatch(/cannot run \/nonexistent\/espeak-ng/);
    const h = await tts.health();
    expect(h.ok).toBe(false);
    expect(String(h.error)).toMatch(/install espeak-ng/);
  });
});
