/** Small helpers shared by the embedded engines. */
import os from 'node:os';
import type { AppConfig } from '../../../src-shared/config/schema';
import type { ModelKind } from '../../models/catalogue';
import type { ModelResolver, ResolvedModel, ResolveHint } from '../../models/manager';
import { ModelMissingError } from '../../models/manager';

export type GetConfig = () => AppConfig;

export function abortError(signal?: AbortSignal): Error {
  const reason = signal?.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

/** Resolves when the promise does, rejects at once when the signal aborts (the work itself may go on). */
export function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/** A FIFO lock: one native job at a time keeps latency predictable on few cores. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => { release = r; });
    try {
      await prev;
      return await fn();
    } finally {
      release();
    }
  }
}

export function cores(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

export interface ModelSource {
  /** a fixed model file (tests, benchmarks, the CLI); wins over the resolver */
  modelPath?: string;
  /** the model manager (or anything resolving a model for a kind and preference) */
  models?: ModelResolver;
}

export async function resolveModel(src: ModelSource, kind: ModelKind, preference: string, hint?: ResolveHint): Promise<ResolvedModel> {
  if (src.modelPath) return { path: src.modelPath, name: src.modelPath.split(/[\\/]/).pop() ?? src.modelPath, kind };
  if (!src.models) throw new ModelMissingError(kind, `no ${kind} model configured`);
  return src.models.resolve(kind, preference, hint);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
