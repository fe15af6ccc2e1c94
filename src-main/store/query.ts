/**
 * Turns a validated CallQuery into SQL. The user's words never reach FTS5 syntax: every term is
 * quoted, so operators, column filters and stray quotes in `q` are plain text.
 */
import type { CallQuery, ProducerKind } from './types';
import { PRODUCER_KINDS } from './types';

export class StoreQueryError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'StoreQueryError';
  }
}

export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;

export function producerKind(producer: string): ProducerKind {
  const head = producer.split(':', 1)[0];
  return (PRODUCER_KINDS as readonly string[]).includes(head) ? (head as ProducerKind) : 'other';
}

export function kindBit(kind: ProducerKind): number {
  return 1 << PRODUCER_KINDS.indexOf(kind);
}

export function kindsOfMask(mask: number): ProducerKind[] {
  return PRODUCER_KINDS.filter((k) => (mask & kindBit(k)) !== 0);
}

const WORDY = /[\p{L}\p{N}]/u;

/**
 * User text → FTS5 MATCH expression: "quoted phrases" stay phrases, a trailing * makes a prefix
 * search, every term must match (implicit AND). Null when nothing searchable is left.
 */
export function ftsExpression(q: string): string | null {
  const terms: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(q); m; m = re.exec(q)) {
    const phrase = m[1];
    let word = m[2];
    if (phrase !== undefined) {
      if (WORDY.test(phrase)) terms.push(`"${phrase.replace(/"/g, '""')}"`);
      continue;
    }
    const prefix = word.endsWith('*');
    word = word.replace(/\*+$/, '').replace(/"/g, ' ');
    if (!WORDY.test(word)) continue;
    // a one-letter prefix merges the posting lists of a large part of the vocabulary
    const last = word.split(/[^\p{L}\p{N}]+/u).filter(Boolean).pop() ?? '';
    if (prefix && [...last].length < 2) throw new StoreQueryError('q', `a prefix search needs at least 2 letters before the * ("${word.trim()}*")`);
    terms.push(`"${word}"${prefix ? '*' : ''}`);
  }
  return terms.length ? terms.join(' ') : null;
}

export type Cursor = { kind: 'key'; startedAt: number; pk: number } | { kind: 'offset'; offset: number };

export function encodeCursor(c: Cursor): string {
  const raw = c.kind === 'key' ? `k:${c.startedAt}:${c.pk}` : `o:${c.offset}`;
  return Buffer.from(raw, 'utf8').toString('base64url');
}

export function decodeCursor(s: string): Cursor {
  const raw = /^[A-Za-z0-9_-]{1,200}$/.test(s) ? Buffer.from(s, 'base64url').toString('utf8') : '';
  let m = /^k:(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?):(\d{1,15})$/.exec(raw);
  if (m) return { kind: 'key', startedAt: Number(m[1]), pk: Number(m[2]) };
  m = /^o:(\d{1,9})$/.exec(raw);
  if (m) return { kind: 'offset', offset: Number(m[1]) };
  throw new StoreQueryError('cursor', 'not a cursor returned by this API');
}

export interface BuiltQuery {
  sql: string;
  params: Record<string, string | number>;
  limit: number;
  offset: number;
  ranked: boolean;
}

export interface SearchBounds {
  /** rank only the newest `cap` matching turns */
  cap: number;
  /** turn pk range of the calls in the date range (full-text hits outside cannot match) */
  range?: { lo: number; hi: number };
}

/** The full-text hits to rank: the newest `cap` matching turns (within the pk range when there is one). */
export function hitsSql(ranged: boolean): string {
  return `SELECT rowid AS turn_pk, bm25(turns_fts) AS score FROM turns_fts WHERE turns_fts MATCH :q${ranged ? ' AND rowid BETWEEN :lo AND :hi' : ''} ORDER BY rowid DESC LIMIT :cap`;
}

export interface ParsedQuery {
  limit: number;
  offset: number;
  cursor: Cursor | null;
  /** FTS5 expression when the query searches text */
  fts: string | null;
}

export function parseCallQuery(query: CallQuery): ParsedQuery {
  const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? DEFAULT_PAGE)), MAX_PAGE);
  const cursor: Cursor | null = query.cursor ? decodeCursor(query.cursor) : null;
  if (cursor && query.offset !== undefined) throw new StoreQueryError('cursor', 'give either cursor or offset, not both');
  if (query.number !== undefined && !/^[0-9+*#]{1,32}$/.test(query.number)) throw new StoreQueryError('number', 'use digits, +, * and # only');
  const q = query.q?.trim();
  let fts: string | null = null;
  let offset = query.offset ?? 0;
  if (q) {
    fts = ftsExpression(q);
    if (!fts) throw new StoreQueryError('q', 'no searchable words (letters or digits) in the query');
    if (cursor) {
      if (cursor.kind !== 'offset') throw new StoreQueryError('cursor', 'this cursor belongs to a listing without q');
      offset = cursor.offset;
    }
  } else if (cursor) {
    if (cursor.kind !== 'key') throw new StoreQueryError('cursor', 'this cursor belongs to a search (q)');
    offset = 0;
  }
  return { limit, offset, cursor, fts };
}

export function buildCallQuery(query: CallQuery, parsed: ParsedQuery, bounds?: SearchBounds): BuiltQuery {
  const { limit, offset, cursor, fts } = parsed;
  const where: string[] = [];
  const params: Record<string, string | number> = { limit: limit + 1, offset };

  if (query.from !== undefined) {
    where.push('c.started_at >= :from');
    params.from = query.from;
  }
  if (query.to !== undefined) {
    where.push('c.started_at <= :to');
    params.to = query.to;
  }
  if (query.direction) {
    where.push('c.direction = :direction');
    params.direction = query.direction;
  }
  if (query.outcome) {
    where.push('(c.outcome = :outcome OR c.end_reason = :outcome)');
    params.outcome = query.outcome;
  }
  if (query.handledBy?.length) {
    where.push('(c.handled_mask & :handled) != 0');
    params.handled = query.handledBy.reduce((m, k) => m | kindBit(k), 0);
  }
  if (query.number) {
    where.push('c.number LIKE :number'); // the pattern holds no LIKE wildcards: checked in parseCallQuery
    params.number = `%${query.number}%`;
  }
  const whereSql = where.length ? 'WHERE ' + where.join(' AND ') : '';

  if (fts) {
    if (!bounds) throw new Error('a text search needs bounds');
    Object.assign(params, { q: fts, cap: bounds.cap }, bounds.range ?? {});
    // best-matching turn per call (SQLite returns the bare columns of the min() row)
    const sql = `
      WITH hits AS MATERIALIZED (${hitsSql(!!bounds.range)}),
      m AS (
        SELECT t.call_pk AS call_pk, min(h.score) AS score, t.idx AS turn_idx, h.turn_pk AS turn_pk
        FROM hits h JOIN turns t ON t.pk = h.turn_pk
        GROUP BY t.call_pk
      )
      SELECT c.*, m.score AS match_score, m.turn_idx AS match_turn, m.turn_pk AS match_turn_pk
      FROM m JOIN calls c ON c.pk = m.call_pk
      ${whereSql}
      ORDER BY m.score ASC, c.pk DESC
      LIMIT :limit OFFSET :offset`;
    return { sql, params, limit, offset, ranked: true };
  }

  if (cursor?.kind === 'key') {
    where.push('(c.started_at < :cs OR (c.started_at = :cs AND c.pk < :cp))');
    params.cs = cursor.startedAt;
    params.cp = cursor.pk;
  }
  const sql = `
    SELECT c.* FROM calls c
    ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
    ORDER BY c.started_at DESC, c.pk DESC
    LIMIT :limit OFFSET :offset`;
  return { sql, params, limit, offset, ranked: false };
}
