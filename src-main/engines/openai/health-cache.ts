/**
 * Cached health probes: `/health` and `/api/status` are polled and must never stall on a slow engine
 * server (upstream defect §16 #36). A result is reused for `ttlMs`; concurrent callers share one probe.
 */
import type { EngineHealth } from '../types';

export interface HealthCacheOptions {
  ttlMs?: number;
  /** clock, injectable for tests */
  now?: () => number;
}

export class HealthCache {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly results = new Map<string, { at: number; value: EngineHealth }>();
  private readonly inflight = new Map<string, Promise<EngineHealth>>();

  constructor(opts: HealthCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  /** The cached result for `key`, or the result of `probe()` (which must not throw). */
  async get(key: string, probe: () => Promise<EngineHealth>): Promise<EngineHealth> {
    const hit = this.results.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return { ...hit.value };
    let p = this.inflight.get(key);
    if (!p) {
      p = probe()
        .catch((err: unknown): EngineHealth => ({ ok: false, error: err instanceof Error ? err.message : String(err) }))
        .then((value) => {
          this.set(key, value);
          return value;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return { ...(await p) };
  }

  /** Record a result learned some other way (e.g. a real request that just succeeded or failed). */
  set(key: string, value: EngineHealth): void {
    this.results.delete(key);
    this.results.set(key, { at: this.now(), value });
    // keys change only when a base URL changes; keep the map from growing without bound anyway
    if (this.results.size > 32) {
      const oldest = this.results.keys().next().value;
      if (oldest !== undefined) this.results.delete(oldest);
    }
  }

  invalidate(key?: string): void {
    if (key === undefined) this.results.clear();
    else this.results.delete(key);
  }
}
