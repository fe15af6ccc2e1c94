/**
 * Recording files: `<dir>/<first two hex digits>/<sha256>.wav`, content-addressed so identical audio
 * (a cached greeting) is stored once. Paths are only ever built from a validated sha256, never from
 * an id or number that came in with a request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, unlink, unlinkSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncPath, fsyncPathSync } from './file-sync';
import { RecordingWriter } from './recording-writer';

const SHA256 = /^[0-9a-f]{64}$/;

export function isSha256(s: string): boolean {
  return SHA256.test(s);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** How writeAsync treats a file already under the content name: see writeAsync. */
export type ExistingFile = 'keep' | 'replace';

export class RecordingFiles {
  private readonly madeDirs = new Set<string>();
  /** temp files writeAsync is writing now (the orphan sweep leaves them alone) */
  private readonly writingTmp = new Set<string>();
  private readonly writer = new RecordingWriter();

  constructor(readonly dir: string) {}

  pathOf(sha: string): string {
    if (!isSha256(sha)) throw new Error(`not a sha256: ${JSON.stringify(sha).slice(0, 80)}`);
    return join(this.dir, sha.slice(0, 2), `${sha}.wav`);
  }

  /**
   * Write atomically (temp file + rename) so a crash never leaves a truncated file under a content name.
   * `fsync`: flush the content before the rename and the folder after it (durability 'full');
   * otherwise the caller syncs the returned paths later (FileSyncer) or not at all.
   * Returns the file and the folders whose entries changed (the sub-folder, and its parent when the
   * sub-folder is new).
   */
  write(sha: string, bytes: Uint8Array, fsync = false): { path: string; dirs: string[] } {
    const sub = join(this.dir, sha.slice(0, 2));
    const dirs = [sub];
    if (!this.madeDirs.has(sub)) {
      // recordings are private: owner only. Returns the first folder it created, if any.
      if (mkdirSync(sub, { recursive: true, mode: 0o700 }) !== undefined) dirs.push(this.dir, dirname(this.dir));
      this.madeDirs.add(sub);
    }
    const target = this.pathOf(sha);
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeFileSync(fd, bytes);
        if (fsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, target);
      if (fsync) for (const d of dirs) fsyncPathSync(d, true);
      return { path: target, dirs };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.madeDirs.delete(sub); // dir removed under us (purge)
      try {
        unlinkSync(tmp);
      } catch {
        // not created
      }
      throw e;
    }
  }

  /**
   * Write in the writer thread (off the event loop), for a caller that commits the row afterwards.
   * Never replaces a file already under the content name: the temp file is linked to it (no
   * rename), and when a file is there `existing(sha)` decides, in the tick the answer arrives —
   * 'keep' it (the same audio, perhaps a copy the store wrote and synced meanwhile: replacing it
   * could put unsynced data under a name a durable row points at) or 'replace' it (a leftover
   * nothing references). The caller never runs two writes of one sha at once.
   * `fsync`: the content before the link and the folder after it (durability 'full'); otherwise
   * the caller syncs the returned path and folders (a new sub-folder's parents included) later.
   * Resolves with the file and the folders to sync, or `kept: true` when an existing file was kept.
   */
  async writeAsync(sha: string, bytes: Uint8Array, fsync: boolean, existing: (sha: string) => ExistingFile): Promise<{ path: string; dirs: string[]; kept: boolean }> {
    const sub = join(this.dir, sha.slice(0, 2));
    const target = this.pathOf(sha);
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    this.writingTmp.add(tmp);
    try {
      const r = await this.writer.write({ sub, target, tmp, bytes, fsync });
      const dirs = r.created.length > 0 ? r.created : [sub];
      if (!r.exists) return { path: target, dirs, kept: false };
      if (existing(sha) === 'keep') {
        unlink(tmp, () => undefined);
        return { path: target, dirs, kept: true };
      }
      // a leftover nothing references: replaced in the tick it was judged
      try {
        renameSync(tmp, target);
      } catch (e) {
        unlink(tmp, () => undefined);
        throw e;
      }
      if (fsync) await fsyncPath(sub, true);
      return { path: target, dirs, kept: false };
    } finally {
      this.writingTmp.delete(tmp);
    }
  }

  /** Stop the writer thread once its writes in flight are done. */
  close(): void {
    this.writer.close();
  }

  /** Returns whether a file was removed. */
  remove(sha: string): boolean {
    try {
      unlinkSync(this.pathOf(sha));
      return true;
    } catch {
      return false;
    }
  }

  /** Delete every file and sub-folder (kill switch). Returns the number of files removed. */
  removeAll(): number {
    let n = 0;
    let subs: string[] = [];
    try {
      subs = readdirSync(this.dir);
    } catch {
      return 0;
    }
    for (const sub of subs) {
      try {
        n += readdirSync(join(this.dir, sub)).length;
      } catch {
        // not a folder
        n += 1;
      }
      rmSync(join(this.dir, sub), { recursive: true, force: true });
    }
    this.madeDirs.clear();
    return n;
  }

  /**
   * Remove files that no row references (left by a crash between the file write and the commit, or
   * by a crash during deletion) and stale temp files. `isReferenced` must be synchronous: the check
   * and the unlink happen in one tick, so a turn committing meanwhile cannot lose its file.
   */
  async sweepOrphans(isReferenced: (sha: string) => boolean): Promise<number> {
    let removed = 0;
    let subs: string[];
    try {
      subs = await readdir(this.dir);
    } catch {
      return 0;
    }
    for (const sub of subs) {
      let names: string[];
      try {
        names = await readdir(join(this.dir, sub));
      } catch {
        continue;
      }
      for (const name of names) {
        const sha = name.endsWith('.wav') ? name.slice(0, -4) : null;
        const orphan = name.endsWith('.tmp') ? !this.writingTmp.has(join(this.dir, sub, name)) : sha !== null && isSha256(sha) && !isReferenced(sha);
        if (!orphan) continue;
        try {
          unlinkSync(join(this.dir, sub, name));
          removed++;
        } catch {
          // already gone
        }
      }
    }
    return removed;
  }
}
