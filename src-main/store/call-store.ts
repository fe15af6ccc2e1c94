/**
 * Call history in `<dataDir>/history.sqlite` (WAL) with recordings as files next to it.
 *
 * The call manager calls the CallObserver methods synchronously before the phone gets its answer;
 * each completed turn is one prepared-statement transaction, so a crash loses at most the turn in
 * flight. Storage failures never propagate into a call: they go to `onError`.
 *
 * With `recordingWrites: 'background'` (the app) a turn's WAVs are written by a writer thread
 * (recording-writer.ts) and the turn commits once they are in place, a few milliseconds after the
 * phone got its answer (a crash loses at most that turn); turnCompleted returns a promise that
 * resolves at the commit, the observer calls of one call are applied in the order they arrived (see
 * "background recording writes" below), and readers that must see every turn await `settled()`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync, unlinkSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { CallObserver, CallSummary, CallerMemory, ReplyCut, TurnRecord } from '../calls/types';
import type { ChatMessage } from '../engines/types';
import { isNumberKey, numberKey, normalizeNumber } from '../../src-shared/text/phone-number';
import { openDatabase, type Durability } from './database';
import { acquireLock } from './lock';
import { buildCallQuery, encodeCursor, kindBit, kindsOfMask, parseCallQuery, producerKind, type SearchBounds } from './query';
import { RecordingFiles, isSha256, sha256Hex, type ExistingFile } from './recording-files';
import { makeSnippet, snippetTerms } from './snippet';
import { FileSyncer } from './file-sync';
import { WalSyncer } from './wal-sync';
import type {
  CallDetail,
  CallListItem,
  CallPage,
  CallQuery,
  CallerListItem,
  Outcome,
  RecordingCheck,
  RecordingDamage,
  RecordingStatus,
  RetentionResult,
  StoreSettings,
  StoredCall,
  StoredEvent,
  StoredRecording,
  StoredTurn,
  UpstreamSession,
  UpstreamSessionListItem,
} from './types';

export interface CallStoreOptions {
  /** current settings; read on every turn and retention run, so live config changes apply */
  settings?: () => StoreSettings;
  /** how often retention runs while open (ms); 0 = only at open and on demand. Default 1 h. */
  retentionIntervalMs?: number;
  /** see Durability; default 'async' (fsync of each commit off the event loop) */
  durability?: Durability;
  /**
   * A text search ranks at most this many matching turns, the newest (bounds the time a search
   * blocks the event loop); pages then say `truncated`. Narrowing by date moves the window. Default 5000.
   */
  searchCap?: number;
  /** clock, epoch seconds (tests) */
  now?: () => number;
  /** storage failures that were swallowed to keep a call going */
  onError?: (err: unknown, context: string) => void;
  /**
   * Where a turn's recordings are written. 'inline' (default): hashed and written on the event loop
   * inside turnCompleted, which has committed the turn when it returns. 'background': written by a
   * writer thread; turnCompleted returns a promise resolved once the turn is committed, the
   * observer calls of one call are applied in arrival order (later ones wait behind a turn whose
   * audio is being written), and `settled()` / `whenDurable()` wait for what is queued. Readers
   * that must see every turn reported so far (the history routes) await `settled()` first.
   */
  recordingWrites?: 'inline' | 'background';
}

type Side = 'caller' | 'reply';

/** A recording of a queued turn (background writes). */
interface PendingAudio {
  side: Side;
  sha: string;
  bytes: Uint8Array;
  /**
   * 'writing': waits for the write of its sha; 'ready': the file is in place (written, or already
   * recorded); 'failed': the write failed (the turn is committed without it); 'dropped': the kill
   * switch purged recordings meanwhile.
   */
  state: 'writing' | 'ready' | 'failed' | 'dropped';
  error?: unknown;
  job: QueuedJob;
}

/** One observer call waiting for its turn (background writes). */
interface QueuedJob {
  session: string;
  context: string;
  apply: () => void;
  /** a turn's recordings; the job runs once none is 'writing' */
  audio: PendingAudio[];
  promise?: Promise<void>;
  resolve?: () => void;
}

/** A background write of one sha; `valid` turns false when the file was deleted meanwhile. */
interface WriteOp {
  sha: string;
  waiters: Set<PendingAudio>;
  valid: boolean;
}

/** CallStoreOptions.searchCap by default */
export const DEFAULT_SEARCH_CAP = 5000;

export const DEFAULT_STORE_SETTINGS: StoreSettings = { record_audio: true, recording_max_age_days: 30, recording_max_disk_mb: 2048 };

const EVENT_DATA_MAX = 16_384;
/** turns waiting for the full-text index before a turn commit indexes them inline */
const INDEX_BATCH = 256;
/** idle delay before pending turns are indexed */
const INDEX_DELAY_MS = 1000;
const SAFE_ID = /^[A-Za-z0-9_-]{1,100}$/;
/**
 * Ids a call must not get because a route under /api/calls/ has that name (GET /api/calls/export
 * is the bulk export): such a session id gets a suffixed call id instead.
 */
export const RESERVED_CALL_IDS: ReadonlySet<string> = new Set(['export']);

interface CallRow {
  pk: number;
  id: string;
  session_id: string;
  device: string | null;
  direction: string;
  number: string;
  started_at: number;
  ended_at: number | null;
  last_activity_at: number;
  end_reason: string | null;
  state: string;
  outcome: string;
  handled_mask: number;
  holder: string | null;
  authenticated: number;
  turn_count: number;
  total_turn_ms: number;
  last_latency_ms: number | null;
  source: string;
  match_score?: number;
  match_turn?: number;
  match_turn_pk?: number;
}

interface TurnRow {
  pk: number;
  idx: number;
  kind: string;
  started_at: number;
  completed_at: number;
  transcript: string;
  reply: string;
  producer: string;
  producer_kind: string;
  asr_ms: number;
  llm_ms: number;
  tts_ms: number;
  total_ms: number;
  llm_model: string;
  transcription_delay_ms: number;
  llm_ttft_ms: number;
  tts_ttfb_ms: number;
  e2e_latency_ms: number;
  stale: number;
  no_speech_prob: number | null;
  segments: string | null;
  caller_sha: string | null;
  reply_sha: string | null;
  caller_bytes: number | null;
  reply_bytes: number | null;
  caller_damaged: string | null;
  reply_damaged: string | null;
  reply_heard: string | null;
}

export interface ImportedSession {
  session_id: string;
  created_at: number | null;
  turns: { transcript: string; reply: string; forced: boolean; timestamp: number; asr_ms: number; llm_ms: number; tts_ms: number; total_ms: number; llm_model: string }[];
}

export interface ImportedCaller {
  number: string;
  history: ChatMessage[];
  summary: string;
  last_call_at: number;
  total_calls: number;
}

export function outcomeOf(endReason: string | null, turnCount: number): Outcome {
  if (endReason === null) return 'active';
  if (endReason === 'rejected' || endReason === 'auth_failed' || endReason === 'interrupted' || endReason === 'imported') return endReason;
  if (endReason === 'shutdown') return 'interrupted';
  return turnCount > 0 ? 'completed' : 'no_turns';
}

function storedNumber(raw: string): string {
  return normalizeNumber(String(raw ?? '')).slice(0, 64);
}

function jsonOrNull(s: string | null): unknown {
  if (s === null) return null;
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

function finite(n: unknown, fallback = 0): number {
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
}

function eventJson(data: Record<string, unknown>): string {
  let s: string;
  try {
    s = JSON.stringify(data ?? {});
  } catch {
    return JSON.stringify({ unserialisable: true });
  }
  return s.length > EVENT_DATA_MAX ? JSON.stringify({ truncated: true, preview: s.slice(0, EVENT_DATA_MAX) }) : s;
}

function damageOf(s: string): RecordingDamage {
  return s === 'missing' ? 'missing' : 'truncated';
}

function recording(sha: string, bytes: number | null, damaged: string | null): StoredRecording {
  return damaged === null ? { sha256: sha, bytes: bytes ?? 0 } : { sha256: sha, bytes: bytes ?? 0, damaged: damageOf(damaged) };
}

function isChatMessage(m: unknown): m is ChatMessage {
  const o = m as ChatMessage;
  return !!o && typeof o === 'object' && (o.role === 'user' || o.role === 'assistant' || o.role === 'system') && typeof o.content === 'string';
}

export class CallStore implements CallObserver, CallerMemory {
  readonly file: string;
  readonly recordingsDir: string;
  /** migration versions applied when this store was opened */
  readonly migrated: number[];

  private readonly db: Database.Database;
  private readonly files: RecordingFiles;
  private readonly releaseLock: () => void;
  private readonly settings: () => StoreSettings;
  private readonly now: () => number;
  private readonly searchCap: number;
  private readonly onError: (err: unknown, context: string) => void;
  private readonly openCalls = new Map<string, number>();
  private readonly listStatements = new Map<string, Database.Statement<Record<string, string | number>, CallRow>>();
  private readonly st: ReturnType<CallStore['prepare']>;
  private paused: boolean;
  private readonly walSync: WalSyncer | null;
  private readonly fileSync: FileSyncer | null;
  private readonly durability: Durability;
  private walKickQueued = false;
  /** the check of recording files started at open (see checkRecordings) */
  readonly recordingsChecked: Promise<RecordingCheck | null>;
  private timer: NodeJS.Timeout | null = null;
  private indexTimer: NodeJS.Timeout | null = null;
  private pendingIndex = 0;
  private closed = false;
  private readonly background: boolean;
  /** background writes: per session id, the observer calls applied in order once their audio is written */
  private readonly queues = new Map<string, QueuedJob[]>();
  /** background writes: the recordings of queued turns, by sha */
  private readonly pendingAudio = new Map<string, Set<PendingAudio>>();
  /** background writes: the current write of each sha that queued turns wait for */
  private readonly writing = new Map<string, WriteOp>();
  /** background writes: the last write started for each sha (writes of one sha run one after another) */
  private readonly writeTails = new Map<string, Promise<void>>();

  /** Open (creating and migrating) `<dataDir>/history.sqlite`; closes calls a crash left open. */
  static open(dataDir: string, opts: CallStoreOptions = {}): CallStore {
    mkdirSync(dataDir, { recursive: true });
    const release = acquireLock(join(dataDir, 'history.lock'));
    try {
      return new CallStore(dataDir, release, opts);
    } catch (e) {
      release();
      throw e;
    }
  }

  private constructor(dataDir: string, releaseLock: () => void, opts: CallStoreOptions) {
    this.file = join(dataDir, 'history.sqlite');
    this.recordingsDir = join(dataDir, 'recordings');
    this.releaseLock = releaseLock;
    this.settings = opts.settings ?? (() => DEFAULT_STORE_SETTINGS);
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.searchCap = Math.max(1, Math.trunc(opts.searchCap ?? DEFAULT_SEARCH_CAP));
    this.onError = opts.onError ?? ((err, context) => console.error(`[store] ${context}:`, err));
    const durability = opts.durability ?? 'async';
    this.durability = durability;
    const { db, migrated } = openDatabase(this.file, durability);
    this.db = db;
    this.migrated = migrated;
    this.background = opts.recordingWrites === 'background';
    this.files = new RecordingFiles(this.recordingsDir);
    try {
      this.st = this.prepare();
      this.paused = this.st.metaGet.get('recording_paused')?.value === '1';
      this.closeInterruptedCalls();
      this.renameReservedIds();
      this.flushSearchIndex(); // turns a crash left unindexed
    } catch (e) {
      db.close();
      throw e;
    }
    this.walSync = durability === 'async' ? new WalSyncer(`${this.file}-wal`, (e) => this.onError(e, 'fsync of the WAL')) : null;
    this.fileSync = durability === 'async' ? new FileSyncer((e) => this.onError(e, 'fsync of a recording')) : null;
    this.runRetention('retention at open');
    this.recordingsChecked = this.checkRecordings().catch((e) => {
      this.onError(e, 'recording check');
      return null;
    });
    void this.sweepOrphanRecordings().catch((e) => this.onError(e, 'orphan sweep'));
    const every = opts.retentionIntervalMs ?? 3_600_000;
    if (every > 0) {
      this.timer = setInterval(() => this.runRetention('periodic retention'), every);
      this.timer.unref();
    }
  }

  private prepare() {
    const db = this.db;
    return {
      callByPk: db.prepare<[number], CallRow>('SELECT * FROM calls WHERE pk = ?'),
      callById: db.prepare<[string], CallRow>('SELECT * FROM calls WHERE id = ?'),
      openBySession: db.prepare<[string], { pk: number }>('SELECT pk FROM calls WHERE session_id = ? AND ended_at IS NULL ORDER BY pk DESC LIMIT 1'),
      latestBySession: db.prepare<[string], { pk: number }>('SELECT pk FROM calls WHERE session_id = ? ORDER BY pk DESC LIMIT 1'),
      idTaken: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM calls WHERE id = ?'),
      insertCall: db.prepare(
        `INSERT INTO calls (id, session_id, device, direction, number, started_at, last_activity_at, state, holder, authenticated)
         VALUES (@id, @session_id, @device, @direction, @number, @started_at, @started_at, @state, @holder, @authenticated)`,
      ),
      updateCall: db.prepare(
        `UPDATE calls SET device = coalesce(@device, device),
           direction = CASE WHEN @direction = 'unknown' THEN direction ELSE @direction END,
           number = CASE WHEN @number = '' THEN number ELSE @number END,
           state = CASE WHEN ended_at IS NULL THEN @state ELSE state END,
           holder = CASE WHEN ended_at IS NULL THEN @holder ELSE holder END,
           authenticated = max(authenticated, @authenticated)
         WHERE pk = @pk`,
      ),
      endCall: db.prepare(
        `UPDATE calls SET ended_at = @ended_at, end_reason = @end_reason, state = 'ended', outcome = @outcome, holder = NULL
         WHERE pk = @pk AND ended_at IS NULL`,
      ),
      closeOpen: db.prepare(
        `UPDATE calls SET ended_at = last_activity_at, end_reason = 'interrupted', state = 'ended', outcome = 'interrupted', holder = NULL
         WHERE ended_at IS NULL`,
      ),
      turnAt: db.prepare<[number, number], { pk: number; caller_sha: string | null; reply_sha: string | null }>(
        'SELECT pk, caller_sha, reply_sha FROM turns WHERE call_pk = ? AND idx = ?',
      ),
      insertTurn: db.prepare(
        `INSERT INTO turns (call_pk, idx, kind, started_at, completed_at, transcript, reply, producer, producer_kind,
           asr_ms, llm_ms, tts_ms, total_ms, llm_model, transcription_delay_ms, llm_ttft_ms, tts_ttfb_ms, e2e_latency_ms,
           stale, no_speech_prob, segments, caller_sha, reply_sha)
         VALUES (@call_pk, @idx, @kind, @started_at, @completed_at, @transcript, @reply, @producer, @producer_kind,
           @asr_ms, @llm_ms, @tts_ms, @total_ms, @llm_model, @transcription_delay_ms, @llm_ttft_ms, @tts_ttfb_ms, @e2e_latency_ms,
           @stale, @no_speech_prob, @segments, @caller_sha, @reply_sha)`,
      ),
      replaceTurn: db.prepare(
        `UPDATE turns SET kind = @kind, started_at = @started_at, completed_at = @completed_at, transcript = @transcript,
           reply = @reply, producer = @producer, producer_kind = @producer_kind, asr_ms = @asr_ms, llm_ms = @llm_ms,
           tts_ms = @tts_ms, total_ms = @total_ms, llm_model = @llm_model, transcription_delay_ms = @transcription_delay_ms,
           llm_ttft_ms = @llm_ttft_ms, tts_ttfb_ms = @tts_ttfb_ms, e2e_latency_ms = @e2e_latency_ms, stale = @stale,
           no_speech_prob = @no_speech_prob, segments = @segments, caller_sha = @caller_sha, reply_sha = @reply_sha,
           reply_heard = CASE WHEN reply = @reply THEN reply_heard ELSE NULL END
         WHERE call_pk = @call_pk AND idx = @idx`,
      ),
      callAfterTurn: db.prepare(
        `UPDATE calls SET turn_count = turn_count + @added, total_turn_ms = total_turn_ms + @total_ms,
           handled_mask = handled_mask | @bit, last_latency_ms = @e2e, last_activity_at = max(last_activity_at, @at),
           first_turn_pk = coalesce(first_turn_pk, @turn_pk), last_turn_pk = max(coalesce(last_turn_pk, 0), @turn_pk),
           outcome = CASE WHEN ended_at IS NULL THEN outcome ELSE (CASE WHEN outcome = 'no_turns' THEN 'completed' ELSE outcome END) END
         WHERE pk = @pk`,
      ),
      touchCall: db.prepare('UPDATE calls SET last_activity_at = max(last_activity_at, ?) WHERE pk = ?'),
      // barge-in: the newest played (not stale) turn of the call with this reply
      markReplyHeard: db.prepare<[string, number, string]>(
        `UPDATE turns SET reply_heard = ? WHERE pk = (
           SELECT pk FROM turns WHERE call_pk = ? AND reply = ? AND stale = 0 ORDER BY idx DESC LIMIT 1)`,
      ),
      insertEvent: db.prepare('INSERT INTO call_events (call_pk, at, type, data) VALUES (?, ?, ?, ?)'),
      turnsOf: db.prepare<[number], TurnRow>(
        `SELECT t.*, rc.bytes AS caller_bytes, rr.bytes AS reply_bytes, rc.damaged AS caller_damaged, rr.damaged AS reply_damaged FROM turns t
         LEFT JOIN recordings rc ON rc.sha256 = t.caller_sha LEFT JOIN recordings rr ON rr.sha256 = t.reply_sha
         WHERE t.call_pk = ? ORDER BY t.idx`,
      ),
      eventsOf: db.prepare<[number], { at: number; type: string; data: string }>('SELECT at, type, data FROM call_events WHERE call_pk = ? ORDER BY pk'),
      shasOfCall: db.prepare<[number, number], { sha: string }>(
        `SELECT caller_sha AS sha FROM turns WHERE call_pk = ? AND caller_sha IS NOT NULL
         UNION SELECT reply_sha FROM turns WHERE call_pk = ? AND reply_sha IS NOT NULL`,
      ),
      deleteCall: db.prepare('DELETE FROM calls WHERE pk = ?'),
      ftsCount: db.prepare<{ q: string; cap: number }, { n: number }>('SELECT count(*) AS n FROM (SELECT 1 FROM turns_fts WHERE turns_fts MATCH :q LIMIT :cap)'),
      ftsCountRange: db.prepare<{ q: string; lo: number; hi: number; cap: number }, { n: number }>(
        'SELECT count(*) AS n FROM (SELECT 1 FROM turns_fts WHERE turns_fts MATCH :q AND rowid BETWEEN :lo AND :hi LIMIT :cap)',
      ),
      turnText: db.prepare<[number], { transcript: string; reply: string }>('SELECT transcript, reply FROM turns WHERE pk = ?'),
      turnRangeOfCalls: db.prepare<{ from: number; to: number }, { lo: number | null; hi: number | null }>(
        'SELECT min(first_turn_pk) AS lo, max(last_turn_pk) AS hi FROM calls WHERE started_at BETWEEN :from AND :to',
      ),
      ftsWatermark: db.prepare<[], { w: number }>('SELECT indexed_pk AS w FROM fts_state WHERE id = 1'),
      ftsCatchUp: db.prepare('INSERT INTO turns_fts (rowid, transcript, reply) SELECT pk, transcript, reply FROM turns WHERE pk > ? ORDER BY pk'),
      ftsSetWatermark: db.prepare('UPDATE fts_state SET indexed_pk = max(indexed_pk, (SELECT coalesce(max(pk), 0) FROM turns)) WHERE id = 1'),
      // recordings
      recGet: db.prepare<[string], { sha256: string; bytes: number; damaged: string | null }>('SELECT sha256, bytes, damaged FROM recordings WHERE sha256 = ?'),
      // a damaged recording whose audio was recorded again has its file back
      recUpsert: db.prepare(
        `INSERT INTO recordings (sha256, bytes, created_at, last_used_at) VALUES (@sha, @bytes, @at, @at)
         ON CONFLICT(sha256) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at), damaged = NULL`,
      ),
      recIntact: db.prepare<[], { sha256: string; bytes: number }>('SELECT sha256, bytes FROM recordings WHERE damaged IS NULL'),
      recMarkDamaged: db.prepare('UPDATE recordings SET damaged = ? WHERE sha256 = ? AND damaged IS NULL'),
      recReferenced: db.prepare<[string, string], { one: number }>(
        'SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM turns WHERE caller_sha = ?) OR EXISTS (SELECT 1 FROM turns WHERE reply_sha = ?)',
      ),
      recDelete: db.prepare('DELETE FROM recordings WHERE sha256 = ?'),
      recUnrefCaller: db.prepare('UPDATE turns SET caller_sha = NULL WHERE caller_sha = ?'),
      recUnrefReply: db.prepare('UPDATE turns SET reply_sha = NULL WHERE reply_sha = ?'),
      recOlderThan: db.prepare<[number], { sha256: string; bytes: number }>('SELECT sha256, bytes FROM recordings WHERE last_used_at < ?'),
      recByAge: db.prepare<[], { sha256: string; bytes: number }>('SELECT sha256, bytes FROM recordings ORDER BY last_used_at ASC, created_at ASC'),
      recTotals: db.prepare<[], { files: number; bytes: number | null }>('SELECT count(*) AS files, sum(bytes) AS bytes FROM recordings WHERE damaged IS NULL'),
      metaGet: db.prepare<[string], { value: string }>('SELECT value FROM store_meta WHERE key = ?'),
      metaSet: db.prepare('INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      metaDelete: db.prepare('DELETE FROM store_meta WHERE key = ?'),
      // caller memory
      memGet: db.prepare<[string], { history: string; summary: string; total_calls: number; last_call_at: number }>(
        'SELECT history, summary, total_calls, last_call_at FROM caller_memory WHERE number = ?',
      ),
      memSave: db.prepare(
        `INSERT INTO caller_memory (number, history, summary, last_call_at, total_calls, message_count)
         VALUES (@number, @history, @summary, @at, 1, @count)
         ON CONFLICT(number) DO UPDATE SET history = excluded.history, summary = excluded.summary,
           last_call_at = excluded.last_call_at, total_calls = total_calls + 1, message_count = excluded.message_count`,
      ),
      memPut: db.prepare(
        `INSERT OR REPLACE INTO caller_memory (number, history, summary, last_call_at, total_calls, message_count)
         VALUES (@number, @history, @summary, @at, @total_calls, @count)`,
      ),
      memDelete: db.prepare('DELETE FROM caller_memory WHERE number = ?'),
      memList: db.prepare<[], CallerListItem>(
        'SELECT number, total_calls, last_call_at, message_count AS turn_count FROM caller_memory ORDER BY last_call_at DESC, number',
      ),
      // upstream views
      sessionsList: db.prepare<[], UpstreamSessionListItem>(
        `SELECT c.session_id AS session_id, c.started_at AS created_at,
           (SELECT count(*) FROM turns t WHERE t.call_pk = c.pk AND t.stale = 0 AND t.kind NOT IN ('inject', 'ended')) AS turn_count
         FROM calls c
         -- one entry per session id (upstream keeps one file per session): its latest call
         WHERE c.pk = (SELECT max(c2.pk) FROM calls c2 WHERE c2.session_id = c.session_id)
         ORDER BY c.last_activity_at DESC, c.pk DESC`,
      ),
      sessionTurns: db.prepare<[number], { transcript: string; reply: string; asr_ms: number; llm_ms: number; tts_ms: number; total_ms: number; llm_model: string; kind: string; completed_at: number }>(
        `SELECT transcript, reply, asr_ms, llm_ms, tts_ms, total_ms, llm_model, kind, completed_at FROM turns
         WHERE call_pk = ? AND stale = 0 AND kind NOT IN ('inject', 'ended') ORDER BY idx`,
      ),
      setTurnRange: db.prepare(
        'UPDATE calls SET first_turn_pk = (SELECT min(pk) FROM turns WHERE call_pk = @pk), last_turn_pk = (SELECT max(pk) FROM turns WHERE call_pk = @pk) WHERE pk = @pk',
      ),
      byImportKey: db.prepare<[string], { pk: number }>('SELECT pk FROM calls WHERE import_key = ?'),
      insertImported: db.prepare(
        `INSERT INTO calls (id, session_id, direction, number, started_at, ended_at, last_activity_at, end_reason, state, outcome,
           handled_mask, turn_count, total_turn_ms, source, import_key)
         VALUES (@id, @session_id, 'unknown', '', @started_at, @ended_at, @ended_at, 'imported', 'ended', 'imported',
           @handled_mask, @turn_count, @total_turn_ms, 'import', @import_key)`,
      ),
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Close every call a crash left open, with end reason `interrupted`. Returns how many. Runs at
   * open; calling it later would also close the calls in progress.
   */
  closeInterruptedCalls(): number {
    const n = this.st.closeOpen.run().changes;
    this.openCalls.clear();
    return n;
  }

  /** Calls stored (by older versions) under a reserved id get a reachable one. Returns how many. */
  private renameReservedIds(): number {
    let n = 0;
    for (const id of RESERVED_CALL_IDS) {
      const row = this.st.callById.get(id);
      if (!row) continue;
      this.db.prepare('UPDATE calls SET id = ? WHERE pk = ?').run(this.newCallId(id), row.pk);
      n++;
    }
    return n;
  }

  /**
   * Stop the retention timer and close the database. Idempotent. Background writes: call steps
   * still queued are committed first, in order, writing the audio they wait for synchronously
   * (await `whenDurable()` before, as the app does, and there is nothing left to do here).
   */
  close(): void {
    if (this.closed) return;
    try {
      this.drainQueued();
    } catch (e) {
      this.onError(e, 'committing queued turns on close');
    }
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      this.flushSearchIndex();
    } catch (e) {
      this.onError(e, 'indexing on close');
    }
    if (this.indexTimer) clearTimeout(this.indexTimer);
    this.indexTimer = null;
    this.files.close();
    this.fileSync?.close();
    this.walSync?.close();
    try {
      this.db.close(); // checkpoints (synced) and removes the WAL
    } finally {
      this.releaseLock();
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** fsyncs done in the background so far (durability 'async'; 0 otherwise). */
  get backgroundSyncs(): number {
    return this.walSync?.syncs ?? 0;
  }

  /**
   * Resolves once every commit and recording so far is on disk (durability 'async'; immediate
   * otherwise). Background writes: first waits for the queued call steps and writes in flight.
   */
  whenDurable(): Promise<void> {
    if (this.queues.size > 0 || this.writeTails.size > 0) {
      const tails = [...this.writeTails.values()];
      return this.settled()
        .then(() => Promise.all(tails))
        .then(() => this.synced());
    }
    return this.synced();
  }

  private synced(): Promise<void> {
    const wal = this.walSync;
    if (!this.fileSync) return wal?.flushed() ?? Promise.resolve();
    // the WAL kick queued by committed() runs before this resolves (callbacks run in order)
    return this.fileSync.flushed().then(() => wal?.flushed());
  }

  /**
   * Resolves once every observer call made before this one is applied (background writes: a turn
   * whose audio is still being written, and what arrived after it for the same call; at once
   * otherwise). A read that must see every turn answered so far awaits this first.
   */
  settled(): Promise<void> {
    if (this.queues.size === 0) return Promise.resolve();
    return Promise.all([...this.queues.values()].map((q) => q[q.length - 1].promise)).then(() => undefined);
  }

  /** Observer calls waiting behind a recording write (background writes; tests). */
  get queuedSteps(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Recording fsyncs done in the background so far, in batches (durability 'async'; 0 otherwise). */
  get backgroundFileSyncs(): number {
    return this.fileSync?.syncs ?? 0;
  }

  /**
   * After a write transaction: start its background fsync (durability 'async'). When recordings
   * are still being synced, the WAL waits for them, so a row never reaches the disk before its audio.
   */
  private committed(): void {
    if (!this.walSync) return;
    if (this.fileSync && !this.fileSync.idle) {
      if (this.walKickQueued) return;
      this.walKickQueued = true;
      this.fileSync.whenIdle(() => {
        this.walKickQueued = false;
        this.walSync?.kick();
      });
      return;
    }
    this.walSync.kick();
  }

  // ---------------------------------------------------------------- observer

  callStarted(call: CallSummary): void {
    this.observe(call, 'callStarted', () => {
      this.db.transaction(() => {
        const open = this.openPk(call.session_id);
        if (open !== null) this.updateFields(open, call);
        else this.insertCall(call);
      })();
    });
  }

  callUpdated(call: CallSummary): void {
    this.observe(call, 'callUpdated', () => {
      this.db.transaction(() => this.updateFields(this.resolvePk(call), call))();
    });
  }

  /**
   * Inline writes: commits the turn before it returns. Background writes: returns a promise that
   * resolves once the turn is committed (undefined when it was committed at once).
   */
  turnCompleted(call: CallSummary, turn: TurnRecord): void | Promise<void> {
    if (!this.background || this.closed) {
      this.guard('turnCompleted', () => {
        const audio = this.recordingEnabled() ? this.storeAudio(turn) : { caller: null, reply: null };
        this.commitTurn(call, turn, audio);
      });
      return;
    }
    const job: QueuedJob = { session: call.session_id, context: 'turnCompleted', apply: () => this.commitQueuedTurn(call, turn, job), audio: [] };
    try {
      if (this.recordingEnabled()) for (const a of this.audioOf(turn)) this.queueAudio(job, a.side, a.sha, a.bytes);
    } catch (e) {
      // the turn is still committed, without the audio that could not be queued
      for (const a of job.audio) {
        if (a.state !== 'writing') continue;
        a.state = 'failed';
        a.error = e;
      }
    }
    return this.enqueue(job);
  }

  callEvent(call: CallSummary, type: string, data: Record<string, unknown>): void {
    this.observe(call, 'callEvent', () => {
      this.db.transaction(() => {
        const pk = this.resolvePk(call);
        const at = this.now();
        this.st.insertEvent.run(pk, at, String(type).slice(0, 100), eventJson(data));
      })();
    });
  }

  /** Barge-in: keep what the caller heard with the newest turn of the call whose reply was cut. */
  replyInterrupted(call: CallSummary, cut: ReplyCut): void {
    this.observe(call, 'replyInterrupted', () => {
      const pk = this.openPk(call.session_id) ?? this.st.latestBySession.get(call.session_id)?.pk;
      if (pk === undefined) return;
      this.st.markReplyHeard.run(String(cut.heard_text ?? ''), pk, String(cut.reply ?? ''));
    });
  }

  callEnded(call: CallSummary): void {
    this.observe(call, 'callEnded', () => {
      this.db.transaction(() => {
        const pk = this.resolvePk(call);
        const row = this.st.callByPk.get(pk);
        if (!row) return;
        const endReason = call.end_reason ?? 'unknown';
        this.st.endCall.run({
          pk,
          ended_at: finite(call.ended_at, this.now()),
          end_reason: endReason,
          outcome: outcomeOf(endReason, row.turn_count),
        });
      })();
      this.openCalls.delete(call.session_id);
    });
  }

  /** Apply one observer call now, or (background writes) after the call's earlier steps still queued. */
  private observe(call: CallSummary, context: string, fn: () => void): void {
    if (!this.background || this.closed) this.guard(context, fn);
    else void this.enqueue({ session: call.session_id, context, apply: fn, audio: [] });
  }

  private guard(context: string, fn: () => void): void {
    if (this.closed) {
      this.onError(new Error('call store is closed'), context);
      return;
    }
    try {
      fn();
    } catch (e) {
      // the transaction rolled back: a call row cached during it may not exist
      this.openCalls.clear();
      this.onError(e, context);
    }
    this.committed();
  }

  private openPk(sessionId: string): number | null {
    const cached = this.openCalls.get(sessionId);
    if (cached !== undefined) return cached;
    const row = this.st.openBySession.get(sessionId);
    if (row) this.openCalls.set(sessionId, row.pk);
    return row?.pk ?? null;
  }

  /** The call a late update/turn/event belongs to: the open one, else the latest, else a new row. */
  private resolvePk(call: CallSummary): number {
    return this.openPk(call.session_id) ?? this.st.latestBySession.get(call.session_id)?.pk ?? this.insertCall(call);
  }

  private newCallId(sessionId: string): string {
    const base = SAFE_ID.test(sessionId) ? sessionId : 'call';
    if (base === sessionId && !RESERVED_CALL_IDS.has(base) && !this.st.idTaken.get(base)) return base;
    for (;;) {
      const id = `${base.slice(0, 80)}-${randomBytes(4).toString('hex')}`;
      if (!this.st.idTaken.get(id)) return id;
    }
  }

  private insertCall(call: CallSummary): number {
    const pk = Number(
      this.st.insertCall.run({
        id: this.newCallId(call.session_id),
        session_id: call.session_id,
        device: call.device ?? null,
        direction: call.direction ?? 'unknown',
        number: storedNumber(call.number),
        started_at: finite(call.started_at, this.now()),
        state: call.state === 'ended' ? 'active' : call.state,
        holder: call.holder ? JSON.stringify(call.holder) : null,
        authenticated: call.authenticated ? 1 : 0,
      }).lastInsertRowid,
    );
    this.openCalls.set(call.session_id, pk);
    return pk;
  }

  private updateFields(pk: number, call: CallSummary): void {
    this.st.updateCall.run({
      pk,
      device: call.device ?? null,
      direction: call.direction ?? 'unknown',
      number: storedNumber(call.number),
      state: call.state === 'ended' ? 'active' : call.state,
      holder: call.holder ? JSON.stringify(call.holder) : null,
      authenticated: call.authenticated ? 1 : 0,
    });
  }

  // ---------------------------------------------------------------- turns and audio

  private recordingEnabled(): boolean {
    return !this.paused && this.settings().record_audio;
  }

  /** The turn's non-empty WAVs with their sha256 (the caller's as the pipeline hashed it, when it did). */
  private audioOf(turn: TurnRecord): { side: Side; sha: string; bytes: Uint8Array }[] {
    const out: { side: Side; sha: string; bytes: Uint8Array }[] = [];
    const caller = turn.callerAudio;
    if (caller && caller.length > 0) {
      const given = turn.callerAudioSha256;
      out.push({ side: 'caller', sha: typeof given === 'string' && isSha256(given) ? given : sha256Hex(caller), bytes: caller });
    }
    const reply = turn.replyAudio;
    if (reply && reply.length > 0) out.push({ side: 'reply', sha: sha256Hex(reply), bytes: reply });
    return out;
  }

  /** Hash and write the turn's WAVs (outside the transaction). A failed write drops only that file. */
  private storeAudio(turn: TurnRecord): { caller: { sha: string; bytes: number } | null; reply: { sha: string; bytes: number } | null } {
    const out: { caller: { sha: string; bytes: number } | null; reply: { sha: string; bytes: number } | null } = { caller: null, reply: null };
    for (const { side, sha, bytes } of this.audioOf(turn)) {
      const written = side === 'reply' && out.caller?.sha === sha;
      const known = written ? null : this.st.recGet.get(sha);
      if (!written && (!known || known.damaged !== null)) {
        try {
          const w = this.files.write(sha, bytes, this.durability === 'full');
          this.fileSync?.add(w.path, w.dirs);
        } catch (e) {
          this.onError(e, `writing ${side} recording`);
          continue;
        }
      }
      out[side] = { sha, bytes: bytes.length };
    }
    return out;
  }

  private commitTurn(call: CallSummary, turn: TurnRecord, audio: ReturnType<CallStore['storeAudio']>): void {
    const orphans = this.insertTurn(call, turn, audio);
    for (const sha of orphans) this.removeFile(sha);
    this.scheduleIndexing();
  }

  /** The turn's row and its recordings' rows (one transaction). Returns the audio it left unused. */
  private insertTurn(call: CallSummary, turn: TurnRecord, audio: ReturnType<CallStore['storeAudio']>): string[] {
    const m = turn.metrics ?? ({} as TurnRecord['metrics']);
    const kind = producerKind(String(turn.producer ?? ''));
    const now = this.now();
    const orphans: string[] = [];
    this.db.transaction(() => {
      const pk = this.resolvePk(call);
      for (const a of [audio.caller, audio.reply]) if (a) this.st.recUpsert.run({ sha: a.sha, bytes: a.bytes, at: now });
      const row = {
        call_pk: pk,
        idx: Math.trunc(finite(turn.index)),
        kind: String(turn.kind ?? 'normal'),
        started_at: finite(turn.started_at, now),
        completed_at: finite(turn.completed_at, now),
        transcript: String(turn.transcript ?? ''),
        reply: String(turn.reply ?? ''),
        producer: String(turn.producer ?? ''),
        producer_kind: kind,
        asr_ms: finite(m.asr_ms),
        llm_ms: finite(m.llm_ms),
        tts_ms: finite(m.tts_ms),
        total_ms: finite(m.total_ms),
        llm_model: String(m.llm_model ?? ''),
        transcription_delay_ms: finite(m.transcriptionDelayMs),
        llm_ttft_ms: finite(m.llmTtftMs),
        tts_ttfb_ms: finite(m.ttsTtfbMs),
        e2e_latency_ms: finite(m.e2eLatencyMs),
        stale: turn.stale ? 1 : 0,
        no_speech_prob: typeof turn.noSpeechProb === 'number' && Number.isFinite(turn.noSpeechProb) ? turn.noSpeechProb : null,
        segments: turn.asrSegments?.length ? JSON.stringify(turn.asrSegments) : null,
        caller_sha: audio.caller?.sha ?? null,
        reply_sha: audio.reply?.sha ?? null,
      };
      const existing = this.st.turnAt.get(pk, row.idx);
      let turnPk: number;
      if (existing) {
        // the same turn reported again: the newest report wins; its old audio may now be unused
        this.st.replaceTurn.run(row);
        turnPk = existing.pk;
        for (const sha of [existing.caller_sha, existing.reply_sha]) if (sha && this.dropIfUnreferenced(sha)) orphans.push(sha);
      } else {
        turnPk = Number(this.st.insertTurn.run(row).lastInsertRowid);
        this.pendingIndex++;
      }
      this.st.callAfterTurn.run({
        pk,
        added: existing ? 0 : 1,
        total_ms: existing ? 0 : row.total_ms,
        bit: kindBit(kind),
        e2e: row.e2e_latency_ms || row.total_ms,
        at: row.completed_at,
        turn_pk: turnPk,
      });
    })();
    return orphans;
  }

  // ---------------------------------------------------------------- background recording writes
  //
  // Guarantees (recordingWrites 'background'):
  // - Order: the observer calls of one session id are applied in arrival order. A call arriving
  //   while an earlier turn of the session waits for its audio is queued behind it (callEnded too,
  //   so a call never ends before its last turn is in); with nothing queued it applies at once.
  // - A row never before its audio: a turn commits only once each of its files is in place (and,
  //   durability 'async', handed to the FileSyncer, which the WAL sync waits for; 'full' syncs the
  //   file and its folder before the write resolves).
  // - Dedupe: one write per sha at a time; turns with the same audio wait for the same write, and
  //   audio already recorded (or in place for another queued turn) is not written again.
  // - Deletion meanwhile (retention, deleting a call, the recording check, a replaced turn): every
  //   unlink of a recording goes through removeFile → fileRemoved, which makes the queued turns
  //   still needing that sha write it again, so a row never points at a deleted file. The kill
  //   switch drops the audio of every queued turn (they commit without recordings) and a write that
  //   lands afterwards is unlinked (discardIfUnwanted): no file without a row.
  // - Written files reach the disk with link(), never replacing a file (see RecordingFiles.writeAsync).
  // - A failed write drops only that recording; the turn commits without it and the error goes to
  //   onError as 'writing <side> recording'.
  // - close() commits whatever is still queued (drainQueued); whenDurable() and settled() wait.

  private enqueue(job: QueuedJob): Promise<void> | undefined {
    const q = this.queues.get(job.session);
    if (!q && this.jobReady(job)) {
      this.runJob(job);
      return undefined;
    }
    job.promise = new Promise<void>((r) => (job.resolve = r));
    if (q) q.push(job);
    else this.queues.set(job.session, [job]);
    return job.promise;
  }

  private jobReady(job: QueuedJob): boolean {
    for (const a of job.audio) if (a.state === 'writing') return false;
    return true;
  }

  private runJob(job: QueuedJob): void {
    try {
      this.guard(job.context, job.apply);
    } catch {
      // only an onError that throws gets here; nobody waits for this step to rethrow it to
    } finally {
      job.resolve?.();
    }
  }

  /** Apply the session's queued steps that can go now, in order. */
  private pump(session: string): void {
    const q = this.queues.get(session);
    if (!q) return;
    while (q.length > 0 && this.jobReady(q[0]) && !this.closed) this.runJob(q.shift()!);
    if (q.length === 0 && this.queues.get(session) === q) this.queues.delete(session);
  }

  private queueAudio(job: QueuedJob, side: Side, sha: string, bytes: Uint8Array): void {
    const a: PendingAudio = { side, sha, bytes, state: 'writing', job };
    job.audio.push(a);
    let set = this.pendingAudio.get(sha);
    if (!set) this.pendingAudio.set(sha, (set = new Set()));
    set.add(a);
    this.ensureFile(a);
  }

  private untrack(job: QueuedJob): void {
    for (const a of job.audio) {
      const set = this.pendingAudio.get(a.sha);
      if (!set?.delete(a)) continue;
      if (set.size === 0) this.pendingAudio.delete(a.sha);
    }
  }

  /** Whether the file of this sha is in place: for another queued turn, or recorded and intact. */
  private fileInPlace(sha: string): boolean {
    const set = this.pendingAudio.get(sha);
    if (set) for (const o of set) if (o.state === 'ready') return true;
    const row = this.st.recGet.get(sha);
    return !!row && row.damaged === null;
  }

  /** Make `a` wait for its file: join the write of its sha, find it in place, or start a write. */
  private ensureFile(a: PendingAudio): void {
    const op = this.writing.get(a.sha);
    if (op) {
      op.waiters.add(a);
      a.state = 'writing';
      return;
    }
    if (this.fileInPlace(a.sha)) {
      a.state = 'ready';
      return;
    }
    this.startWrite(a);
  }

  private startWrite(a: PendingAudio): void {
    const op: WriteOp = { sha: a.sha, waiters: new Set([a]), valid: true };
    a.state = 'writing';
    this.writing.set(a.sha, op);
    // a write deleted before it started (it waited for the previous write of its sha) is not done
    const write = () => (op.valid ? this.files.writeAsync(a.sha, a.bytes, this.durability === 'full', (sha) => this.existingFile(sha)) : Promise.resolve(null));
    const prev = this.writeTails.get(a.sha);
    const done = (prev ? prev.then(write) : write()).then(
      (w) => this.writeDone(op, null, w),
      (e: unknown) => this.writeDone(op, e ?? new Error('recording write failed'), null),
    );
    this.writeTails.set(a.sha, done);
    void done.then(() => {
      if (this.writeTails.get(a.sha) === done) this.writeTails.delete(a.sha);
    });
  }

  /** A file is already under this content name when a write lands: keep it, or replace a leftover. */
  private existingFile(sha: string): ExistingFile {
    // after close(): the copy drainQueued wrote (and synced) for the row it committed
    if (this.closed) return 'keep';
    return this.fileInPlace(sha) ? 'keep' : 'replace';
  }

  private writeDone(op: WriteOp, err: unknown, w: { path: string; dirs: string[]; kept: boolean } | null): void {
    if (this.writing.get(op.sha) === op) this.writing.delete(op.sha);
    if (this.closed) return;
    try {
      if (w && !w.kept) this.fileSync?.add(w.path, w.dirs);
      const sessions = new Set<string>();
      let claimed = false;
      for (const a of op.waiters) {
        // dropped by the kill switch, or moved on to a newer write
        if (a.state !== 'writing' || !this.pendingAudio.get(a.sha)?.has(a)) continue;
        claimed = true;
        sessions.add(a.job.session);
        if (!op.valid) this.ensureFile(a); // its file was deleted meanwhile: write it again
        else if (err !== null) {
          a.state = 'failed';
          a.error = err;
        } else a.state = 'ready';
      }
      if (!claimed || !op.valid || err !== null) this.discardIfUnwanted(op.sha);
      for (const s of sessions) this.pump(s);
    } catch (e) {
      this.onError(e, 'recording write');
    }
  }

  /** Unlink the file of a sha nothing needs: no queued turn, no write in flight, no intact row. */
  private discardIfUnwanted(sha: string): void {
    if (!this.background || this.closed || this.writing.has(sha) || this.pendingAudio.has(sha)) return;
    const row = this.st.recGet.get(sha);
    if (row && row.damaged === null) return;
    try {
      unlinkSync(this.files.pathOf(sha));
    } catch {
      // not there
    }
  }

  /** Delete a recording's file (its row is gone or damaged); queued turns that need it write it again. */
  private removeFile(sha: string): boolean {
    const removed = this.files.remove(sha);
    this.fileRemoved(sha);
    return removed;
  }

  private fileRemoved(sha: string): void {
    if (!this.background) return;
    const op = this.writing.get(sha);
    if (op) {
      // it may have landed already (and been unlinked now): its waiters write again when it is done
      op.valid = false;
      this.writing.delete(sha);
    }
    const set = this.pendingAudio.get(sha);
    if (!set) return;
    const lost = [...set].filter((a) => a.state === 'ready');
    for (const a of lost) a.state = 'writing'; // none of them counts as in place any more
    for (const a of lost) this.ensureFile(a);
  }

  private commitQueuedTurn(call: CallSummary, turn: TurnRecord, job: QueuedJob): void {
    const audio: ReturnType<CallStore['storeAudio']> = { caller: null, reply: null };
    for (const a of job.audio) if (a.state === 'ready') audio[a.side] = { sha: a.sha, bytes: a.bytes.length };
    let orphans: string[] = [];
    let ok = false;
    try {
      orphans = this.insertTurn(call, turn, audio);
      ok = true;
    } finally {
      this.untrack(job);
      // a failed commit leaves its files to nobody
      for (const a of job.audio) if (!ok || a.state !== 'ready') this.discardIfUnwanted(a.sha);
    }
    for (const sha of orphans) this.removeFile(sha);
    this.scheduleIndexing();
    for (const a of job.audio) if (a.state === 'failed') this.onError(a.error, `writing ${a.side} recording`);
  }

  /** close(): commit every queued step in order, writing the audio still in flight synchronously. */
  private drainQueued(): void {
    for (const [session, q] of [...this.queues]) {
      this.queues.delete(session);
      for (const job of q) {
        for (const a of job.audio) if (a.state === 'writing') this.writeNow(a);
        this.runJob(job);
      }
    }
  }

  private writeNow(a: PendingAudio): void {
    if (this.fileInPlace(a.sha)) {
      a.state = 'ready';
      return;
    }
    try {
      const w = this.files.write(a.sha, a.bytes, this.durability === 'full');
      this.fileSync?.add(w.path, w.dirs);
      a.state = 'ready';
    } catch (e) {
      a.state = 'failed';
      a.error = e;
    }
  }

  /** Kill switch: queued turns commit without recordings; writes in flight are unlinked when they land. */
  private dropQueuedAudio(): void {
    if (!this.background) return;
    for (const op of this.writing.values()) op.valid = false;
    this.writing.clear();
    const sessions = new Set<string>();
    for (const set of this.pendingAudio.values()) {
      for (const a of set) {
        a.state = 'dropped';
        sessions.add(a.job.session);
      }
    }
    this.pendingAudio.clear();
    for (const s of sessions) this.pump(s);
  }

  private scheduleIndexing(): void {
    if (this.pendingIndex >= INDEX_BATCH) {
      this.flushSearchIndex();
      return;
    }
    if (this.pendingIndex > 0 && !this.indexTimer && !this.closed) {
      this.indexTimer = setTimeout(() => {
        this.indexTimer = null;
        if (this.closed) return;
        try {
          this.flushSearchIndex();
        } catch (e) {
          this.onError(e, 'indexing');
        }
      }, INDEX_DELAY_MS);
      this.indexTimer.unref();
    }
  }

  /**
   * Add committed turns that are not yet in the full-text index (one transaction). Runs by itself
   * in batches, before every search and at open. Returns how many turns it indexed.
   */
  flushSearchIndex(): number {
    const n = this.db.transaction(() => {
      const w = this.st.ftsWatermark.get()?.w ?? 0;
      const added = this.st.ftsCatchUp.run(w).changes;
      this.st.ftsSetWatermark.run();
      return added;
    })();
    this.pendingIndex = 0;
    if (this.indexTimer) {
      clearTimeout(this.indexTimer);
      this.indexTimer = null;
    }
    return n;
  }

  /** Inside a transaction: delete the recording row when no turn uses it. Returns whether it did. */
  private dropIfUnreferenced(sha: string): boolean {
    if (this.st.recReferenced.get(sha, sha)) return false;
    return this.st.recDelete.run(sha).changes > 0;
  }

  // ---------------------------------------------------------------- queries

  listCalls(query: CallQuery = {}): CallPage {
    const parsed = parseCallQuery(query);
    let bounds: SearchBounds | undefined;
    let truncated = false;
    if (parsed.fts) {
      if (this.pendingIndex > 0) this.flushSearchIndex();
      bounds = { cap: this.searchCap };
      if (query.from !== undefined || query.to !== undefined) {
        // turns of calls started in the date range lie in this pk range: rank the newest hits there
        const r = this.st.turnRangeOfCalls.get({ from: query.from ?? -Infinity, to: query.to ?? Infinity });
        if (!r || r.lo === null || r.hi === null) return { calls: [], next_cursor: null, truncated: false };
        bounds.range = { lo: r.lo, hi: r.hi };
      }
      const counted = bounds.range
        ? this.st.ftsCountRange.get({ q: parsed.fts, ...bounds.range, cap: this.searchCap + 1 })
        : this.st.ftsCount.get({ q: parsed.fts, cap: this.searchCap + 1 });
      truncated = counted!.n > this.searchCap;
    }
    const built = buildCallQuery(query, parsed, bounds);
    let stmt = this.listStatements.get(built.sql);
    if (!stmt) {
      stmt = this.db.prepare<Record<string, string | number>, CallRow>(built.sql);
      this.listStatements.set(built.sql, stmt);
    }
    const rows = stmt.all(built.params);
    const more = rows.length > built.limit;
    const page = more ? rows.slice(0, built.limit) : rows;
    const terms = parsed.fts ? snippetTerms(parsed.fts) : [];
    const calls: CallListItem[] = page.map((r) => {
      const item: CallListItem = this.toCall(r);
      if (built.ranked && r.match_turn_pk !== undefined) {
        const t = this.st.turnText.get(r.match_turn_pk);
        item.match = { turn: r.match_turn ?? 0, snippet: t ? makeSnippet([t.transcript, t.reply], terms) : '', score: r.match_score ?? 0 };
      }
      return item;
    });
    let next: string | null = null;
    if (more) {
      const last = page[page.length - 1];
      next = built.ranked ? encodeCursor({ kind: 'offset', offset: built.offset + built.limit }) : encodeCursor({ kind: 'key', startedAt: last.started_at, pk: last.pk });
    }
    return built.ranked ? { calls, next_cursor: next, truncated } : { calls, next_cursor: next };
  }

  getCall(id: string): CallDetail | null {
    const row = this.st.callById.get(id);
    return row ? this.detail(row) : null;
  }

  /** Every call matching the filters (q ignored), newest first, one at a time (bulk export). */
  *exportCalls(query: Omit<CallQuery, 'q' | 'cursor' | 'offset' | 'limit'> = {}): Generator<CallDetail> {
    let cursor: string | undefined;
    for (;;) {
      const page = this.listCalls({ ...query, q: undefined, limit: 100, cursor });
      for (const c of page.calls) {
        const row = this.st.callById.get(c.id);
        if (row) yield this.detail(row);
      }
      if (!page.next_cursor) return;
      cursor = page.next_cursor;
    }
  }

  private detail(row: CallRow): CallDetail {
    const turns = this.st.turnsOf.all(row.pk).map((t) => this.toTurn(t));
    const events: StoredEvent[] = this.st.eventsOf.all(row.pk).map((e) => ({ at: e.at, type: e.type, data: (jsonOrNull(e.data) as Record<string, unknown>) ?? {} }));
    return { call: this.toCall(row), turns, events };
  }

  private toCall(r: CallRow): StoredCall {
    return {
      id: r.id,
      session_id: r.session_id,
      device: r.device,
      direction: r.direction as StoredCall['direction'],
      number: r.number,
      started_at: r.started_at,
      ended_at: r.ended_at,
      end_reason: r.end_reason,
      state: r.state,
      outcome: r.outcome as Outcome,
      handled_by: kindsOfMask(r.handled_mask),
      holder: jsonOrNull(r.holder) as StoredCall['holder'],
      authenticated: r.authenticated === 1,
      turn_count: r.turn_count,
      total_turn_ms: r.total_turn_ms,
      last_latency_ms: r.last_latency_ms,
      duration_s: Math.max(0, (r.ended_at ?? r.last_activity_at) - r.started_at),
      source: r.source === 'import' ? 'import' : 'live',
    };
  }

  private toTurn(t: TurnRow): StoredTurn {
    return {
      index: t.idx,
      kind: t.kind,
      started_at: t.started_at,
      completed_at: t.completed_at,
      transcript: t.transcript,
      reply: t.reply,
      producer: t.producer,
      producer_kind: producerKind(t.producer_kind),
      metrics: {
        asr_ms: t.asr_ms,
        llm_ms: t.llm_ms,
        tts_ms: t.tts_ms,
        total_ms: t.total_ms,
        llm_model: t.llm_model,
        transcriptionDelayMs: t.transcription_delay_ms,
        llmTtftMs: t.llm_ttft_ms,
        ttsTtfbMs: t.tts_ttfb_ms,
        e2eLatencyMs: t.e2e_latency_ms,
      },
      stale: t.stale === 1,
      no_speech_prob: t.no_speech_prob,
      segments: jsonOrNull(t.segments) as StoredTurn['segments'],
      recordings: {
        caller: t.caller_sha ? recording(t.caller_sha, t.caller_bytes, t.caller_damaged) : null,
        reply: t.reply_sha ? recording(t.reply_sha, t.reply_bytes, t.reply_damaged) : null,
      },
      reply_heard: t.reply_heard ?? null,
    };
  }

  /** Where a turn's recording is; a reason when there is none. */
  recordingFile(
    callId: string,
    turnIndex: number,
    side: 'caller' | 'reply',
  ):
    | { ok: true; path: string; bytes: number; sha256: string }
    | { ok: false; reason: 'call' | 'turn' | 'recording' }
    | { ok: false; reason: 'damaged'; damage: RecordingDamage; bytes: number } {
    const call = this.st.callById.get(callId);
    if (!call) return { ok: false, reason: 'call' };
    const t = this.st.turnAt.get(call.pk, turnIndex);
    if (!t) return { ok: false, reason: 'turn' };
    const sha = side === 'caller' ? t.caller_sha : t.reply_sha;
    const rec = sha && isSha256(sha) ? this.st.recGet.get(sha) : undefined;
    if (!sha || !rec) return { ok: false, reason: 'recording' };
    if (rec.damaged !== null) return { ok: false, reason: 'damaged', damage: damageOf(rec.damaged), bytes: rec.bytes };
    return { ok: true, path: this.files.pathOf(sha), bytes: rec.bytes, sha256: sha };
  }

  /** Delete a finished call, its turns, events and the audio no other turn shares. */
  deleteCall(id: string): 'deleted' | 'not_found' | 'active' {
    const call = this.st.callById.get(id);
    if (!call) return 'not_found';
    if (call.ended_at === null) return 'active';
    const orphans: string[] = [];
    this.db.transaction(() => {
      const shas = this.st.shasOfCall.all(call.pk, call.pk).map((r) => r.sha);
      this.st.deleteCall.run(call.pk);
      for (const sha of shas) if (this.dropIfUnreferenced(sha)) orphans.push(sha);
    })();
    this.committed();
    for (const sha of orphans) this.removeFile(sha);
    return 'deleted';
  }

  // ---------------------------------------------------------------- upstream-shaped views

  listSessions(): UpstreamSessionListItem[] {
    return this.st.sessionsList.all();
  }

  /** Upstream's session file shape (§8.9) for the latest call with this session id (or this call id). */
  getSession(sessionId: string): UpstreamSession | null {
    const pk = this.st.latestBySession.get(sessionId)?.pk ?? this.st.callById.get(sessionId)?.pk;
    if (pk === undefined) return null;
    const call = this.st.callByPk.get(pk)!;
    return {
      session_id: call.session_id,
      created_at: call.started_at,
      turns: this.st.sessionTurns.all(pk).map((t) => ({
        transcript: t.transcript,
        reply: t.reply,
        metrics: { asr_ms: t.asr_ms, llm_ms: t.llm_ms, tts_ms: t.tts_ms, total_ms: t.total_ms, llm_model: t.llm_model },
        forced_reply: t.kind === 'forced',
        timestamp: t.completed_at,
      })),
    };
  }

  // ---------------------------------------------------------------- caller memory

  load(key: string): { history: ChatMessage[]; summary: string } | null {
    if (!isNumberKey(key)) return null;
    const row = this.st.memGet.get(key);
    if (!row) return null;
    const history = jsonOrNull(row.history);
    return { history: Array.isArray(history) ? history.filter(isChatMessage) : [], summary: row.summary };
  }

  save(key: string, history: ChatMessage[], summary: string): void {
    if (numberKey(key) !== key) throw new Error(`invalid caller number key ${JSON.stringify(String(key)).slice(0, 40)}`);
    const clean = history.filter(isChatMessage).map((m) => ({ role: m.role, content: m.content }));
    this.st.memSave.run({ number: key, history: JSON.stringify(clean), summary: String(summary ?? ''), at: this.now(), count: clean.length });
    this.committed();
  }

  delete(key: string): boolean {
    if (!isNumberKey(key)) return false;
    const deleted = this.st.memDelete.run(key).changes > 0;
    this.committed();
    return deleted;
  }

  list(): CallerListItem[] {
    return this.st.memList.all();
  }

  // ---------------------------------------------------------------- recordings: retention and kill switch

  recordingStatus(): RecordingStatus {
    const t = this.st.recTotals.get()!;
    const record_audio = this.settings().record_audio;
    return { record_audio, paused: this.paused, recording: record_audio && !this.paused, files: t.files, bytes: t.bytes ?? 0 };
  }

  /** Apply max age and max disk now (also runs at open and on the timer). */
  applyRetention(): RetentionResult {
    const s = this.settings();
    const victims = new Map<string, number>();
    if (s.recording_max_age_days > 0) {
      for (const r of this.st.recOlderThan.all(this.now() - s.recording_max_age_days * 86_400)) victims.set(r.sha256, r.bytes);
    }
    if (s.recording_max_disk_mb > 0) {
      const limit = s.recording_max_disk_mb * 1024 * 1024;
      let total = this.st.recTotals.get()!.bytes ?? 0;
      for (const [, bytes] of victims) total -= bytes;
      if (total > limit) {
        for (const r of this.st.recByAge.iterate()) {
          if (total <= limit) break;
          if (victims.has(r.sha256)) continue;
          victims.set(r.sha256, r.bytes);
          total -= r.bytes;
        }
      }
    }
    if (victims.size === 0) return { deleted_files: 0, freed_bytes: 0 };
    this.db.transaction(() => {
      for (const sha of victims.keys()) {
        this.st.recUnrefCaller.run(sha);
        this.st.recUnrefReply.run(sha);
        this.st.recDelete.run(sha);
      }
    })();
    this.committed();
    let deleted = 0;
    let freed = 0;
    for (const [sha, bytes] of victims) {
      if (this.removeFile(sha)) {
        deleted++;
        freed += bytes;
      }
    }
    return { deleted_files: deleted, freed_bytes: freed };
  }

  private runRetention(context: string): void {
    if (this.closed) return;
    try {
      this.applyRetention();
    } catch (e) {
      this.onError(e, context);
    }
  }

  /**
   * Kill switch: stop recording (persisted until resumeRecording()) and delete every recording
   * file and reference. Transcripts are kept.
   */
  purgeRecordings(): RetentionResult {
    const totals = this.st.recTotals.get()!;
    this.db.transaction(() => {
      this.st.metaSet.run('recording_paused', '1');
      this.db.prepare('UPDATE turns SET caller_sha = NULL, reply_sha = NULL WHERE caller_sha IS NOT NULL OR reply_sha IS NOT NULL').run();
      this.db.prepare('DELETE FROM recordings').run();
    })();
    this.paused = true;
    this.committed();
    const deleted = this.files.removeAll();
    this.dropQueuedAudio();
    return { deleted_files: deleted, freed_bytes: totals.bytes ?? 0 };
  }

  /** Undo the kill switch's pause (recording then follows config record_audio again). */
  resumeRecording(): void {
    this.st.metaDelete.run('recording_paused');
    this.paused = false;
    this.committed();
  }

  /**
   * Find recordings whose file is missing or has another size than recorded (a power cut before
   * the OS wrote it out, or a change behind the store's back) and mark them damaged, deleting a
   * damaged file. Runs in the background at open (`recordingsChecked`); stats run on the thread pool.
   */
  async checkRecordings(): Promise<RecordingCheck> {
    const rows = this.st.recIntact.all();
    const suspects: string[] = [];
    for (let i = 0; i < rows.length && !this.closed; i += 64) {
      await Promise.all(
        rows.slice(i, i + 64).map(async (r) => {
          try {
            if ((await stat(this.files.pathOf(r.sha256))).size !== r.bytes) suspects.push(r.sha256);
          } catch {
            suspects.push(r.sha256);
          }
        }),
      );
    }
    const result: RecordingCheck = { checked: rows.length, missing: 0, truncated: 0 };
    if (this.closed || suspects.length === 0) return result;
    // look again in one tick: the same audio may have been recorded again (file rewritten) meanwhile
    const marks: { sha: string; damage: RecordingDamage }[] = [];
    for (const sha of suspects) {
      const row = this.st.recGet.get(sha);
      if (!row || row.damaged !== null) continue;
      let size: number | null = null;
      try {
        size = statSync(this.files.pathOf(sha)).size;
      } catch {
        // missing
      }
      if (size !== row.bytes) marks.push({ sha, damage: size === null ? 'missing' : 'truncated' });
    }
    if (marks.length === 0) return result;
    this.db.transaction(() => {
      for (const m of marks) this.st.recMarkDamaged.run(m.damage, m.sha);
    })();
    this.committed();
    for (const m of marks) {
      result[m.damage]++;
      if (m.damage === 'truncated') this.removeFile(m.sha);
      else this.fileRemoved(m.sha); // queued turns that took the file as in place write it again
    }
    return result;
  }

  /** Delete recording files no row references (crash leftovers). Returns how many. */
  sweepOrphanRecordings(): Promise<number> {
    return this.files.sweepOrphans((sha) => this.closed || this.pendingAudio.has(sha) || this.writeTails.has(sha) || !!this.st.recGet.get(sha));
  }

  // ---------------------------------------------------------------- import (used by import-upstream)

  /** Insert one upstream session file's call; 'exists' when it was imported before. */
  importSession(s: ImportedSession): 'imported' | 'exists' {
    const importKey = `upstream-session:${s.session_id}`;
    const result = this.db.transaction((): 'imported' | 'exists' => {
      if (this.st.byImportKey.get(importKey)) return 'exists';
      const times = s.turns.map((t) => t.timestamp).filter((t) => t > 0);
      const started = s.created_at ?? (times.length ? Math.min(...times) : this.now());
      const ended = times.length ? Math.max(started, ...times) : started;
      let mask = 0;
      let total = 0;
      const rows = s.turns.map((t, i) => {
        const producer = t.forced ? 'forced' : t.llm_model === 'agent' ? 'agent:agent' : t.llm_model ? `local:${t.llm_model.replace(/^local\//, '')}` : 'system';
        const kind = producerKind(producer);
        mask |= kindBit(kind);
        total += t.total_ms;
        return { idx: i, kind: t.forced ? 'forced' : t.transcript === '' && !t.llm_model ? 'no_speech' : 'normal', producer, producer_kind: kind, t };
      });
      const pk = Number(
        this.st.insertImported.run({
          id: this.newCallId(s.session_id),
          session_id: s.session_id,
          started_at: started,
          ended_at: ended,
          handled_mask: mask,
          turn_count: rows.length,
          total_turn_ms: total,
          import_key: importKey,
        }).lastInsertRowid,
      );
      for (const r of rows) {
        this.st.insertTurn.run({
          call_pk: pk,
          idx: r.idx,
          kind: r.kind,
          started_at: r.t.timestamp || started,
          completed_at: r.t.timestamp || started,
          transcript: r.t.transcript,
          reply: r.t.reply,
          producer: r.producer,
          producer_kind: r.producer_kind,
          asr_ms: r.t.asr_ms,
          llm_ms: r.t.llm_ms,
          tts_ms: r.t.tts_ms,
          total_ms: r.t.total_ms,
          llm_model: r.t.llm_model,
          transcription_delay_ms: 0,
          llm_ttft_ms: 0,
          tts_ttfb_ms: 0,
          e2e_latency_ms: 0,
          stale: 0,
          no_speech_prob: null,
          segments: null,
          caller_sha: null,
          reply_sha: null,
        });
      }
      this.st.setTurnRange.run({ pk });
      this.pendingIndex += rows.length;
      return 'imported';
    })();
    this.scheduleIndexing();
    this.committed();
    return result;
  }

  /** Insert one upstream caller file; an existing entry is replaced only by a newer one. */
  importCaller(c: ImportedCaller): 'imported' | 'updated' | 'exists' {
    if (numberKey(c.number) !== c.number) throw new Error('invalid caller number');
    const result = this.db.transaction((): 'imported' | 'updated' | 'exists' => {
      const prev = this.st.memGet.get(c.number);
      if (prev && prev.last_call_at >= c.last_call_at) return 'exists';
      const history = c.history.filter(isChatMessage).map((m) => ({ role: m.role, content: m.content }));
      this.st.memPut.run({
        number: c.number,
        history: JSON.stringify(history),
        summary: c.summary,
        at: c.last_call_at,
        total_calls: Math.max(c.total_calls, prev?.total_calls ?? 0),
        count: history.length,
      });
      return prev ? 'updated' : 'imported';
    })();
    this.committed();
    return result;
  }
}
