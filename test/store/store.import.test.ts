import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImportError, importUpstream } from '../../src-main/store';
import { upstreamCaller, upstreamSession, upstreamTurn, writeUpstreamDir, type UpstreamSessionFile } from '../helpers/upstream-fixtures';
import { openStore, tempDir } from './helpers';

const ROOT = join(import.meta.dirname, '..', '..');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function sessions(): UpstreamSessionFile[] {
  return [
    upstreamSession('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 1708700000.1, [
      upstreamTurn('', "Hello, I am the owner's assistant.", 1708700001.5, { forced_reply: true, metrics: { asr_ms: 0, llm_ms: 0, tts_ms: 300.1, total_ms: 301.2, llm_model: '' } }),
      upstreamTurn('I need to move my dentist appointment', 'Of course, to which day?', 1708700009.2),
      upstreamTurn('Friday', 'Done.', 1708700015.9, { metrics: { asr_ms: 100, llm_ms: 0, tts_ms: 200, total_ms: 300, llm_model: 'agent' } }),
    ]),
    upstreamSession('a1b2c3d4e5f60718293a4b5c6d7e8f90', 1708800000, [upstreamTurn('Is the plumber coming', 'Yes, at noon.', 1708800004)]),
    upstreamSession('custom-id from a client', 1708900000, []),
  ];
}

function fixture() {
  const t = tempDir('store-import-');
  cleanups.push(t.cleanup);
  const upstream = join(t.dir, 'upstream');
  const data = join(t.dir, 'data');
  return { root: t.dir, upstream, data };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('import of an upstream gateway folder', () => {
  it('imports sessions and caller history in the upstream shapes, and a second import adds nothing', async () => {
    const { upstream, data } = fixture();
    const files = sessions();
    writeUpstreamDir(upstream, {
      sessions: files,
      callers: [
        upstreamCaller('+4930111222', 1708700020, 3, [['I need to move my dentist appointment', 'Of course, to which day?']]),
        upstreamCaller('*31#', 1708600000, 1, []),
      ],
    });
    const store = openStore(data);
    cleanups.push(() => store.close());

    const first = await importUpstream(store, upstream);
    expect(first).toEqual({
      dir: upstream,
      sessions: { imported: 3, skipped: 0, failed: [] },
      callers: { imported: 2, updated: 0, skipped: 0, failed: [] },
    });
    // upstream's own endpoints answer with what upstream's files said
    for (const f of files) expect(store.getSession(f.session_id)).toEqual(f);
    expect(store.listSessions()).toEqual([
      { session_id: 'custom-id from a client', created_at: 1708900000, turn_count: 0 },
      { session_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', created_at: 1708800000, turn_count: 1 },
      { session_id: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', created_at: 1708700000.1, turn_count: 3 },
    ]);
    expect(store.list()).toEqual([
      { number: '+4930111222', total_calls: 3, last_call_at: 1708700020, turn_count: 2 },
      { number: '*31#', total_calls: 1, last_call_at: 1708600000, turn_count: 0 },
    ]);
    expect(store.load('+4930111222')).toEqual({
      history: [
        { role: 'user', content: 'I need to move my dentist appointment' },
        { role: 'assistant', content: 'Of course, to which day?' },
      ],
      summary: 'Caller +4930111222 called 3 times.',
    });

    // imported calls are ordinary history: searchable, filterable, with producers mapped
    const [hit] = store.listCalls({ q: 'dentist' }).calls;
    expect(hit).toMatchObject({ session_id: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', source: 'import', outcome: 'imported', end_reason: 'imported', turn_count: 3 });
    expect(hit.handled_by.sort()).toEqual(['agent', 'forced', 'local']);
    expect(store.getCall(hit.id)!.turns.map((t) => [t.kind, t.producer])).toEqual([
      ['forced', 'forced'],
      ['normal', 'local:mlx-community/Qwen2.5-3B'],
      ['normal', 'agent:agent'],
    ]);
    // ended, so not "interrupted" on the next start
    store.closeInterruptedCalls();
    expect(store.getCall(hit.id)!.call.end_reason).toBe('imported');

    const second = await importUpstream(store, upstream);
    expect(second.sessions).toEqual({ imported: 0, skipped: 3, failed: [] });
    expect(second.callers).toEqual({ imported: 0, updated: 0, skipped: 2, failed: [] });
    expect(store.listCalls({ limit: 200 }).calls).toHaveLength(3);

    // a newer caller file replaces the stored memory; an older one does not
    writeUpstreamDir(upstream, { callers: [upstreamCaller('+4930111222', 1708999999, 4, [['new', 'newer']])] });
    expect((await importUpstream(store, upstream)).callers).toMatchObject({ updated: 1, skipped: 1 });
    expect(store.list()[0]).toMatchObject({ number: '+4930111222', total_calls: 4, last_call_at: 1708999999 });
  });

  it('reports malformed files and skips them without losing the good ones', async () => {
    const { upstream, data } = fixture();
    writeUpstreamDir(upstream, {
      sessions: sessions().slice(0, 1),
      callers: [upstreamCaller('+4930111222', 1708700020, 1, [])],
      rawSessions: {
        'broken.json': '{ "session_id": "x", "turns": [',
        'empty.json': '',
        'array.json': '[1, 2, 3]',
        'wrong-types.json': JSON.stringify({ session_id: 'w', turns: [{ transcript: 5, reply: 'r' }] }),
        'no-turns.json': JSON.stringify({ session_id: 'n', created_at: 1 }),
        'bad-time.json': JSON.stringify({ session_id: 't', created_at: 'yesterday', turns: [] }),
        'control.json': JSON.stringify({ session_id: 'a\u0007b', turns: [] }),
        'from-name.json': JSON.stringify({ created_at: 1708000000, turns: [] }),
        'notes.txt': 'not a session file',
      },
      rawCallers: {
        'garbage.json': 'null',
        'bad-history.json': JSON.stringify({ number: '+4930999', history: [{ role: 'robot', content: 'x' }], summary: '', last_call_at: 1, total_calls: 1 }),
      },
    });
    const store = openStore(data);
    cleanups.push(() => store.close());
    const r = await importUpstream(store, upstream);
    expect(r.sessions.imported).toBe(2); // the good file and the one whose id is its name
    expect(r.sessions.failed.map((f) => f.file).sort()).toEqual(
      ['array', 'bad-time', 'broken', 'control', 'empty', 'no-turns', 'wrong-types'].map((n) => `sessions/${n}.json`),
    );
    const reason = (name: string) => r.sessions.failed.find((f) => f.file === `sessions/${name}.json`)!.error;
    expect(reason('broken')).toMatch(/not valid JSON/);
    expect(reason('wrong-types')).toMatch(/turns\.0\.transcript/);
    expect(reason('no-turns')).toMatch(/turns/);
    expect(reason('bad-time')).toMatch(/created_at/);
    expect(reason('control')).toMatch(/session_id: contains control characters/);
    expect(r.callers.imported).toBe(1);
    expect(r.callers.failed.map((f) => f.file).sort()).toEqual(['caller_history/bad-history.json', 'caller_history/garbage.json']);
    expect(store.getSession('from-name')).toEqual({ session_id: 'from-name', created_at: 1708000000, turns: [] });
    expect(store.getSession(sessions()[0].session_id)).toEqual(sessions()[0]);
  });

  it('rejects hostile numbers used as file names or inside files, and writes nothing outside the data dir', async () => {
    const { root, upstream, data } = fixture();
    const outside = join(root, 'outside.json');
    writeFileSync(outside, JSON.stringify(upstreamCaller('+4930777', 1708700000, 1, [['secret', 'stuff']])));
    const noNumber = (n = 1) => JSON.stringify({ history: [], summary: 's', last_call_at: 1708700000 + n, total_calls: 1 });
    writeUpstreamDir(upstream, {
      callers: [upstreamCaller('+4930111222', 1708700020, 1, [])],
      rawCallers: {
        '..json': noNumber(1),
        '+1555;rm -rf ~.json': noNumber(2),
        '$(reboot).json': noNumber(3),
        '`id`.json': noNumber(4),
        '٠١٢٣٤٥.json': noNumber(5), // Arabic-Indic digits
        '%2e%2e%2fetc%2fpasswd.json': noNumber(6),
        '+49 (30) 555-01.json': noNumber(7), // upstream's normalisation makes this a fine number
        'inside-traversal.json': JSON.stringify({ ...upstreamCaller('+1', 1708700000, 1, []), number: '../../../../etc/passwd' }),
        'inside-newline.json': JSON.stringify({ ...upstreamCaller('+1', 1708700000, 1, []), number: '+49301\u0000;ls' }),
      },
    });
    symlinkSync(outside, join(upstream, 'caller_history', '+4930888.json'));
    mkdirSync(join(upstream, 'caller_history', '+4930999.json'));
    const before = filesUnder(root).filter((f) => !f.startsWith('data'));
    const upstreamBytes = before.map((f) => (statSync(join(root, f)).isFile() ? readFileSync(join(root, f), 'utf8') : ''));

    const store = openStore(data);
    cleanups.push(() => store.close());
    const r = await importUpstream(store, upstream);
    expect(r.callers.imported).toBe(2);
    expect(store.list().map((c) => c.number).sort()).toEqual(['+4930111222', '+493055501']);
    const failed = Object.fromEntries(r.callers.failed.map((f) => [f.file.replace('caller_history/', ''), f.error]));
    expect(Object.keys(failed).sort()).toEqual(
      ['$(reboot).json', '%2e%2e%2fetc%2fpasswd.json', '+1555;rm -rf ~.json', '+4930888.json', '+4930999.json', '..json', '`id`.json', 'inside-newline.json', 'inside-traversal.json', '٠١٢٣٤٥.json'].sort(),
    );
    expect(failed['inside-traversal.json']).toMatch(/invalid number/);
    expect(failed['+4930888.json']).toMatch(/not a regular file/);
    expect(failed['+4930999.json']).toMatch(/not a regular file/);

    // nothing outside the data dir was created or changed
    const after = filesUnder(root).filter((f) => !f.startsWith('data'));
    expect(after).toEqual(before);
    expect(after.map((f) => (statSync(join(root, f)).isFile() ? readFileSync(join(root, f), 'utf8') : ''))).toEqual(upstreamBytes);
  });

  it('says clearly when the folder is not an upstream data folder', async () => {
    const { root, data } = fixture();
    const store = openStore(data);
    cleanups.push(() => store.close());
    await expect(importUpstream(store, join(root, 'missing'))).rejects.toThrow(ImportError);
    mkdirSync(join(root, 'empty'));
    await expect(importUpstream(store, join(root, 'empty'))).rejects.toThrow(/no sessions\/ or caller_history\/ folder/);
  });
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src-main', 'cli', 'import-upstream.ts'), ...args], { cwd: ROOT });
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('import-upstream command', () => {
  // child processes under tsx: generous timeout for a loaded CI machine
  it('imports, reports, is idempotent, and fails clearly', { timeout: 120_000 }, async () => {
    const { upstream, data } = fixture();
    writeUpstreamDir(upstream, { sessions: sessions(), callers: [upstreamCaller('+4930111222', 1708700020, 3, [])], rawSessions: { 'bad.json': '{' } });

    const first = await runCli(['--data-dir', data, '--from', upstream]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('sessions: 3 imported, 0 already present, 1 failed');
    expect(first.stdout).toContain('callers:  1 imported');
    expect(first.stdout).toMatch(/skipped "sessions\/bad.json": not valid JSON/);

    const second = await runCli(['--data-dir', data, '--from', upstream, '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ sessions: { imported: 0, skipped: 3 }, callers: { imported: 0, skipped: 1 } });

    const [noDataDir, bogus, missing] = await Promise.all([
      runCli(['--from', upstream]),
      runCli(['--data-dir', data, '--from', upstream, '--bogus']),
      runCli(['--data-dir', data, '--from', join(upstream, 'nope')]),
    ]);
    expect(noDataDir.code).toBe(2);
    expect(noDataDir.stderr).toMatch(/usage: import-upstream/);
    expect(bogus.code).toBe(2);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/import failed: not a folder/);

    // the running app holds the history: the command refuses instead of writing beside it
    const store = openStore(data);
    cleanups.push(() => store.close());
    const locked = await runCli(['--data-dir', data, '--from', upstream]);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/in use by another running process/);
  });
});
