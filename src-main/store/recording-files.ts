/**
 * Recording files: `<dir>/<first two hex digits>/<sha256>.wav`, content-addressed so identical audio
 * (a cached greeting) is stored once. Paths are only ever built from a validated sha256, never from
 * an id or number that came in with a request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncPathSync } from './file-sync';

const SHA256 = /^[0-9a-f]{64}$/;

export function isSha256(s: string): boolean {
  return SHA256.test(s);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class RecordingFiles {
  private readonly madeDirs = new Set<string>();

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
        const orphan = name.endsWith('.tmp') || (sha !== null && isSha256(sha) && !isReferenced(sha));
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
