/**
 * A worker thread that writes recording files for the store's background writes: one message per
 * file, its own thread doing the synchronous file calls (make the sub-folder, write a temp file,
 * sync it, link it under its content name, sync the folder). The event loop only copies the bytes
 * into the message; libuv's thread pool stays free for the background fsyncs (FileSyncer,
 * WalSyncer), so a turn waiting for its file never queues behind them.
 *
 * The worker handles its messages one at a time, in order, so its answers arrive in the order the
 * writes were asked for: a sub-folder it created is reported with the first write into it, before
 * any later write into the same folder answers.
 *
 * The worker never replaces a file: when the content name exists, it answers `exists` and leaves
 * its temp file for the caller to decide (see RecordingFiles.writeAsync).
 */
import { Worker } from 'node:worker_threads';

/** Plain CommonJS (evaluated), so it runs the same under tsx, vitest and the bundled Electron main. */
const WORKER_SOURCE = String.raw`
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const SYNC_DIRS = process.platform !== 'win32';
// link() unsupported (FAT, exFAT): fall back to rename when nothing is there
const NO_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);
const made = new Set();

function fsyncDir(d) {
  if (!SYNC_DIRS) return;
  let fd;
  try {
    fd = fs.openSync(d, 'r');
  } catch (e) {
    if (e.code === 'ENOENT') return;
    throw e;
  }
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Returns the folders whose entries changed (none when the sub-folder was there). */
function makeDir(sub, fsync) {
  // recordings are private: owner only
  const first = fs.mkdirSync(sub, { recursive: true, mode: 0o700 });
  made.add(sub);
  if (first === undefined) return [];
  const dirs = [sub, path.dirname(sub), path.dirname(path.dirname(sub))];
  if (fsync) for (const d of dirs) fsyncDir(d);
  return dirs;
}

function write(m) {
  const created = made.has(m.sub) ? [] : makeDir(m.sub, m.fsync);
  let fd;
  try {
    fd = fs.openSync(m.tmp, 'wx', 0o600);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
    // the sub-folder was removed (kill switch) since it was made
    made.delete(m.sub);
    created.push(...makeDir(m.sub, m.fsync));
    fd = fs.openSync(m.tmp, 'wx', 0o600);
  }
  try {
    const bytes = new Uint8Array(m.bytes);
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    if (m.fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(m.tmp, m.target);
  } catch (e) {
    if (e.code === 'EEXIST') return { exists: true, created };
    if (!NO_LINK.has(e.code)) throw e;
    if (fs.existsSync(m.target)) return { exists: true, created };
    fs.renameSync(m.tmp, m.target);
    if (m.fsync) fsyncDir(m.sub);
    return { created };
  }
  try {
    fs.unlinkSync(m.tmp);
  } catch {
    // a stale temp file is swept at the next open
  }
  if (m.fsync) fsyncDir(m.sub);
  return { created };
}

parentPort.on('message', (m) => {
  try {
    parentPort.postMessage({ id: m.id, ...write(m) });
  } catch (e) {
    try {
      fs.unlinkSync(m.tmp);
    } catch {
      // not created
    }
    if (e && e.code === 'ENOENT') made.delete(m.sub);
    parentPort.postMessage({ id: m.id, error: { message: String((e && e.message) || e), code: e && e.code } });
  }
});
`;

export interface WriterRequest {
  /** the sub-folder of `target` */
  sub: string;
  target: string;
  tmp: string;
  bytes: Uint8Array;
  /** sync the content before the link and the folder after it (and a folder it created) */
  fsync: boolean;
}

/** `exists`: a file was already under the content name; the temp file is left in place. */
export interface WriterResult {
  exists: boolean;
  /** folders whose entries changed because this write created the sub-folder (not synced unless `fsync`) */
  created: string[];
}

interface Reply {
  id: number;
  exists?: boolean;
  created?: string[];
  error?: { message: string; code?: string };
}

export class RecordingWriter {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, { resolve: (r: WriterResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closing = false;

  /** Write one file in the worker. The bytes are copied (the caller's buffer is left alone). */
  write(req: WriterRequest): Promise<WriterResult> {
    if (this.closing) return Promise.reject(new Error('recording writer is closed'));
    const worker = this.started();
    const id = this.nextId++;
    const copy = new Uint8Array(req.bytes.length);
    copy.set(req.bytes);
    return new Promise<WriterResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) worker.ref(); // a write in flight keeps the process alive
      worker.postMessage({ id, sub: req.sub, target: req.target, tmp: req.tmp, fsync: req.fsync, bytes: copy.buffer }, [copy.buffer]);
    });
  }

  /** Stop once the writes in flight have answered (at store close). */
  close(): void {
    this.closing = true;
    if (this.waiting.size === 0) this.stop();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'recording-writer' });
    worker.unref();
    worker.on('message', (m: Reply) => this.answer(m));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      this.fail(new Error(`recording writer stopped (exit code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private answer(m: Reply): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (this.waiting.size === 0) {
      this.worker?.unref();
      if (this.closing) this.stop();
    }
    if (m.error) {
      const e = new Error(m.error.message) as NodeJS.ErrnoException;
      if (m.error.code) e.code = m.error.code;
      w.reject(e);
    } else w.resolve({ exists: m.exists === true, created: m.created ?? [] });
  }

  /** The worker died: every write in flight failed (the next write starts a new worker). */
  private fail(e: Error): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.reject(e);
  }

  private stop(): void {
    const worker = this.worker;
    this.worker = null;
    if (worker) void worker.terminate();
  }
}
