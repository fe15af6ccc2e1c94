/** Rolling per-turn latency figures (last hour) for the status bar and `GET /api/metrics/latency`. */
import type { EventBus } from '../events/bus';

const FIELDS = ['total_ms', 'asr_ms', 'llm_ms', 'tts_ms', 'transcriptionDelayMs', 'llmTtftMs', 'ttsTtfbMs', 'e2eLatencyMs'] as const;
type Field = (typeof FIELDS)[number];

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export class LatencyWindow {
  private samples: { at: number; m: Record<Field, number> }[] = [];

  constructor(private readonly windowMs = 3_600_000, private readonly max = 20_000) {}

  attach(bus: EventBus): () => void {
    return bus.subscribe((e) => {
      if (e.type !== 'turn.metrics') return;
      const d = e.data as Record<string, unknown>;
      const m = {} as Record<Field, number>;
      for (const f of FIELDS) m[f] = typeof d[f] === 'number' ? (d[f] as number) : 0;
      this.add(m);
    });
  }

  add(m: Record<Field, number>, at = Date.now()): void {
    this.samples.push({ at, m });
    if (this.samples.length > this.max) this.samples.splice(0, this.samples.length - this.max);
  }

  summary(now = Date.now()) {
    this.samples = this.samples.filter((s) => now - s.at <= this.windowMs);
    const out: Record<string, { p50: number; p90: number; p95: number; p99: number }> = {};
    for (const f of FIELDS) {
      const v = this.samples.map((s) => s.m[f]).sort((a, b) => a - b);
      out[f] = { p50: percentile(v, 50), p90: percentile(v, 90), p95: percentile(v, 95), p99: percentile(v, 99) };
    }
    return { window_s: this.windowMs / 1000, count: this.samples.length, metrics: out };
  }
}
