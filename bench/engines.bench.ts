/**
 * npm run bench:engines — the embedded engines on random-weight models of the real sizes (their compute
 * cost equals the real models'): whisper tiny.en / base.en dimensions, a Q8_0 GGUF with Qwen2.5-0.5B
 * dimensions. Prints a table and writes bench/results/engines.json.
 *
 * Measures: ASR wall time and real-time factor on 3 s and 8 s utterances with and without the short-audio
 * optimisation (audio_ctx); espeak-ng time to first audio per sentence (WASM child process and the system
 * program); LLM first-token latency cold vs with a reused prefix, and tokens/s; a simulated turn (LLM
 * stream → sentence split → TTS per sentence) pipelined vs sequential.
 *
 * `prepareBenchEngines()` is exported for other measurements (e.g. the mock call's mouth-to-ear bench).
 * Env: BENCH_MODELS_DIR (cache of the generated model files, default <tmp>/clawfinger-bench-models),
 * BENCH_QUICK=1 (fewer repetitions). The machine must be otherwise idle: on 2 cores any other load makes the
 * multi-threaded numbers (whisper with 2 threads especially) many times slower.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, DEFAULT_SYSTEM_PROMPT, type AppConfig } from '../src-shared/config/schema';
import { resample } from '../src-shared/audio/resample';
import { concatPcm, durationMs, silence, type PcmAudio } from '../src-shared/audio/wav';
import { splitSentences } from '../src-shared/text/sanitize';
import { createEspeakTts, createLlamaLlm, createWhisperAsr, whisperBuildSimd, type EspeakTts, type LlamaLlm, type WhisperAsr } from '../src-main/engines/embedded';
import type { ChatMessage } from '../src-main/engines/types';
import { LLAMA_DIMS, WHISPER_DIMS, writeLlamaGguf, writeWhisperModel } from '../test/helpers/model-writers';

const QUICK = process.env.BENCH_QUICK === '1';
const REPS = QUICK ? 2 : 4;

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function ensureFile(file: string, write: () => Promise<number>): Promise<void> {
  if ((await stat(file).catch(() => null))?.size) return;
  const t0 = performance.now();
  const size = await write();
  console.log(`  wrote ${path.basename(file)} (${Math.round(size / 1e6)} MB) in ${Math.round(performance.now() - t0)} ms`);
}

export interface BenchModels { whisperTiny: string; whisperBase: string; qwen05: string }

/** Write (once) the random-weight models of real sizes. */
export async function prepareBenchModels(dir = process.env.BENCH_MODELS_DIR ?? path.join(os.tmpdir(), 'clawfinger-bench-models')): Promise<BenchModels> {
  await mkdir(dir, { recursive: true });
  const m: BenchModels = {
    whisperTiny: path.join(dir, 'ggml-tiny.en-random.bin'),
    whisperBase: path.join(dir, 'ggml-base.en-random.bin'),
    qwen05: path.join(dir, 'qwen2.5-0.5b-q8_0-random.gguf'),
  };
  await ensureFile(m.whisperTiny, () => writeWhisperModel(m.whisperTiny, { hparams: WHISPER_DIMS['tiny.en'], vocabEntries: 50257 }));
  await ensureFile(m.whisperBase, () => writeWhisperModel(m.whisperBase, { hparams: WHISPER_DIMS['base.en'], vocabEntries: 50257 }));
  await ensureFile(m.qwen05, () => writeLlamaGguf(m.qwen05, LLAMA_DIMS['qwen2.5-0.5b'], { name: 'Qwen2.5-0.5B-Instruct random weights' }));
  return m;
}

/** Engines of real cost for a turn: whisper (tiny.en dims), llama (Qwen2.5-0.5B dims), espeak WASM. */
export async function prepareBenchEngines(over: Partial<AppConfig> = {}): Promise<{ asr: WhisperAsr; llm: LlamaLlm; tts: EspeakTts; cfg: AppConfig; models: BenchModels; close(): Promise<void> }> {
  const models = await prepareBenchModels();
  const cfg: AppConfig = { ...defaultConfig(), ...over };
  const asr = createWhisperAsr(() => cfg, { modelPath: models.whisperTiny });
  const llm = createLlamaLlm(() => cfg, { modelPath: models.qwen05 });
  const tts = createEspeakTts(() => cfg);
  await Promise.all([asr.warmup(), tts.warmup()]);
  await llm.warmup();
  return { asr, llm, tts, cfg, models, close: async () => { await Promise.all([asr.close(), llm.close(), tts.close()]); } };
}

/** Speech of about `seconds` at 16 kHz: espeak-ng sentences, trimmed or padded with silence. */
async function speech(tts: EspeakTts, seconds: number): Promise<PcmAudio> {
  const text = 'Hello, I would like to book a table for four people tomorrow evening at seven. Could you please confirm the reservation and tell me if there is parking nearby?';
  const a = resample(await tts.synthesize(text), 16000);
  const n = Math.round(seconds * 16000);
  if (a.samples.length >= n) return { sampleRate: 16000, samples: a.samples.slice(0, n) };
  return concatPcm([a, silence(16000, ((n - a.samples.length) / 16000) * 1000)]);
}

async function benchAsr(tts: EspeakTts, models: BenchModels) {
  const out: Record<string, unknown>[] = [];
  const clips = { '3s': await speech(tts, 3), '8s': await speech(tts, 8) };
  for (const [name, file] of [['tiny.en', models.whisperTiny], ['base.en', models.whisperBase]] as const) {
    const cfg: AppConfig = { ...defaultConfig(), whisper_threads: os.cpus().length };
    const asr = createWhisperAsr(() => cfg, { modelPath: file });
    const t0 = performance.now();
    await asr.warmup();
    const loadMs = performance.now() - t0;
    for (const [clip, audio] of Object.entries(clips)) {
      for (const [short, threads] of [[true, 1], [true, os.cpus().length], [false, os.cpus().length]] as const) {
        cfg.whisper_threads = threads;
        const times: number[] = [];
        let ctx = 0;
        for (let i = 0; i < REPS; i++) {
          const t = performance.now();
          const r = await asr.transcribe({ wav: new Uint8Array(), audio }, { shortAudio: short });
          times.push(performance.now() - t);
          ctx = r.audioCtx;
        }
        const ms = median(times);
        out.push({ model: name, clip, short_audio: short, audio_ctx: ctx || 1500, threads: asr.threads(), ms: round(ms), rtf: round(ms / durationMs(audio), 3), load_and_warmup_ms: round(loadMs) });
      }
    }
    await asr.close();
  }
  return out;
}

const SENTENCES = [
  'Hello, thanks for calling.',
  'Sure, I can book a table for four people tomorrow at seven in the evening.',
  'Is there anything else I can help you with?',
  'The restaurant has free parking behind the building, and the entrance is on Main Street.',
  'Goodbye.',
];

async function benchTts() {
  const cfg: AppConfig = { ...defaultConfig() };
  const tts = createEspeakTts(() => cfg);
  const t0 = performance.now();
  await tts.warmup();
  const coldStartMs = performance.now() - t0;
  const p = tts.params();
  const wasm: Record<string, unknown>[] = [];
  for (const s of SENTENCES) {
    const firsts: number[] = [];
    const totals: number[] = [];
    let audioMs = 0;
    for (let i = 0; i < REPS; i++) {
      const t = performance.now();
      let first = 0;
      const a = await tts.speakOne(s, p, undefined, () => { if (!first) first = performance.now() - t; });
      totals.push(performance.now() - t);
      firsts.push(first);
      audioMs = durationMs(a);
    }
    wasm.push({ sentence: s, first_audio_ms: round(median(firsts)), full_sentence_ms: round(median(totals)), audio_ms: round(audioMs) });
  }
  await tts.close();
  const sysCfg: AppConfig = { ...defaultConfig(), espeak_backend: 'system' };
  const sys = createEspeakTts(() => sysCfg);
  const system: Record<string, unknown>[] = [];
  try {
    for (const s of SENTENCES) {
      const totals: number[] = [];
      for (let i = 0; i < REPS; i++) {
        const t = performance.now();
        await sys.speakOne(s, p);
        totals.push(performance.now() - t);
      }
      system.push({ sentence: s, first_audio_ms: round(median(totals)), full_sentence_ms: round(median(totals)) });
    }
  } catch (e) {
    system.push({ error: (e as Error).message });
  }
  return { wasm_cold_start_and_warmup_ms: round(coldStartMs), wasm, system };
}

const USER_1 = 'Hi, I would like to book a table for four people tomorrow evening, around seven if possible.';
const USER_2 = 'Great, and is there parking nearby? We will come by car.';

async function benchLlm(models: BenchModels, threads = 0) {
  const cfg: AppConfig = { ...defaultConfig(), llama_threads: threads };
  const system: ChatMessage = { role: 'system', content: DEFAULT_SYSTEM_PROMPT };
  const llm = createLlamaLlm(() => cfg, { modelPath: models.qwen05 });
  const t0 = performance.now();
  // cold: nothing of the prompt is in any KV cache (no warm-up)
  const cold = await llm.complete({ messages: [system, { role: 'user', content: USER_1 }], params: { maxTokens: 1, temperature: 0.2 }, sessionKey: 'call-1' });
  const loadAndColdMs = performance.now() - t0;
  // reused prefix: the same call's next turn. Its previous reply is in the KV cache as generated — with a real
  // model the reply's text tokenizes back to those tokens; random weights produce text that does not, so the
  // previous reply is kept one token long to measure what a real turn costs: the new user turn only.
  const reused = await llm.complete({ messages: [system, { role: 'user', content: USER_1 }, { role: 'assistant', content: cold.text }, { role: 'user', content: USER_2 }], params: { maxTokens: 40, temperature: 0.2 }, sessionKey: 'call-1' });
  llm.releaseSession('call-1');
  // a new call on the pooled context: its system prompt is already evaluated
  const newCall = await llm.complete({ messages: [system, { role: 'user', content: USER_2 }], params: { maxTokens: 1, temperature: 0.2 }, sessionKey: 'call-2' });
  llm.releaseSession('call-2');
  await llm.close();
  const tps = (r: { tokens?: number; ttftMs?: number; totalMs: number }) => round(((r.tokens ?? 1) - 1) / Math.max(0.001, (r.totalMs - (r.ttftMs ?? 0)) / 1000));
  return {
    model: 'Qwen2.5-0.5B dims, Q8_0, random weights',
    threads: llm.threads(),
    load_plus_cold_turn_ms: round(loadAndColdMs),
    first_token_cold_ms: round(cold.ttftMs ?? NaN),
    prompt_tokens_cold: cold.promptTokensEvaluated,
    first_token_reused_prefix_ms: round(reused.ttftMs ?? NaN),
    prompt_tokens_reused_turn: reused.promptTokensEvaluated,
    first_token_new_call_warm_system_prompt_ms: round(newCall.ttftMs ?? NaN),
    prompt_tokens_new_call: newCall.promptTokensEvaluated,
    tokens_per_s: tps(reused),
    tokens: reused.tokens,
  };
}

const CANNED_REPLY = 'Sure, I can book a table for four tomorrow at seven. There is free parking right behind the restaurant. Is there anything else I can do for you?';

/** One simulated reply: the LLM's real token timing, a canned reply's words (random weights say nothing useful). */
async function simulateTurn(llm: LlamaLlm, tts: EspeakTts, pipelined: boolean, key: string) {
  const words = CANNED_REPLY.split(' ');
  const p = tts.params();
  const t0 = performance.now();
  let text = '';
  let pending = '';
  let firstAudio = 0;
  const jobs: Promise<PcmAudio>[] = [];
  const speak = (s: string) => {
    const job = tts.speakOne(s, p).then((a) => { if (!firstAudio) firstAudio = performance.now() - t0; return a; });
    jobs.push(job);
  };
  let i = 0;
  await llm.complete({
    messages: [{ role: 'system', content: DEFAULT_SYSTEM_PROMPT }, { role: 'user', content: USER_1 }],
    params: { maxTokens: words.length, temperature: 0.2 }, sessionKey: key,
    onToken: () => {
      if (i >= words.length) return;
      const w = (i ? ' ' : '') + words[i++];
      text += w;
      if (!pipelined) return;
      pending += w;
      if (/[.!?]$/.test(pending)) { speak(pending.trim()); pending = ''; }
    },
  });
  llm.releaseSession(key);
  const llmDone = performance.now() - t0;
  if (pipelined) { if (pending.trim()) speak(pending.trim()); }
  else for (const s of splitSentences(text)) speak(s);
  const parts = await Promise.all(jobs);
  const full = performance.now() - t0;
  return { first_audio_ready_ms: round(firstAudio), full_reply_ready_ms: round(full), llm_done_ms: round(llmDone), sentences: parts.length, reply_audio_ms: round(parts.reduce((n, a) => n + durationMs(a), 0)) };
}

async function benchTurn(models: BenchModels, threads = 0) {
  const cfg: AppConfig = { ...defaultConfig(), llama_threads: threads };
  const llm = createLlamaLlm(() => cfg, { modelPath: models.qwen05 });
  const tts = createEspeakTts(() => cfg);
  await Promise.all([llm.warmup(), tts.warmup()]);
  const seq: Record<string, number>[] = [];
  const pip: Record<string, number>[] = [];
  for (let r = 0; r < (QUICK ? 1 : 2); r++) {
    seq.push(await simulateTurn(llm, tts, false, `seq-${r}`));
    pip.push(await simulateTurn(llm, tts, true, `pip-${r}`));
  }
  await Promise.all([llm.close(), tts.close()]);
  const med = (xs: Record<string, number>[]) => Object.fromEntries(Object.keys(xs[0]).map((k) => [k, median(xs.map((x) => x[k]))]));
  return { sequential: med(seq), pipelined: med(pip) };
}

async function main() {
  const started = Date.now();
  console.log(`engines bench on ${os.cpus().length} cores, whisper.cpp SIMD: ${whisperBuildSimd()}${QUICK ? ' (quick)' : ''}`);
  console.log('preparing random-weight models of real sizes…');
  const models = await prepareBenchModels();
  const cfg: AppConfig = { ...defaultConfig() };
  const speaker = createEspeakTts(() => cfg);
  await speaker.warmup();

  console.log('ASR…');
  const asr = await benchAsr(speaker, models);
  await speaker.close();
  console.table(asr);
  console.log('TTS…');
  const tts = await benchTts();
  console.table(tts.wasm);
  console.table(tts.system);
  console.log('LLM…');
  const llm = await benchLlm(models);
  const llmAllCores = os.cpus().length > 1 ? await benchLlm(models, os.cpus().length) : null;
  console.table(llmAllCores ? [llm, llmAllCores] : [llm]);
  console.log('turn: LLM stream → sentences → TTS…');
  const turn = await benchTurn(models);
  console.table(turn);
  // the same turn with llama.cpp on every core, espeak-ng competing for them (is the default right?)
  const turnAllCores = os.cpus().length > 1 ? await benchTurn(models, os.cpus().length) : null;
  if (turnAllCores) {
    console.log(`the same with llama_threads ${os.cpus().length}:`);
    console.table(turnAllCores);
  }

  const asrTiny3 = asr.filter((r) => r.model === 'tiny.en' && r.clip === '3s' && r.short_audio).sort((a, b) => Number(a.ms) - Number(b.ms))[0] as { ms: number };
  const espeakFirst = (tts.wasm[0] as { first_audio_ms: number }).first_audio_ms;
  const espeakFull = (tts.wasm[0] as { full_sentence_ms: number }).full_sentence_ms;
  const targets = {
    asr_tiny_3s_ms: { target: 400, value: asrTiny3.ms, ok: asrTiny3.ms <= 400 },
    espeak_first_sentence_first_audio_ms: { target: 150, value: espeakFirst, ok: espeakFirst <= 150 },
    espeak_first_sentence_full_ms: { target: 150, value: espeakFull, ok: espeakFull <= 150 },
    llm_first_token_reused_prefix_ms: { target: 300, value: llm.first_token_reused_prefix_ms, ok: llm.first_token_reused_prefix_ms <= 300 },
  };
  console.table(targets);
  const result = {
    bench: 'engines',
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memory_mb: Math.round(os.totalmem() / 1048576), node: process.version },
    whisper_simd: whisperBuildSimd(),
    quick: QUICK,
    asr, tts, llm, llm_all_cores: llmAllCores, turn, turn_all_cores: turnAllCores, targets,
    duration_s: Math.round((Date.now() - started) / 1000),
  };
  const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'engines.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote bench/results/engines.json in ${result.duration_s} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
