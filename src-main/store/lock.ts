/**
 * One process owns a history database at a time: at open the store closes calls left open, which
 * would wrongly end the live calls of another running gateway on the same data dir. The lock is a
 * file holding the owner's pid; a lock whose process is gone (crash, SIGKILL) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export class StoreLockedError extends Error {
  constructor(readonly lockFile: string, readonly pid: number) {
    super(`the call history in ${lockFile.replace(/\.lock$/, '')} is in use by another running process (pid ${pid}); close it first`);
    this.name = 'StoreLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function acquireLock(file: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        if (readPid(file) === process.pid) {
          try {
            unlinkSync(file);
          } catch {
            // already gone
          }
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readPid(file);
      if (owner !== null && alive(owner)) throw new StoreLockedError(file, owner);
      try {
        unlinkSync(file); // stale: its owner is gone
      } catch {
        // raced with another opener; retry
      }
    }
  }
  throw new Error(`could not take the history lock ${file}`);
}
