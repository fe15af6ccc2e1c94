/**
 * Call history API, served from the CallStore: searchable list, call detail with recording URLs,
 * audio, delete, exports, upstream's `/api/sessions*` and `/api/caller-history*` shapes, import of
 * an upstream data folder and the recordings kill switch. Access control is the gateway's global
 * hook; every query, param and body is validated here (400 `{detail}` naming the field).
 *
 * With the gateway context, also the settings section of the history (same shape as
 * /api/config/engines): GET|POST /api/config/history — record_audio, recording_max_age_days,
 * recording_max_disk_mb, applied live; lowered limits apply to the recordings at once. A bad patch
 * changes nothing and answers 400 with `errors: [{key, message}]`; a change publishes
 * `config.history_updated`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { callerKeys, COUNTRY_CODE, normalizeNumber } from '../../../src-shared/text/phone-number';
import type { EndReason } from '../../calls/types';
import type { CallStore } from '../../store/call-store';
import { callAsText } from '../../store/export';
import { ImportError, importUpstream } from '../../store/import-upstream';
import { StoreQueryError } from '../../store/query';
import { DIRECTIONS, OUTCOMES, PRODUCER_KINDS, type CallDetail, type CallQuery, type StoredTurn } from '../../store/types';
import type { GatewayContext } from '../context';
import { applyPatch, objectBody, pick } from './config';
import { describeIssues } from './validate';

export const HISTORY_SETTING_KEYS = ['record_audio', 'recording_max_age_days', 'recording_max_disk_mb', 'caller_country_code'] as const;

type Issue = { key: string; message: string };

/** Friendlier messages than the schema's for the usual mistakes (wrong type, out of range). */
function historyIssues(patch: Record<string, unknown>): Issue[] {
  const out: Issue[] = [];
  if ('record_audio' in patch && typeof patch.record_audio !== 'boolean') out.push({ key: 'record_audio', message: 'true or false' });
  const num = (key: string, max: number, what: string) => {
    if (!(key in patch)) return;
    const v = patch[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) out.push({ key, message: `${what} from 0 to ${max} (0 = no limit)` });
  };
  num('recording_max_age_days', 36_500, 'a number of days');
  num('recording_max_disk_mb', 10_000_000, 'a number of MB');
  if ('caller_country_code' in patch) {
    const v = patch.caller_country_code;
    if (typeof v !== 'string' || !COUNTRY_CODE.test(v)) out.push({ key: 'caller_country_code', message: 'the country calling code without + or 00, e.g. 49 for Germany or 1 for the US (or empty)' });
  }
  return out;
}

class BadInput extends Error {
  readonly statusCode = 400;
}

const END_REASONS = [
  'hangup', 'phone_ended', 'stale', 'ended_by_api', 'max_duration', 'new_call', 'auth_failed', 'rejected', 'mock_stopped',
  'interrupted', 'shutdown', 'imported', 'unknown',
] as const satisfies readonly (EndReason | 'imported' | 'unknown')[];

/** epoch seconds, or an ISO 8601 date/time */
const time = z.string().transform((v, ctx) => {
  const s = v.trim();
  const n = /^\d{1,12}(\.\d+)?$/.test(s) ? Number(s) : Date.parse(s) / 1000;
  if (!s || !Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'expected epoch seconds or an ISO 8601 date' });
    return z.NEVER;
  }
  return n;
});
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

const filterShape = {
  from: time.optional(),
  to: time.optional(),
  direction: z.enum(DIRECTIONS).optional(),
  outcome: z.enum([...OUTCOMES, ...END_REASONS]).optional(),
  handled_by: z
    .string()
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.enum(PRODUCER_KINDS)).min(1, 'name at least one of ' + PRODUCER_KINDS.join(', ')))
    .optional(),
  // spaces, dashes and brackets are ignored as in stored numbers
  number: z.string().transform(normalizeNumber).pipe(z.string().regex(/^[0-9+*#]{1,32}$/, 'use digits, +, * and # only')).optional(),
};
const listQuery = z.object({
  ...filterShape,
  q: z.string().max(500).optional(),
  limit: int(1, 200).optional(),
  cursor: z.string().max(200).optional(),
  offset: int(0, 1_000_000).optional(),
});
const exportAllQuery = z.object({ ...filterShape, q: z.undefined({ error: 'the bulk export does not search: filter with from, to, direction, outcome, handled_by, number' }).optional() });
const callId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'not a call id');
const idParams = z.object({ id: callId });
const audioParams = z.object({ id: callId, turn: int(0, 1_000_000), side: z.enum(['caller', 'reply']) });
const exportQuery = z.object({ format: z.enum(['json', 'txt']).optional() });
const sessionParams = z.object({
  id: z
    .string()
    .min(1)
    .max(256)
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'contains control characters'),
});
const numberParams = z.object({ number: z.string().min(1).max(64) });
const importBody = z.object({ dir: z.string().min(1).max(4096).refine(isAbsolute, 'must be an absolute path to the upstream gateway data folder') });

function parse<T extends z.ZodTypeAny>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new BadInput(describeIssues(r.error));
  return r.data;
}

function filters(q: z.infer<typeof exportAllQuery>): CallQuery {
  return { from: q.from, to: q.to, direction: q.direction, outcome: q.outcome, handledBy: q.handled_by, number: q.number };
}

function toQuery(q: z.infer<typeof listQuery>): CallQuery {
  return { ...filters({ ...q, q: undefined }), q: q.q, limit: q.limit, cursor: q.cursor, offset: q.offset };
}

function audioUrl(id: string, turn: number, side: 'caller' | 'reply'): string {
  return `/api/calls/${encodeURIComponent(id)}/audio/${turn}/${side}`;
}

function withUrls(d: CallDetail) {
  return {
    ...d,
    turns: d.turns.map((t: StoredTurn) => ({
      ...t,
      recordings: {
        caller: t.recordings.caller ? { ...t.recordings.caller, url: audioUrl(d.call.id, t.index, 'caller') } : null,
        reply: t.recordings.reply ? { ...t.recordings.reply, url: audioUrl(d.call.id, t.index, 'reply') } : null,
      },
    })),
  };
}

function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  const e = err as FastifyError;
  if (e instanceof StoreQueryError) {
    void reply.code(400).send({ detail: e.message });
    return;
  }
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500;
  if (status >= 500) req.log.error({ err }, 'history request failed');
  void reply.code(status).send({ detail: status >= 500 ? `history store error: ${e.message}` : e.message });
}

/** `{"calls":[…]}` produced call by call, so a large history never sits in memory as one string. */
function exportStream(calls: Iterable<CallDetail>): Readable {
  return Readable.from(
    (function* () {
      yield `{"exported_at":${Date.now() / 1000},"calls":[`;
      let first = true;
      for (const d of calls) {
        yield (first ? '\n' : ',\n') + JSON.stringify(withUrls(d));
        first = false;
      }
      yield '\n]}\n';
    })(),
  );
}

/** GET /api/config/history: the settings, where an override wins, and what is recorded now. */
export function historyConfigView(ctx: GatewayContext, store: CallStore) {
  const cfg = ctx.config.get();
  const all = ctx.config.overridden() as Record<string, 'environment' | 'command line'>;
  return {
    record_audio: cfg.record_audio,
    recording_max_age_days: cfg.recording_max_age_days,
    recording_max_disk_mb: cfg.recording_max_disk_mb,
    caller_country_code: cfg.caller_country_code,
    overridden: Object.fromEntries(HISTORY_SETTING_KEYS.filter((k) => all[k]).map((k) => [k, all[k]])),
    recordings: store.recordingStatus(),
  };
}

function registerHistoryConfigRoutes(app: FastifyInstance, store: CallStore, ctx: GatewayContext): void {
  // the view counts the stored recordings: first the turns already answered (see registerHistoryRoutes)
  const settled = { preHandler: async () => store.settled() };
  app.get('/api/config/history', settled, async () => historyConfigView(ctx, store));
  app.post('/api/config/history', settled, async (req, reply) => {
    const body = objectBody(reply, req.body);
    if (!body) return reply;
    const { patch, unknown } = pick(body, {}, HISTORY_SETTING_KEYS);
    const issues = [...unknown.map((key) => ({ key, message: 'not a setting of this section' })), ...historyIssues(patch)];
    if (issues.length) {
      return reply.code(400).send({ ok: false, detail: `invalid settings: ${issues.map((i) => `${i.key}: ${i.message}`).join('; ')}`, errors: issues });
    }
    if (!applyPatch(ctx, reply, patch)) return reply;
    // new limits apply to the recordings at once, not at the next hourly run
    const retention = 'recording_max_age_days' in patch || 'recording_max_disk_mb' in patch ? store.applyRetention() : { deleted_files: 0, freed_bytes: 0 };
    const v = historyConfigView(ctx, store);
    ctx.bus.publish('config.history_updated', '', { ...v });
    return { ok: true, ...v, retention };
  });
}

export function registerHistoryRoutes(app: FastifyInstance, store: CallStore, ctx?: GatewayContext): void {
  if (ctx) registerHistoryConfigRoutes(app, store, ctx);
  let importing = false;
  // every route reading or deleting calls first waits for the turns and call steps already reported
  // (a turn whose recordings are still being written commits a moment after turn.complete)
  const opts = { errorHandler, preHandler: async () => store.settled() };

  app.get('/api/calls', opts, async (req) => store.listCalls(toQuery(parse(listQuery, req.query))));

  app.get('/api/calls/export', opts, async (req, reply) => {
    const q = filters(parse(exportAllQuery, req.query));
    return reply
      .type('application/json; charset=utf-8')
      .header('content-disposition', 'attachment; filename="clawfinger-calls.json"')
      .send(exportStream(store.exportCalls(q)));
  });

  app.get('/api/calls/:id', opts, async (req, reply) => {
    const { id } = parse(idParams, req.params);
    const d = store.getCall(id);
    if (!d) return reply.code(404).send({ detail: `call not found: ${id}` });
    return withUrls(d);
  });

  app.get('/api/calls/:id/audio/:turn/:side', opts, async (req, reply) => {
    const { id, turn, side } = parse(audioParams, req.params);
    const r = store.recordingFile(id, turn, side);
    if (!r.ok) {
      const detail =
        r.reason === 'damaged'
          ? `the ${side} recording of turn ${turn} is damaged: ${
              r.damage === 'missing'
                ? 'its file was missing from the recordings folder'
                : `its file was cut short or changed (not the ${r.bytes} bytes recorded), e.g. by a power loss before it reached the disk`
            } when the history was opened; the transcript is intact`
          : r.reason === 'call'
          ? `call not found: ${id}`
          : r.reason === 'turn'
            ? `turn ${turn} not found in call ${id}`
            : `no ${side} recording for turn ${turn} of call ${id} (recording was off, or it was deleted by retention or the kill switch)`;
      return reply.code(404).send({ detail });
    }
    let size: number;
    try {
      size = (await stat(r.path)).size;
    } catch {
      return reply.code(404).send({ detail: `the ${side} recording file of turn ${turn} is missing from the recordings folder` });
    }
    if (size !== r.bytes) {
      // e.g. cut short by a power loss before the OS wrote it out
      return reply.code(404).send({ detail: `the ${side} recording file of turn ${turn} is damaged (${size} bytes instead of ${r.bytes})` });
    }
    return reply
      .type('audio/wav')
      .header('content-length', r.bytes)
      .header('cache-control', 'private, max-age=31536000, immutable')
      .header('etag', `"${r.sha256}"`)
      .send(createReadStream(r.path));
  });

  app.delete('/api/calls/:id', opts, async (req, reply) => {
    const { id } = parse(idParams, req.params);
    const r = store.deleteCall(id);
    if (r === 'not_found') return reply.code(404).send({ detail: `call not found: ${id}` });
    if (r === 'active') return reply.code(409).send({ detail: `call ${id} is still in progress; end it first` });
    return { ok: true, id };
  });

  app.get('/api/calls/:id/export', opts, async (req, reply) => {
    const { id } = parse(idParams, req.params);
    const { format = 'json' } = parse(exportQuery, req.query);
    const d = store.getCall(id);
    if (!d) return reply.code(404).send({ detail: `call not found: ${id}` });
    reply.header('content-disposition', `attachment; filename="call-${id}.${format}"`);
    if (format === 'txt') return reply.type('text/plain; charset=utf-8').send(callAsText(d));
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(withUrls(d), null, 2));
  });

  // upstream shapes (spec §3.2, §8.9)
  app.get('/api/sessions', opts, async () => store.listSessions());

  app.get('/api/sessions/:id', opts, async (req, reply) => {
    const { id } = parse(sessionParams, req.params);
    const s = store.getSession(id);
    if (!s) return reply.code(404).send({ detail: 'Session not found' });
    return s;
  });

  // upstream shapes (spec §3.9)
  app.get('/api/caller-history', opts, async () => store.list());

  app.delete('/api/caller-history/:number', opts, async (req) => {
    const { number } = parse(numberParams, req.params);
    // also under the number as written, where an earlier version keyed it
    const { key, legacy } = callerKeys(number, ctx?.config.get().caller_country_code);
    if (!key) throw new BadInput('number: not a phone number (use digits, an optional leading +, * and #; spaces, dashes and brackets are ignored)');
    const deleted = [store.delete(key), legacy !== null && store.delete(legacy)].some(Boolean);
    return { ok: deleted, number };
  });

  app.post('/api/history/import', opts, async (req, reply) => {
    const { dir } = parse(importBody, req.body);
    if (importing) return reply.code(409).send({ detail: 'an import is already running' });
    importing = true;
    try {
      return await importUpstream(store, dir, { countryCode: ctx?.config.get().caller_country_code });
    } catch (e) {
      if (e instanceof ImportError) throw new BadInput(`dir: ${e.message}`);
      throw e;
    } finally {
      importing = false;
    }
  });

  app.get('/api/recordings', opts, async () => store.recordingStatus());

  // kill switch: stop recording and delete every recording
  app.post('/api/recordings/purge', opts, async () => ({ ok: true, ...store.purgeRecordings(), ...store.recordingStatus() }));

  app.post('/api/recordings/resume', opts, async () => {
    store.resumeRecording();
    return { ok: true, ...store.recordingStatus() };
  });
}
