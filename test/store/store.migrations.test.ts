import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CallStore, SCHEMA_VERSION, StoreLockedError, StoreOpenError, StoreVersionError } from '../../src-main/store';
import { MIGRATIONS, migrate, schemaVersion } from '../../src-main/store/migrations';
import { openStore, tempDir } from './helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function dataDir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A database as an older app version left it: migrated to `version`, holding one ended and one open call. */
function legacyDb(dir: string, version: number): void {
  const db = new Database(join(dir, 'history.sqlite'));
  db.pragma('journal_mode = WAL');
  migrate(db, version);
  db.exec(`
    INSERT INTO calls (pk, id, session_id, direction, number, started_at, ended_at, last_activity_at, end_reason, state, outcome, turn_count)
    VALUES (1, 'old1', 'old1', 'incoming', '+4930111', 1600000000, 1600000100, 1600000100, 'hangup', 'ended', 'completed', 2),
           (2, 'open1', 'open1', 'outgoing', '+4930222', 1600001000, NULL, 1600001050, NULL, 'active', 'active', 1);
    INSERT INTO turns (call_pk, idx, kind, started_at, completed_at, transcript, reply, producer, producer_kind)
    VALUES (1, 0, 'normal', 1600000010, 1600000011, 'I would like a hovercraft appointment', 'Certainly, which day?', 'local:m', 'local'),
           (1, 1, 'normal', 1600000020, 1600000021, 'Tuesday please', 'Booked for Tuesday.', 'local:m', 'local'),
           (2, 0, 'normal', 1600001040, 1600001050, 'Is the plumber coming', 'Yes, at noon.', 'agent:bob', 'agent');
  `);
  if (version >= 4) db.prepare("INSERT INTO caller_memory (number, history, summary, last_call_at, total_calls, message_count) VALUES ('+4930111', '[]', 'old summary', 1600000100, 3, 0)").run();
  db.close();
}

describe('store migrations', () => {
  it('creates every table on an empty data dir and records the schema version', () => {
    const dir = dataDir();
    const store = openStore(dir);
    expect(store.migrated).toEqual(MIGRATIONS.map((m) => m.version));
    store.close();
    const db = new Database(join(dir, 'history.sqlite'), { readonly: true });
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['calls', 'turns', 'call_events', 'turns_fts', 'recordings', 'store_meta', 'caller_memory']));
    db.close();
  });

  it('opening an up-to-date database applies nothing', () => {
    const dir = dataDir();
    openStore(dir).close();
    const again = openStore(dir);
    expect(again.migrated).toEqual([]);
    again.close();
  });

  for (const from of MIGRATIONS.slice(0, -1).map((m) => m.version)) {
    it(`upgrades a version ${from} database keeping its calls, indexing them and closing the open one`, () => {
      const dir = dataDir();
      legacyDb(dir, from);
      const store = openStore(dir);
      expect(store.migrated).toEqual(MIGRATIONS.filter((m) => m.version > from).map((m) => m.version));

      const old = store.getCall('old1')!;
      expect(old.call.end_reason).toBe('hangup');
      expect(old.turns.map((t) => t.transcript)).toEqual(['I would like a hovercraft appointment', 'Tuesday please']);
      expect(old.turns[0].recordings).toEqual({ caller: null, reply: null });

      // the open call of the crashed old version is closed at its last activity
      const open = store.getCall('open1')!.call;
      expect(open).toMatchObject({ end_reason: 'interrupted', outcome: 'interrupted', ended_at: 1600001050, state: 'ended' });

      // turns written before full-text search existed are searchable
      expect(store.listCalls({ q: 'hovercraft' }).calls.map((c) => c.id)).toEqual(['old1']);
      expect(store.listCalls({ q: 'plumber' }).calls.map((c) => c.id)).toEqual(['open1']);

      // the newer features work on the upgraded file
      store.save('+4930999', [{ role: 'user', content: 'hi' }], 'new summary');
      expect(store.load('+4930999')).toEqual({ history: [{ role: 'user', content: 'hi' }], summary: 'new summary' });
      expect(store.recordingStatus()).toMatchObject({ files: 0, recording: true });
      store.close();
    });
  }

  it('refuses a database written by a newer version and leaves the file untouched', () => {
    const dir = dataDir();
    openStore(dir).close();
    const file = join(dir, 'history.sqlite');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = sha(file);
    let err: unknown;
    try {
      CallStore.open(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreVersionError);
    expect((err as Error).message).toMatch(new RegExp(`version ${SCHEMA_VERSION + 1}.*only understands up to ${SCHEMA_VERSION}.*newer version.*not modified`));
    expect(sha(file)).toBe(before);
    // the refused open released its lock: a fixed app version could open it now
    const check = new Database(file, { readonly: true });
    expect(schemaVersion(check)).toBe(SCHEMA_VERSION + 1);
    check.close();
    expect(() => CallStore.open(dir)).toThrow(StoreVersionError);
  });

  it('refuses a file that is not SQLite without modifying it', () => {
    const dir = dataDir();
    const file = join(dir, 'history.sqlite');
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(10));
    const before = sha(file);
    expect(() => CallStore.open(dir)).toThrow(StoreOpenError);
    expect(() => CallStore.open(dir)).toThrow(/not a SQLite database/);
    expect(sha(file)).toBe(before);
  });

  it('a failing migration rolls back completely and keeps the previous version', () => {
    const dir = dataDir();
    const db = new Database(join(dir, 'x.sqlite'));
    const broken = [
      MIGRATIONS[0],
      { version: 2, name: 'broken', sql: 'CREATE TABLE half_done (a INTEGER); INSERT INTO no_such_table VALUES (1);' },
    ];
    expect(() => migrate(db, 2, broken)).toThrow(/no such table/);
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('one process at a time: a second open is refused until the first closes', () => {
    const dir = dataDir();
    const first = openStore(dir);
    expect(() => openStore(dir)).toThrow(StoreLockedError);
    first.close();
    openStore(dir).close();
  });

  it('takes over the lock of a process that died', () => {
    const dir = dataDir();
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'history.lock'), child.stdout);
    const store = openStore(dir);
    expect(JSON.parse(readFileSync(join(dir, 'history.lock'), 'utf8')).pid).toBe(process.pid);
    store.close();
  });
});
