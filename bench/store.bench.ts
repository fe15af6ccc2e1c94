/**
 * Call-history store benchmark: 100,000 turns across 5,000 calls committed through the observer
 * interface (one transaction per turn, as during real calls), then full-text search latency over
 * the whole set and the database size per hour of calls. A second, smaller run includes the
 * recordings (caller + reply WAV per turn).
 *
 *   npm run bench:store            (writes bench/results/store.json; about 2 minutes)
 *   STORE_BENCH_CALLS=500 npm run bench:store    (quick run)
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CallSummary, TurnMetrics, TurnRecord } from '../src-main/calls/types';
import { encodeWav } from '../src-shared/audio/wav';
import { CallStore, DEFAULT_SEARCH_CAP, type CallQuery } from '../src-main/store';
import type { Durability } from '../src-main/store/database';

const CALLS = Number(process.env.STORE_BENCH_CALLS ?? 5000);
const TURNS_PER_CALL = 20;
const CONCURRENT = 4; // calls in progress at once, their turns interleaved
const SEARCHES = 300;
const AUDIO_TURNS = Number(process.env.STORE_BENCH_AUDIO_TURNS ?? 2000);
const TARGET_TURNS_PER_S = 5000;
const TARGET_SEARCH_P95_MS = 50;

// deterministic pseudo-random numbers
let seed = 0x2545f491;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];

const COMMON = ('the a to and i you it is that of for in on my can me we this with have be your what do at so ' +
  'please yes no just would like know about there will get okay thanks hello time need call one could').split(' ');
const TOPICS = ('appointment dentist delivery package invoice refund booking table reservation doctor prescription ' +
  'insurance claim password account bank transfer parcel courier restaurant dinner tomorrow monday tuesday friday ' +
  'morning afternoon evening address street postcode plumber heating boiler repair quote price cancel confirm ' +
  'reschedule meeting manager office school teacher pharmacy hotel flight airport taxi landlord rent contract ' +
  'electricity water broadband router internet subscription warranty receipt order number tracking').split(' ');
const NAMES = 'anna bernd clara david emma felix greta hannah jonas lena max nora oskar paula quentin rosa'.split(' ');

function sentence(words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const r = rnd();
    out.push(r < 0.62 ? pick(COMMON) : r < 0.95 ? pick(TOPICS) : pick(NAMES));
  }
  const s = out.join(' ');
  return s[0].toUpperCase() + s.slice(1) + '.';
}

function metrics(): TurnMetrics {
  const asr = 150 + rnd() * 300;
  const llm = 200 + rnd() * 600;
  const tts = 100 + rnd() * 300;
  return {
    asr_ms: asr, llm_ms: llm, tts_ms: tts, total_ms: asr + llm + tts, llm_model: 'local/qwen2.5-3b',
    transcriptionDelayMs: asr, llmTtftMs: llm / 3, ttsTtfbMs: tts / 2, e2eLatencyMs: asr + llm / 3 + tts / 2,
  };
}

const PRODUCERS = ['local:qwen2.5-3b', 'local:qwen2.5-3b', 'local:qwen2.5-3b', 'agent:openclaw', 'operator:me'];

interface LiveCall {
  summary: CallSummary;
  next: number;
  t: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

function wav(ms: number, rate: number, tone: number): Uint8Array {
  const n = Math.round((rate * ms) / 1000);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(6000 * Math.sin((2 * Math.PI * tone * i) / rate) + (rnd() - 0.5) * 800);
  return encodeWav({ sampleRate: rate, samples });
}

type Step =
  | { op: 'start'; call: CallSummary }
  | { op: 'turn'; call: CallSummary; turn: TurnRecord }
  | { op: 'end'; call: CallSummary };

/**
 * The observer calls of `calls` calls of TURNS_PER_CALL turns, CONCURRENT calls at a time with
 * their turns interleaved. Generated up front so the timing covers the store only.
 */
function generateCalls(calls: number, opts: { audio: boolean; startAt: number }): { steps: Step[]; turns: number; callSeconds: number } {
  const steps: Step[] = [];
  const live: LiveCall[] = [];
  let started = 0;
  let turns = 0;
  let callSeconds = 0;
  let clock = opts.startAt;
  while (started < calls || live.length) {
    while (live.length < CONCURRENT && started < calls) {
      clock += 30 + rnd() * 600;
      const id = `bench${String(started++).padStart(6, '0')}`;
      const summary: CallSummary = {
        session_id: id, state: 'active', direction: rnd() < 0.7 ? 'incoming' : 'outgoing',
        number: `+4930${Math.floor(1_000_000 + rnd() * 8_999_999)}`, device: 'R58M123ABC', started_at: clock,
        ended_at: null, end_reason: null, holder: null, turn_count: 0, authenticated: false, last_latency_ms: null,
      };
      steps.push({ op: 'start', call: summary });
      live.push({ summary, next: 0, t: clock });
    }
    const i = Math.floor(rnd() * live.length);
    const c = live[i];
    c.t += 4 + rnd() * 10;
    const turn: TurnRecord = {
      session_id: c.summary.session_id, index: c.next, kind: c.next === 0 ? 'forced' : 'normal',
      started_at: c.t - 1.2, completed_at: c.t,
      transcript: c.next === 0 ? '' : sentence(6 + Math.floor(rnd() * 14)),
      reply: sentence(8 + Math.floor(rnd() * 22)),
      producer: c.next === 0 ? 'forced' : pick(PRODUCERS), metrics: metrics(), stale: false,
    };
    if (opts.audio) {
      turn.callerAudio = wav(1000 + rnd() * 2000, 16000, 220 + c.next);
      turn.replyAudio = c.next === 0 ? GREETING : wav(1500 + rnd() * 2500, 24000, 330 + c.next);
    }
    steps.push({ op: 'turn', call: c.summary, turn });
    turns++;
    if (++c.next === TURNS_PER_CALL) {
      steps.push({ op: 'end', call: { ...c.summary, state: 'ended', ended_at: c.t + 2, end_reason: 'phone_ended', turn_count: TURNS_PER_CALL } });
      callSeconds += c.t + 2 - c.summary.started_at;
      live.splice(i, 1);
    }
  }
  return { steps, turns, callSeconds };
}

interface WriteTiming {
  /** wall time for all steps, including the wait until the last commit is on disk */
  seconds: number;
  /** time turnCompleted blocked the event loop, per turn */
  turn_us: { p50: number; p99: number; max: number };
}

/**
 * Replay the steps through the observer, yielding to the event loop every few steps as a server
 * with several calls does (so 'async' fsyncs run alongside, as they would).
 */
async function writeCalls(store: CallStore, steps: Step[]): Promise<WriteTiming> {
  const perTurn: number[] = [];
  const t0 = performance.now();
  let n = 0;
  for (const s of steps) {
    if (s.op === 'start') store.callStarted(s.call);
    else if (s.op === 'turn') {
      const a = performance.now();
      store.turnCompleted(s.call, s.turn);
      perTurn.push(performance.now() - a);
    } else store.callEnded(s.call);
    if (++n % 8 === 0) await new Promise<void>((r) => setImmediate(r));
  }
  await store.whenDurable();
  const seconds = (performance.now() - t0) / 1000;
  perTurn.sort((a, b) => a - b);
  const us = (ms: number) => Math.round(ms * 1000);
  return { seconds, turn_us: { p50: us(percentile(perTurn, 50)), p99: us(percentile(perTurn, 99)), max: us(perTurn[perTurn.length - 1]) } };
}

/** The disk's ceiling for 'full': bare one-row transactions with an fsync each. */
function bareFsyncCommitsPerS(): number {
  const dir = mkdtempSync(join(tmpdir(), 'store-bench-fsync-'));
  try {
    const db = new Database(join(dir, 'x.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)');
    const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
    const tx = db.transaction((b: string) => ins.run(b));
    const n = 3000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) tx(`row ${i}`);
    const s = (performance.now() - t0) / 1000;
    db.close();
    return Math.round(n / s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const GREETING = wav(2500, 24000, 440); // the same greeting on every call: stored once

function dbBytes(dir: string): number {
  const file = join(dir, 'history.sqlite');
  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return statSync(file).size;
}

const QUERY_KINDS = ['word', 'two words', 'name', 'prefix + direction', 'phrase + handled_by', 'word + date + outcome', 'listing'] as const;

type BenchQuery = { kind: (typeof QUERY_KINDS)[number]; q: CallQuery };

function searchQueries(): BenchQuery[] {
  const queries: BenchQuery[] = [];
  for (let i = 0; i < SEARCHES; i++) {
    const k = i % 6;
    const kind = QUERY_KINDS[k];
    if (k === 0) queries.push({ kind, q: { q: pick(TOPICS) } });
    else if (k === 1) queries.push({ kind, q: { q: `${pick(TOPICS)} ${pick(TOPICS)}` } });
    else if (k === 2) queries.push({ kind, q: { q: pick(NAMES) } });
    else if (k === 3) queries.push({ kind, q: { q: `${pick(TOPICS).slice(0, 4)}*`, direction: 'incoming' } });
    else if (k === 4) queries.push({ kind, q: { q: `"${pick(COMMON)} ${pick(TOPICS)}"`, handledBy: ['agent'] } });
    else queries.push({ kind, q: { q: pick(TOPICS), from: 1_700_000_000 + rnd() * 1_000_000, outcome: 'completed', limit: 20 } });
  }
  // plain listing pages (the history view without a query)
  for (let i = 0; i < SEARCHES / 6; i++) queries.push({ kind: 'listing', q: { direction: 'outgoing', limit: 50 } });
  return queries;
}

function searchBench(store: CallStore, queries: BenchQuery[]) {
  store.flushSearchIndex(); // the last partial batch: not a search cost
  const times: number[] = [];
  const byKind = new Map<string, number[]>();
  let truncated = 0;
  let searches = 0;
  for (const { kind, q } of queries) {
    const t0 = performance.now();
    const page = store.listCalls(q);
    const ms = performance.now() - t0;
    times.push(ms);
    byKind.set(kind, [...(byKind.get(kind) ?? []), ms]);
    if (q.q) searches++;
    if (page.truncated) truncated++;
  }
  times.sort((a, b) => a - b);
  const p95_by_kind = Object.fromEntries([...byKind].map(([k, v]) => [k, round(percentile(v.sort((a, b) => a - b), 95), 2)]));
  return {
    p50: round(percentile(times, 50), 2), p95: round(percentile(times, 95), 2), max: round(times[times.length - 1], 2), queries: times.length, p95_by_kind,
    /** text searches (q) among the queries, and how many of them said `truncated` (more hits than searchCap) */
    text_searches: searches, truncated,
  };
}

/** searchCap for the comparison run: larger than any hit count, so nothing is truncated */
const UNCAPPED = 1_000_000_000;

async function run(durability: Durability, calls: number, withSearch: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'store-bench-'));
  try {
    const store = CallStore.open(dir, { durability, retentionIntervalMs: 0, settings: () => ({ record_audio: false, recording_max_age_days: 0, recording_max_disk_mb: 0 }), onError: (e) => { throw e; } });
    const w = generateCalls(calls, { audio: false, startAt: 1_700_000_000 });
    const timing = await writeCalls(store, w.steps);
    const queries = withSearch ? searchQueries() : [];
    const search = withSearch ? searchBench(store, queries) : null;
    const syncs = store.backgroundSyncs;
    store.close();
    let uncapped: ReturnType<typeof searchBench> | null = null;
    if (withSearch) {
      // the same queries with no cap: what the cap saves, and what it costs in completeness
      const open = CallStore.open(dir, { durability, retentionIntervalMs: 0, searchCap: UNCAPPED, onError: (e) => { throw e; } });
      uncapped = searchBench(open, queries);
      open.close();
    }
    const bytes = dbBytes(dir);
    const hours = w.callSeconds / 3600;
    return {
      durability, turns: w.turns, calls, seconds: round(timing.seconds, 2), turns_per_s: Math.round(w.turns / timing.seconds), turn_us: timing.turn_us,
      background_fsyncs: syncs, db_bytes: bytes, call_hours: round(hours, 1), db_mb_per_call_hour: round(bytes / 1048576 / hours, 3), search,
      search_cap: DEFAULT_SEARCH_CAP, search_uncapped: uncapped,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAudio() {
  const dir = mkdtempSync(join(tmpdir(), 'store-bench-audio-'));
  try {
    const store = CallStore.open(dir, { retentionIntervalMs: 0, settings: () => ({ record_audio: true, recording_max_age_days: 0, recording_max_disk_mb: 0 }), onError: (e) => { throw e; } });
    const w = generateCalls(Math.max(1, Math.round(AUDIO_TURNS / TURNS_PER_CALL)), { audio: true, startAt: 1_700_000_000 });
    const timing = await writeCalls(store, w.steps);
    const rec = store.recordingStatus();
    store.close();
    const hours = w.callSeconds / 3600;
    return {
      durability: 'async', turns: w.turns, seconds: round(timing.seconds, 2), turns_per_s: Math.round(w.turns / timing.seconds), turn_us: timing.turn_us,
      recording_files: rec.files, recording_mb: round(rec.bytes / 1048576, 1), recording_mb_per_call_hour: round(rec.bytes / 1048576 / hours, 1),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ceiling = bareFsyncCommitsPerS();
console.log(`disk: ${ceiling} bare fsynced commits/s (the ceiling of durability 'full')`);
const line = (r: Awaited<ReturnType<typeof run>>) =>
  `${r.turns} turns in ${r.seconds} s → ${r.turns_per_s} turns/s; event loop blocked per turn p50 ${r.turn_us.p50} µs, p99 ${r.turn_us.p99} µs`;
const main = await run('async', CALLS, true);
console.log(`durability 'async' (default; each commit fsynced right after, off the event loop): ${line(main)}, ${main.background_fsyncs} fsyncs`);
console.log(`search over ${main.turns} turns: p50 ${main.search!.p50} ms, p95 ${main.search!.p95} ms, max ${main.search!.max} ms (${main.search!.queries} queries)`);
console.log(`  p95 by kind: ${Object.entries(main.search!.p95_by_kind).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
console.log(
  `  searchCap ${main.search_cap}: ${main.search!.truncated} of ${main.search!.text_searches} text searches truncated (ranked only the newest ${main.search_cap} matching turns); ` +
    `uncapped: p95 ${main.search_uncapped!.p95} ms, max ${main.search_uncapped!.max} ms`,
);
console.log(`database: ${round(main.db_bytes / 1048576, 1)} MB for ${main.call_hours} h of calls → ${main.db_mb_per_call_hour} MB per call-hour (without audio)`);
const full = await run('full', Math.max(1, Math.round(CALLS / 5)), false);
console.log(`durability 'full' (fsync inside every commit): ${line(full)}`);
const normal = await run('normal', CALLS, false);
console.log(`durability 'normal' (no fsync until checkpoints): ${line(normal)}`);
const audio = await runAudio();
console.log(`with recordings ('async'): ${audio.turns} turns → ${audio.turns_per_s} turns/s, p99 ${audio.turn_us.p99} µs per turn, ${audio.recording_mb} MB audio, ${audio.recording_mb_per_call_hour} MB per call-hour`);

const result = {
  bench: 'store',
  date: new Date().toISOString(),
  node: process.version,
  sqlite: (() => {
    const db = new Database(':memory:');
    const v = (db.prepare('select sqlite_version() v').get() as { v: string }).v;
    db.close();
    return v;
  })(),
  setup: { calls: CALLS, turns_per_call: TURNS_PER_CALL, concurrent_calls: CONCURRENT, one_transaction_per_turn: true, full_run_calls: full.calls },
  turns_per_s: main.turns_per_s,
  search_p95_ms: main.search!.p95,
  search_cap: main.search_cap,
  searches_truncated: { truncated: main.search!.truncated, text_searches: main.search!.text_searches },
  search_p95_ms_uncapped: main.search_uncapped!.p95,
  db_mb_per_call_hour: main.db_mb_per_call_hour,
  recording_mb_per_call_hour: audio.recording_mb_per_call_hour,
  turns_per_s_by_durability: { async: main.turns_per_s, full: full.turns_per_s, normal: normal.turns_per_s, with_audio_async: audio.turns_per_s },
  disk_bare_fsync_commits_per_s: ceiling,
  targets: {
    turns_per_s: { target: TARGET_TURNS_PER_S, met: main.turns_per_s >= TARGET_TURNS_PER_S },
    search_p95_ms: { target: TARGET_SEARCH_P95_MS, met: main.search!.p95 <= TARGET_SEARCH_P95_MS },
  },
  runs: { async: main, full, normal, audio },
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'store.json'), JSON.stringify(result, null, 2) + '\n');
const t = result.targets;
console.log(
  `targets: ≥${TARGET_TURNS_PER_S} turns/s ${t.turns_per_s.met ? 'met' : 'NOT met'} (${main.turns_per_s}), ` +
    `search p95 ≤${TARGET_SEARCH_P95_MS} ms ${t.search_p95_ms.met ? 'met' : 'NOT met'} (${main.search!.p95} ms)`,
);
console.log('wrote bench/results/store.json');
