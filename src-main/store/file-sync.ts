/**
 * Background fsync of recording files and their folders for durability 'async' (the model is
 * WalSyncer): a recording is written and put in place (on the event loop, or by the writer thread
 * for the store's background writes), then the file and the folder holding its name are fsynced on
 * libuv's thread pool. Without this, a power cut soon after a turn can leave a committed row
 * pointing at an empty or missing file.
 *
 * Coalesced: one batch in flight at a time; files added meanwhile form the next batch. The files
 * of a batch are synced before its folders (a name must not become durable before its content).
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** Windows cannot open a folder to flush it (and NTFS journals names itself). */
const SYNC_DIRS = process.platform !== 'win32';

/** fsync one file or folder now (blocking); a path that is gone needs no sync. */
export function fsyncPathSync(path: string, isDir: boolean): void {
  if (isDir && !SYNC_DIRS) return;
  let fd: number;
  try {
    // r+: FlushFileBuffers on Windows needs write access; nothing is written through it
    fd = openSync(path, isDir || process.platform !== 'win32' ? 'r' : 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync one file or folder on the thread pool; a path that is gone needs no sync. */
export async function fsyncPath(path: string, isDir: boolean): Promise<void> {
  if (isDir && !SYNC_DIRS) return;
  let fh;
  try {
    fh = await open(path, isDir || process.platform !== 'win32' ? 'r' : 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // deleted meanwhile (retention, kill switch)
    throw e;
  }
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class FileSyncer {
  private files = new Set<string>();
  private dirs = new Set<string>();
  private batch: { files: string[]; dirs: string[] } | null = null;
  private closed = false;
  private waiters: (() => void)[] = [];
  /** completed batches (tests, bench) */
  syncs = 0;

  constructor(private readonly onError: (err: unknown) => void) {}

  /** A file was renamed into `dirs[0]` (further folders: parents whose entries changed). */
  add(file: string, dirs: string[]): void {
    if (this.closed) return;
    this.files.add(file);
    for (const d of dirs) this.dirs.add(d);
    if (!this.batch) this.run();
  }

  get idle(): boolean {
    return this.batch === null && this.files.size === 0 && this.dirs.size === 0;
  }

  /** Call `cb` (synchronously) once every file added so far is synced; at once when idle. */
  whenIdle(cb: () => void): void {
    if (this.idle) cb();
    else this.waiters.push(cb);
  }

  flushed(): Promise<void> {
    return new Promise((r) => this.whenIdle(r));
  }

  private run(): void {
    const batch = { files: [...this.files], dirs: [...this.dirs] };
    this.files.clear();
    this.dirs.clear();
    this.batch = batch;
    void (async () => {
      try {
        await Promise.all(batch.files.map((f) => fsyncPath(f, false)));
        await Promise.all(batch.dirs.map((d) => fsyncPath(d, true)));
        this.syncs++;
      } catch (e) {
        this.onError(e);
      }
      this.batch = null;
      if (this.closed) return;
      if (this.files.size > 0 || this.dirs.size > 0) this.run();
      else this.settle();
    })();
  }

  private settle(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const cb of w) cb();
  }

  /** Sync whatever is still waiting or in flight, blocking (at store close), and stop. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const files = new Set([...(this.batch?.files ?? []), ...this.files]);
    const dirs = new Set([...(this.batch?.dirs ?? []), ...this.dirs]);
    this.files.clear();
    this.dirs.clear();
    try {
      for (const f of files) fsyncPathSync(f, false);
      for (const d of dirs) fsyncPathSync(d, true);
    } catch (e) {
      this.onError(e);
    }
    this.batch = null;
    this.settle();
  }
}
