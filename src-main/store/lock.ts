/**
 * One process owns a history database at a time: at open the store closes calls left open, which
 * would wrongly end the live calls of another running gateway on the same data dir.
 *
 * The lock file records who owns it: `{"pid":…,"boot":…,"start":…}`. A pid alone is not enough,
 * because after a crash and a reboot the recorded pid is often reused by an unrelated process. So
 * the lock also records the boot (Linux: /proc/sys/kernel/random/boot_id; elsewhere the boot time
 * from os.uptime()) and the owner's start identity (Linux: the start time in /proc/<pid>/stat,
 * field 22; macOS/BSD: the start time `ps` reports; Windows: none). A lock is stale, and taken over,
 * when it comes from another boot, its pid is gone, or its pid now belongs to a process that
 * started at another time. Lock files of older versions (a bare pid) are stale when the pid is gone
 * or (Linux) its process started after the lock file was written.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { uptime } from 'node:os';

export class StoreLockedError extends Error {
  constructor(readonly lockFile: string, readonly pid: number) {
    super(`the call history in ${lockFile.replace(/\.lock$/, '')} is in use by another running process (pid ${pid}); close it first`);
    this.name = 'StoreLockedError';
  }
}

/** What a lock file says about its owner. `boot`/`start` are null in the lock files of older versions. */
export interface LockOwner {
  pid: number;
  boot: string | null;
  start: string | null;
}

/** Seconds of clock jitter tolerated when comparing times computed from uptime or `ps`. */
const BOOT_SLACK_S = 120;
const START_SLACK_S = 2;
/** USER_HZ: the unit of /proc/<pid>/stat start times; 100 on every mainstream Linux build */
const CLOCK_TICKS = 100;

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** This boot: the kernel's boot id on Linux, `t:<boot time, epoch s>` elsewhere. */
export function currentBoot(): string {
  if (process.platform === 'linux') {
    const id = readText('/proc/sys/kernel/random/boot_id')?.trim();
    if (id) return id;
  }
  return `t:${Math.round(Date.now() / 1000 - uptime())}`;
}

function sameBoot(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.startsWith('t:') && b.startsWith('t:')) return Math.abs(Number(a.slice(2)) - Number(b.slice(2))) <= BOOT_SLACK_S;
  return false;
}

/** Linux: the process start time in clock ticks after boot (/proc/<pid>/stat field 22). */
function linuxStartTicks(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return null;
  // field 2 (comm) is in brackets and may contain spaces or ')': the fields after it start after the last ')'
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = rest[22 - 3];
  return ticks && /^\d+$/.test(ticks) ? ticks : null;
}

/** macOS/BSD: the process start time (epoch s) as `ps` reports it (1 s resolution). */
function psStartSeconds(pid: number): number | null {
  const r = spawnSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', timeout: 5000, env: { ...process.env, LC_ALL: 'C', TZ: process.env.TZ ?? '' } });
  if (r.status !== 0 || !r.stdout.trim()) return null;
  const t = Date.parse(r.stdout.trim().replace(/\s+/g, ' '));
  return Number.isFinite(t) ? Math.round(t / 1000) : null;
}

/** A string that names the process with this pid for as long as it runs; null when unknown. */
export function startIdentity(pid: number): string | null {
  if (process.platform === 'linux') return linuxStartTicks(pid);
  if (process.platform === 'win32') return null;
  if (pid === process.pid) return String(Math.round(Date.now() / 1000 - process.uptime()));
  const s = psStartSeconds(pid);
  return s === null ? null : String(s);
}

function sameStart(recorded: string, now: string): boolean {
  if (process.platform === 'linux') return recorded === now;
  return Math.abs(Number(recorded) - Number(now)) <= START_SLACK_S;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function parseLock(text: string): LockOwner | null {
  const s = text.trim();
  if (/^\d{1,10}$/.test(s)) {
    const pid = Number(s);
    return pid > 0 ? { pid, boot: null, start: null } : null;
  }
  try {
    const o = JSON.parse(s) as Record<string, unknown>;
    const pid = o.pid;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return null;
    return { pid, boot: typeof o.boot === 'string' ? o.boot : null, start: typeof o.start === 'string' ? o.start : null };
  } catch {
    return null;
  }
}

/** Linux: when the process started, epoch seconds (for lock files of older versions). */
function linuxStartEpoch(pid: number): number | null {
  const ticks = linuxStartTicks(pid);
  const btime = /^btime (\d+)$/m.exec(readText('/proc/stat') ?? '')?.[1];
  return ticks && btime ? Number(btime) + Number(ticks) / CLOCK_TICKS : null;
}

/** Whether the lock file's owner still runs (false: the lock is stale and may be taken over). */
export function ownerRunning(owner: LockOwner, lockFile: string): boolean {
  if (owner.boot !== null && !sameBoot(owner.boot, currentBoot())) return false; // written before a reboot
  if (!alive(owner.pid)) return false;
  if (owner.boot === null) {
    // an older version's lock: a process that started after the file was written cannot have written it
    if (process.platform !== 'linux') return true;
    const started = linuxStartEpoch(owner.pid);
    let written: number;
    try {
      written = statSync(lockFile).mtimeMs / 1000;
    } catch {
      return false;
    }
    return started === null || started <= written + START_SLACK_S;
  }
  if (owner.start === null) return true; // the owner's platform gave no start identity: trust the pid
  const now = startIdentity(owner.pid);
  return now === null || sameStart(owner.start, now);
}

/**
 * Create `file` holding `content`, failing with EEXIST when it exists. Through a hard link of a
 * complete temp file where the file system allows, so no other opener ever sees it empty.
 */
function createExclusive(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let linked = false;
  try {
    writeFileSync(tmp, content, { flag: 'wx', mode: 0o600 });
    try {
      linkSync(tmp, file);
      linked = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw e;
      // no hard links here (FAT, some network shares): create and write
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // not created
    }
  }
  if (linked) return;
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

export function acquireLock(file: string): () => void {
  const me = JSON.stringify({ pid: process.pid, boot: currentBoot(), start: startIdentity(process.pid) });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      createExclusive(file, me);
      return () => {
        if (readText(file) === me) {
          try {
            unlinkSync(file);
          } catch {
            // already gone
          }
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const text = readText(file);
      if (text === null) continue; // removed meanwhile: try again
      const owner = parseLock(text);
      // an unreadable lock (empty: an older version died between create and write) is stale
      if (owner !== null && ownerRunning(owner, file)) throw new StoreLockedError(file, owner.pid);
      // take over only the stale lock we judged, not one another opener wrote meanwhile
      if (readText(file) !== text) continue;
      try {
        unlinkSync(file);
      } catch {
        // raced with another opener; retry
      }
    }
  }
  throw new Error(`could not take the history lock ${file}`);
}
