/**
 * Background fsync of the WAL file for durability 'async': commits run with synchronous=NORMAL
 * (no fsync on the event loop), and after each commit the WAL is fsynced on libuv's thread pool.
 * fsync flushes the file whatever descriptor wrote it, so a power cut loses at most the commits
 * of the last fsync interval (typically the turn just committed, well under a millisecond old),
 * while a process crash loses nothing committed (the WAL is in the OS page cache).
 *
 * Syncs are coalesced: one in flight at a time, plus one more if commits arrived meanwhile.
 */
import { close, fsync, open } from 'node:fs';

export class WalSyncer {
  private fd: number | null = null;
  private opening = false;
  private inFlight = false;
  private again = false;
  private closed = false;
  private waiters: (() => void)[] = [];
  /** completed fsyncs (tests, bench) */
  syncs = 0;

  constructor(
    private readonly walPath: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** A commit happened: make sure an fsync starts after it. */
  kick(): void {
    if (this.closed) return;
    if (this.inFlight || this.opening) {
      this.again = true;
      return;
    }
    this.start();
  }

  /** Resolves when every commit before this call has been fsynced. */
  flushed(): Promise<void> {
    if (!this.inFlight && !this.opening && !this.again) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private start(): void {
    this.again = false;
    if (this.fd === null) {
      this.opening = true;
      // r+: FlushFileBuffers on Windows needs write access; nothing is written through it
      open(this.walPath, 'r+', (err, fd) => {
        this.opening = false;
        if (err) {
          // no WAL file: everything was checkpointed into the database, which SQLite synced
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(err);
          if (this.again && !this.closed) this.start();
          else this.settle();
          return;
        }
        if (this.closed) {
          close(fd, () => undefined);
          this.settle();
          return;
        }
        this.fd = fd;
        this.sync();
      });
      return;
    }
    this.sync();
  }

  private sync(): void {
    this.inFlight = true;
    fsync(this.fd!, (err) => {
      this.inFlight = false;
      if (err) this.onError(err);
      else this.syncs++;
      if (this.closed) this.release();
      else if (this.again) {
        this.start();
        return;
      }
      this.settle();
    });
  }

  private settle(): void {
    if (this.inFlight || this.opening || this.again) return;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private release(): void {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      close(fd, () => undefined);
    }
  }

  /** Stop syncing; the descriptor is closed once an fsync in flight has finished. */
  close(): void {
    this.closed = true;
    this.again = false;
    if (!this.inFlight) this.release();
    this.settle();
  }
}
