/**
 * The phone posts every utterance twice, byte-identical: first to /api/asr, then to /api/turn
 * (phone spec §1.4). Transcripts are cached by a hash of the bytes — including ones still in
 * flight — so each utterance is transcribed once.
 */
import { createHash } from 'node:crypto';
import type { AsrResult } from '../engines/types';

export interface TimedAsr extends AsrResult {
  asrMs: number;
}

export class AsrCache {
  private readonly entries = new Map<string, { at: number; value: Promise<TimedAsr> }>();

  constructor(private readonly ttlMs: () => number, private readonly maxEntries = 256) {}

  static key(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  /**
   * Return the cached (or in-flight) transcript for these bytes, or run `fn` once. `key`: the
   * bytes' `AsrCache.key` when the caller already has it (hashed once per request body).
   */
  get(bytes: Uint8Array, fn: () => Promise<TimedAsr>, key: string = AsrCache.key(bytes)): { value: Promise<TimedAsr>; hit: boolean } {
    const now = Date.now();
    const e = this.entries.get(key);
    if (e && now - e.at <= this.ttlMs()) return { value: e.value, hit: true };
    const value = fn();
    if (this.ttlMs() > 0) {
      this.entries.set(key, { at: now, value });
      value.catch(() => this.entries.delete(key));
      this.prune(now);
    }
    return { value, hit: false };
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) {
      if (now - e.at > this.ttlMs() || this.entries.size > this.maxEntries) this.entries.delete(k);
      else break;
    }
  }
}
