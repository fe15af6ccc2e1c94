/** Builders for store tests: temp data dirs, calls, turns and real WAV audio. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallSummary, TurnMetrics, TurnRecord } from '../../src-main/calls/types';
import { encodeWav } from '../../src-shared/audio/wav';
import { CallStore, type CallStoreOptions } from '../../src-main/store';
import type { StoreSettings } from '../../src-main/store/types';

export function tempDir(prefix = 'store-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function call(sessionId: string, over: Partial<CallSummary> = {}): CallSummary {
  return {
    session_id: sessionId,
    state: 'active',
    direction: 'incoming',
    number: '+4930123456',
    device: 'SERIAL1',
    started_at: 1_700_000_000,
    ended_at: null,
    end_reason: null,
    holder: null,
    turn_count: 0,
    authenticated: false,
    last_latency_ms: null,
    ...over,
  };
}

export function ended(c: CallSummary, reason: CallSummary['end_reason'] = 'hangup', at = c.started_at + 60): CallSummary {
  return { ...c, state: 'ended', end_reason: reason, ended_at: at };
}

export function metrics(over: Partial<TurnMetrics> = {}): TurnMetrics {
  return {
    asr_ms: 120.5, llm_ms: 340.2, tts_ms: 210.1, total_ms: 690.4, llm_model: 'local/qwen',
    transcriptionDelayMs: 130, llmTtftMs: 90, ttsTtfbMs: 60, e2eLatencyMs: 300, ...over,
  };
}

export function turn(sessionId: string, index: number, over: Partial<TurnRecord> = {}): TurnRecord {
  return {
    session_id: sessionId,
    index,
    kind: 'normal',
    started_at: 1_700_000_000 + index * 10,
    completed_at: 1_700_000_000 + index * 10 + 1,
    transcript: `caller says thing ${index}`,
    reply: `we answer thing ${index}`,
    producer: 'local:qwen',
    metrics: metrics(),
    stale: false,
    ...over,
  };
}

/** A real mono 16-bit WAV: a tone whose frequency makes the bytes (and the hash) distinct. */
export function wav(freq: number, ms = 200, rate = 16000): Uint8Array {
  const n = Math.round((rate * ms) / 1000);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * freq * i) / rate));
  return encodeWav({ sampleRate: rate, samples });
}

export const noRetention: StoreSettings = { record_audio: true, recording_max_age_days: 0, recording_max_disk_mb: 0 };

/** Open a store that throws storage errors instead of logging them (tests must see them). */
export function openStore(dir: string, opts: CallStoreOptions = {}): CallStore {
  return CallStore.open(dir, {
    retentionIntervalMs: 0,
    settings: () => noRetention,
    onError: (e, context) => {
      throw new Error(`store error in ${context}: ${(e as Error).message}`);
    },
    ...opts,
  });
}

/** Every file under the data dir's recordings/ folder (temp files included), by name. */
export function recordingFiles(dataDir: string): string[] {
  const root = join(dataDir, 'recordings');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
}
