/** Opening history.sqlite safely: refuse foreign or newer files before anything is written to them. */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync, readSync, statSync } from 'node:fs';
import { migrate, SCHEMA_VERSION, schemaVersion, StoreVersionError } from './migrations';

/**
 * - `full`: every commit is fsynced before it returns (blocks the event loop for one fsync per turn).
 * - `async`: commits return at once and the WAL is fsynced right after on the thread pool
 *   (see wal-sync.ts); a power cut loses at most the last fsync interval.
 * - `normal`: no extra fsync; a process crash loses nothing, a power cut may lose recent turns.
 */
export type Durability = 'full' | 'async' | 'normal';

export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

const MAGIC = 'SQLite format 3\u0000';

/** The 100-byte header says whether this is SQLite and which user_version was last checkpointed. */
function checkHeader(file: string): void {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    return; // new database
  }
  if (size === 0) return;
  const head = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  let n = 0;
  try {
    n = readSync(fd, head, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 100 || head.toString('latin1', 0, 16) !== MAGIC) {
    throw new StoreOpenError(`${file} is not a SQLite database; it was not modified. Move it away to start a new history.`);
  }
  const version = head.readInt32BE(60);
  if (version > SCHEMA_VERSION) throw new StoreVersionError(file, version, SCHEMA_VERSION);
}

export interface OpenedDatabase {
  db: Database.Database;
  /** migrations applied by this open */
  migrated: number[];
}

export function openDatabase(file: string, durability: Durability): OpenedDatabase {
  checkHeader(file);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    // the header may be behind a WAL that a newer app wrote: check again before we write anything
    const version = schemaVersion(db);
    if (version > SCHEMA_VERSION) throw new StoreVersionError(file, version, SCHEMA_VERSION);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    // a large transaction (import, kill switch) must not leave a huge WAL file behind
    db.pragma('journal_size_limit = 16777216');
    try {
      // transcripts are private: owner only (SQLite gives the -wal/-shm files the same mode)
      chmodSync(file, 0o600);
    } catch {
      // not supported (Windows) or not ours to change
    }
    const migrated = migrate(db);
    return { db, migrated };
  } catch (e) {
    db.close();
    throw e;
  }
}
