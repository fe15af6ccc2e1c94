/** Latency summary of a call's turns (history detail). */
import type { TurnMetrics } from '../api/types';

export interface StageSummary {
  avg: number;
  p50: number;
  p95: number;
  max: number;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(values: number[]): StageSummary | null {
  const v = values.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  if (!v.length) return null;
  return { avg: v.reduce((a, b) => a + b, 0) / v.length, p50: percentile(v, 50), p95: percentile(v, 95), max: v[v.length - 1] };
}

export const STAGES = [
  ['asr_ms', 'Speech recognition'],
  ['llm_ms', 'Language model'],
  ['tts_ms', 'Speech synthesis'],
  ['e2eLatencyMs', 'First audio'],
  ['total_ms', 'Total'],
] as const;

export function latencySummary(metrics: Partial<TurnMetrics>[]): { key: string; label: string; s: StageSummary | null }[] {
  return STAGES.map(([key, label]) => ({ key, label, s: summarize(metrics.map((m) => Number(m[key] ?? 0))) }));
}
