import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreLockedError } from '../../src-main/store';
import { currentBoot, parseLock, startIdentity } from '../../src-main/store/lock';
import { call, openStore, tempDir } from './helpers';

const HOLDER = join(import.meta.dirname, 'fixtures', 'lock-holder.ts');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function dataDir(): string {
  const t = tempDir('store-lock-');
  cleanups.push(t.cleanup);
  return t.dir;
}

const lockOf = (dir: string) => join(dir, 'history.lock');
const linux = process.platform === 'linux';

/** The store took the lock over: it now names this process, and the store works. */
function expectTakenOver(dir: string): void {
  const store = openStore(dir);
  try {
    expect(parseLock(readFileSync(lockOf(dir), 'utf8'))).toMatchObject({ pid: process.pid, boot: currentBoot() });
    store.callStarted(call('after-takeover'));
    expect(store.getCall('after-takeover')).not.toBeNull();
  } finally {
    store.close();
  }
}

describe('history lock', () => {
  it('records pid, boot and start identity, and removes the file on close', () => {
    const dir = dataDir();
    const store = openStore(dir);
    const owner = parseLock(readFileSync(lockOf(dir), 'utf8'))!;
    expect(owner).toEqual({ pid: process.pid, boot: currentBoot(), start: startIdentity(process.pid) });
    if (linux) expect(owner.start).toMatch(/^\d+$/);
    // written through a complete temp file: none is left behind
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    store.close();
    expect(() => statSync(lockOf(dir))).toThrow(/ENOENT/);
  });

  it.runIf(linux)('takes over a lock whose pid now belongs to an unrelated live process (pid 1, the parent process)', () => {
    for (const pid of [1, process.ppid]) {
      const dir = dataDir();
      const real = startIdentity(pid);
      expect(real, `start of pid ${pid}`).not.toBeNull();
      // the same pid, but the process that wrote the lock started at another time
      writeFileSync(lockOf(dir), JSON.stringify({ pid, boot: currentBoot(), start: String(Number(real) + 12345) }));
      expectTakenOver(dir);
    }
  });

  it('takes over a lock written before a reboot even though its pid is alive again', () => {
    const dir = dataDir();
    // pid 1 always runs after a reboot; on Linux the boot id differs, elsewhere the boot time
    const otherBoot = linux ? '00000000-0000-4000-8000-000000000000' : 't:1000';
    writeFileSync(lockOf(dir), JSON.stringify({ pid: process.ppid, boot: otherBoot, start: startIdentity(process.ppid) }));
    expectTakenOver(dir);
  });

  it.runIf(linux)('takes over an old-format lock (bare pid) when that pid started after the file was written', () => {
    const dir = dataDir();
    writeFileSync(lockOf(dir), String(process.ppid));
    // the file dates from before this boot: the parent, alive now, cannot have written it
    const longAgo = new Date('2001-01-01T00:00:00Z');
    utimesSync(lockOf(dir), longAgo, longAgo);
    expectTakenOver(dir);
  });

  it('takes over the lock of a process that died, an empty lock and a garbled one', () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout);
    for (const content of [
      String(deadPid),
      JSON.stringify({ pid: deadPid, boot: currentBoot(), start: '1' }),
      '',
      '{"pid": "not a number"',
    ]) {
      const dir = dataDir();
      writeFileSync(lockOf(dir), content);
      expectTakenOver(dir);
    }
  });

  it('refuses an old-format lock of a live process written after it started (cannot tell it apart from an old app)', () => {
    const dir = dataDir();
    writeFileSync(lockOf(dir), String(process.ppid));
    expect(() => openStore(dir)).toThrow(StoreLockedError);
    expect(readFileSync(lockOf(dir), 'utf8')).toBe(String(process.ppid));
  });

  it('refuses while a second real process holds the store, and opens once it has exited', { timeout: 60_000 }, async () => {
    const dir = dataDir();
    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir], { cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited (${code}): ${stderr}`)));
    });
    let err: unknown;
    try {
      openStore(dir).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreLockedError);
    expect((err as StoreLockedError).pid).toBe(child.pid);
    expect((err as Error).message).toMatch(/in use by another running process/);
    // the refusal left the holder's lock alone
    expect(parseLock(readFileSync(lockOf(dir), 'utf8'))?.pid).toBe(child.pid);

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL'); // a crash: the lock file stays behind
    await exited;
    expect(parseLock(readFileSync(lockOf(dir), 'utf8'))?.pid).toBe(child.pid);
    expectTakenOver(dir);
  });
});
