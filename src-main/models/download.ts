/**
 * One file download: to `<target>.part`, resuming with an HTTP Range request after an interruption,
 * checked against the pinned size and SHA-256, then renamed into place. A partial or unverified file is
 * never at the target path.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface DownloadProgress { bytes: number; total: number | null; rateBps: number; etaSec: number | null }

export interface DownloadFileOptions {
  url: string;
  target: string;
  bytes?: number;
  sha256?: string;
  signal: AbortSignal;
  onProgress(p: DownloadProgress): void;
  /** reconnect attempts after the connection drops (each resumes with Range) */
  retries?: number;
  retryDelayMs?: number;
  fetchImpl?: typeof fetch;
}

export class DownloadError extends Error {
  constructor(message: string, readonly code: 'http' | 'size' | 'checksum' | 'cancelled' | 'network' | 'disk') {
    super(message);
    this.name = 'DownloadError';
  }
}

export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  const stream = createReadStream(file, { highWaterMark: 1 << 20, signal });
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function sizeOf(file: string): Promise<number> {
  try { return (await stat(file)).size; } catch { return 0; }
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); reject(new DownloadError('download cancelled', 'cancelled')); }, { once: true });
});

/** One HTTP request appending to the .part file from `offset`. Returns the new size. */
async function fetchInto(o: DownloadFileOptions, part: string, offset: number, report: (bytes: number, total: number | null) => void): Promise<{ size: number; total: number | null }> {
  const headers: Record<string, string> = { 'user-agent': 'clawfinger-desktop model manager' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const res = await (o.fetchImpl ?? fetch)(o.url, { headers, signal: o.signal, redirect: 'follow' });
  let start = offset;
  let total: number | null = o.bytes ?? null;
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== offset) {
      await res.body?.cancel();
      throw new DownloadError(`server answered the resume request with an unexpected range (${res.headers.get('content-range') ?? 'none'})`, 'http');
    }
    if (m[3] !== '*') total = Number(m[3]);
  } else if (res.status === 200) {
    start = 0; // the server ignored Range: start over
    const len = Number(res.headers.get('content-length'));
    if (Number.isFinite(len) && len > 0) total = total ?? len;
  } else if (res.status === 416 && offset > 0 && o.bytes !== undefined && offset === o.bytes) {
    await res.body?.cancel();
    return { size: offset, total: o.bytes };
  } else {
    await res.body?.cancel();
    throw new DownloadError(`download failed: HTTP ${res.status} from ${new URL(o.url).host}`, 'http');
  }
  if (o.bytes !== undefined && total !== null && total !== o.bytes) {
    await res.body?.cancel();
    throw new DownloadError(`the server's file is ${total} bytes, expected ${o.bytes}`, 'size');
  }
  const fh = await open(part, start === 0 ? 'w' : 'a');
  let size = start;
  try {
    if (!res.body) throw new DownloadError('empty response body', 'network');
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (o.bytes !== undefined && size > o.bytes) throw new DownloadError(`download is larger than the pinned ${o.bytes} bytes`, 'size');
      try {
        await fh.write(chunk);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new DownloadError(
          code === 'ENOSPC' || code === 'EDQUOT'
            ? `the disk is full (${dirname(part)}): free some space, then download again — it resumes where it stopped`
            : `cannot write ${part}: ${(e as Error).message}`,
          'disk',
        );
      }
      report(size, total);
    }
  } finally {
    await fh.close();
  }
  return { size, total };
}

/** Download (or resume) one file; resolves when the verified file is at `target`. */
export async function downloadFile(o: DownloadFileOptions): Promise<void> {
  const part = `${o.target}.part`;
  const retries = o.retries ?? 5;
  let offset = await sizeOf(part);
  if (o.bytes !== undefined && offset > o.bytes) { await rm(part, { force: true }); offset = 0; }
  // rate over a sliding window of recent samples
  const samples: { t: number; b: number }[] = [];
  let lastEmit = 0;
  const report = (bytes: number, total: number | null, force = false) => {
    const now = Date.now();
    samples.push({ t: now, b: bytes });
    while (samples.length > 2 && now - samples[0].t > 5000) samples.shift();
    if (!force && now - lastEmit < 250) return;
    lastEmit = now;
    const dt = (now - samples[0].t) / 1000;
    const rateBps = dt > 0 ? Math.max(0, (bytes - samples[0].b) / dt) : 0;
    const etaSec = total !== null && rateBps > 0 ? Math.max(0, (total - bytes) / rateBps) : null;
    o.onProgress({ bytes, total, rateBps: Math.round(rateBps), etaSec: etaSec === null ? null : Math.round(etaSec) });
  };
  let attempt = 0;
  let size = offset;
  let total: number | null = o.bytes ?? null;
  for (;;) {
    if (o.signal.aborted) throw new DownloadError('download cancelled', 'cancelled');
    try {
      const r = await fetchInto(o, part, size, report);
      size = r.size;
      total = r.total;
      if (total === null || size >= total) break;
      throw new DownloadError(`connection closed after ${size} of ${total} bytes`, 'network');
    } catch (e) {
      if (o.signal.aborted) throw new DownloadError('download cancelled', 'cancelled');
      const err = e instanceof DownloadError ? e : new DownloadError(`network error: ${(e as Error).message}`, 'network');
      if (err.code !== 'network' || attempt >= retries) throw err;
      attempt++;
      size = await sizeOf(part);
      await sleep((o.retryDelayMs ?? 1000) * attempt, o.signal);
    }
  }
  report(size, total, true);
  if (o.bytes !== undefined && size !== o.bytes) throw new DownloadError(`downloaded ${size} bytes, expected ${o.bytes}`, 'size');
  if (o.sha256) {
    const got = await sha256File(part, o.signal);
    if (got !== o.sha256.toLowerCase()) {
      await rm(part, { force: true });
      throw new DownloadError(`checksum mismatch for ${o.target.split(/[\\/]/).pop()}: got ${got.slice(0, 12)}…, expected ${o.sha256.slice(0, 12)}…; the file was deleted`, 'checksum');
    }
  }
  await rename(part, o.target);
}
