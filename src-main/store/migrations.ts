/**
 * Numbered schema migrations of history.sqlite. `PRAGMA user_version` holds the number of the last
 * one applied. Each migration runs in its own transaction together with the version bump, so a
 * failure leaves the database exactly at the previous version. Never edit a released migration:
 * append a new one.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'calls, turns and events of note',
    sql: `
      CREATE TABLE calls (
        pk               INTEGER PRIMARY KEY,
        id               TEXT NOT NULL UNIQUE,
        session_id       TEXT NOT NULL,
        device           TEXT,
        direction        TEXT NOT NULL DEFAULT 'unknown',
        number           TEXT NOT NULL DEFAULT '',
        started_at       REAL NOT NULL,
        ended_at         REAL,
        last_activity_at REAL NOT NULL,
        end_reason       TEXT,
        state            TEXT NOT NULL DEFAULT 'active',
        outcome          TEXT NOT NULL DEFAULT 'active',
        handled_mask     INTEGER NOT NULL DEFAULT 0,
        holder           TEXT,
        authenticated    INTEGER NOT NULL DEFAULT 0,
        turn_count       INTEGER NOT NULL DEFAULT 0,
        total_turn_ms    REAL NOT NULL DEFAULT 0,
        last_latency_ms  REAL,
        first_turn_pk    INTEGER,
        last_turn_pk     INTEGER,
        source           TEXT NOT NULL DEFAULT 'live',
        import_key       TEXT UNIQUE
      );
      CREATE INDEX calls_session ON calls(session_id);
      CREATE INDEX calls_started ON calls(started_at DESC, pk DESC);
      CREATE INDEX calls_open ON calls(ended_at) WHERE ended_at IS NULL;

      -- AUTOINCREMENT: pks are never reused, so the full-text indexing watermark (v2) stays valid
      CREATE TABLE turns (
        pk                     INTEGER PRIMARY KEY AUTOINCREMENT,
        call_pk                INTEGER NOT NULL REFERENCES calls(pk) ON DELETE CASCADE,
        idx                    INTEGER NOT NULL,
        kind                   TEXT NOT NULL,
        started_at             REAL NOT NULL,
        completed_at           REAL NOT NULL,
        transcript             TEXT NOT NULL DEFAULT '',
        reply                  TEXT NOT NULL DEFAULT '',
        producer               TEXT NOT NULL DEFAULT '',
        producer_kind          TEXT NOT NULL DEFAULT '',
        asr_ms                 REAL NOT NULL DEFAULT 0,
        llm_ms                 REAL NOT NULL DEFAULT 0,
        tts_ms                 REAL NOT NULL DEFAULT 0,
        total_ms               REAL NOT NULL DEFAULT 0,
        llm_model              TEXT NOT NULL DEFAULT '',
        transcription_delay_ms REAL NOT NULL DEFAULT 0,
        llm_ttft_ms            REAL NOT NULL DEFAULT 0,
        tts_ttfb_ms            REAL NOT NULL DEFAULT 0,
        e2e_latency_ms         REAL NOT NULL DEFAULT 0,
        stale                  INTEGER NOT NULL DEFAULT 0,
        no_speech_prob         REAL,
        segments               TEXT,
        UNIQUE (call_pk, idx)
      );

      CREATE TABLE call_events (
        pk      INTEGER PRIMARY KEY,
        call_pk INTEGER NOT NULL REFERENCES calls(pk) ON DELETE CASCADE,
        at      REAL NOT NULL,
        type    TEXT NOT NULL,
        data    TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX call_events_call ON call_events(call_pk, pk);
    `,
  },
  {
    version: 2,
    name: 'full-text search over transcripts and replies',
    // Turns are indexed in batches behind a watermark (indexing one row per transaction costs
    // more than the rest of the turn commit); searches and open() catch up first, so results are
    // always complete. Only rows at or below the watermark are in the index, hence the WHENs.
    sql: `
      CREATE VIRTUAL TABLE turns_fts USING fts5(
        transcript, reply,
        content = 'turns', content_rowid = 'pk',
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      CREATE TABLE fts_state (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        indexed_pk INTEGER NOT NULL
      );
      CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns
      WHEN old.pk <= (SELECT indexed_pk FROM fts_state WHERE id = 1) BEGIN
        INSERT INTO turns_fts(turns_fts, rowid, transcript, reply) VALUES ('delete', old.pk, old.transcript, old.reply);
      END;
      CREATE TRIGGER turns_fts_update AFTER UPDATE OF transcript, reply ON turns
      WHEN old.pk <= (SELECT indexed_pk FROM fts_state WHERE id = 1) BEGIN
        INSERT INTO turns_fts(turns_fts, rowid, transcript, reply) VALUES ('delete', old.pk, old.transcript, old.reply);
        INSERT INTO turns_fts(rowid, transcript, reply) VALUES (new.pk, new.transcript, new.reply);
      END;
      INSERT INTO turns_fts(turns_fts) VALUES ('rebuild');
      INSERT INTO fts_state (id, indexed_pk) VALUES (1, coalesce((SELECT max(pk) FROM turns), 0));
    `,
  },
  {
    version: 3,
    name: 'content-addressed recordings and store settings',
    sql: `
      CREATE TABLE recordings (
        sha256       TEXT PRIMARY KEY,
        bytes        INTEGER NOT NULL,
        created_at   REAL NOT NULL,
        last_used_at REAL NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX recordings_last_used ON recordings(last_used_at);
      ALTER TABLE turns ADD COLUMN caller_sha TEXT REFERENCES recordings(sha256);
      ALTER TABLE turns ADD COLUMN reply_sha TEXT REFERENCES recordings(sha256);
      CREATE INDEX turns_caller_sha ON turns(caller_sha) WHERE caller_sha IS NOT NULL;
      CREATE INDEX turns_reply_sha ON turns(reply_sha) WHERE reply_sha IS NOT NULL;
      CREATE TABLE store_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'caller memory (keep_history)',
    sql: `
      CREATE TABLE caller_memory (
        number       TEXT PRIMARY KEY,
        history      TEXT NOT NULL DEFAULT '[]',
        summary      TEXT NOT NULL DEFAULT '',
        last_call_at REAL NOT NULL,
        total_calls  INTEGER NOT NULL DEFAULT 0,
        message_count INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE INDEX caller_memory_recent ON caller_memory(last_call_at DESC);
    `,
  },
  {
    version: 5,
    name: 'recordings found damaged at open (missing or cut short file)',
    sql: `
      ALTER TABLE recordings ADD COLUMN damaged TEXT;
    `,
  },
  {
    version: 6,
    name: 'what the caller heard of a reply cut short by barge-in',
    // NULL: the reply was heard in full (or the call never reported otherwise); '' = none of it
    sql: `
      ALTER TABLE turns ADD COLUMN reply_heard TEXT;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export class StoreVersionError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `${file} uses history schema version ${found}, but this version of Clawfinger only understands up to ${supported}. ` +
        'It was written by a newer version of the app: update the app, or move the file away to start a new history. The file was not modified.',
    );
    this.name = 'StoreVersionError';
  }
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Apply every migration above the database's version, up to `target`. Returns the versions applied.
 * `migrations` is a parameter so tests can build databases of each earlier version.
 */
export function migrate(db: Database.Database, target = SCHEMA_VERSION, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const applied: number[] = [];
  const current = schemaVersion(db);
  for (const m of migrations) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${Math.trunc(m.version)}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
