import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, tempDir } from './helpers';

const WRITER = join(import.meta.dirname, 'fixtures', 'crash-writer.ts');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

interface Committed {
  session: string;
  index: number;
  sha: string;
  word: string;
}

/** Run the writer until it reported `atLeast` committed turns, then SIGKILL it. */
function runAndKill(dir: string, atLeast: number, mode: 'inline' | 'background' = 'inline'): Promise<{ committed: Committed[]; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, mode], { cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.kill('SIGKILL'));
    const committed: Committed[] = [];
    let buf = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^committed (\S+) (\d+) ([0-9a-f]{64}) (\S+)$/.exec(line);
        if (m) committed.push({ session: m[1], index: Number(m[2]), sha: m[3], word: m[4] });
        else if (line.startsWith('error')) reject(new Error(line));
      }
      if (!killed && committed.length >= atLeast) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!killed) reject(new Error(`writer exited by itself (code ${code}): ${stderr}`));
      else resolve({ committed, signal, stderr });
    });
  });
}

describe('store crash safety', () => {
  // a child process under tsx: generous timeout for a loaded CI machine
  it.each(['inline', 'background'] as const)('after SIGKILL mid-stream every reported turn is there with its audio, and open calls are interrupted (%s recording writes)', { timeout: 90_000 }, async (mode) => {
    const t = tempDir('store-crash-');
    cleanups.push(t.cleanup);
    const { committed, signal } = await runAndKill(t.dir, 60, mode);
    expect(signal).toBe('SIGKILL');
    expect(committed.length).toBeGreaterThanOrEqual(60);

    const store = openStore(t.dir); // takes over the dead writer's lock
    try {
      for (const id of ['crash-a', 'crash-b', 'crash-c']) {
        const d = store.getCall(id)!;
        expect(d.call).toMatchObject({ end_reason: 'interrupted', outcome: 'interrupted', state: 'ended' });
        // ended at the last turn that made it to disk, not at the restart
        expect(d.call.ended_at).toBe(Math.max(...d.turns.map((x) => x.completed_at)));
        const reported = committed.filter((c) => c.session === id);
        const stored = new Map(d.turns.map((x) => [x.index, x]));
        for (const c of reported) {
          const got = stored.get(c.index);
          expect(got, `turn ${id}#${c.index}`).toBeDefined();
          expect(got!.transcript).toBe(`utterance ${id} ${c.index} ${c.word}`);
          expect(got!.recordings.caller?.sha256).toBe(c.sha);
          const file = store.recordingFile(id, c.index, 'caller');
          expect(file.ok).toBe(true);
          if (file.ok) expect(createHash('sha256').update(readFileSync(file.path)).digest('hex')).toBe(c.sha);
        }
        // at most the turn in flight is beyond what was reported
        expect(d.turns.length - reported.length).toBeLessThanOrEqual(1);
      }
      expect(store.getCall('done-call')!.call.end_reason).toBe('hangup');

      // turns the crash left out of the search index are indexed at open
      const last = committed[committed.length - 1];
      expect(store.listCalls({ q: last.word }).calls.map((c) => c.id)).toEqual([last.session]);

      // after the sweep, the recordings folder holds exactly the referenced files (no temp or orphan files)
      await store.sweepOrphanRecordings();
      const files = readdirSync(join(t.dir, 'recordings'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(files.every((f) => /^[0-9a-f]{64}\.wav$/.test(f.name))).toBe(true);
      expect(files.length).toBe(store.recordingStatus().files);
    } finally {
      store.close();
    }
  });
});
