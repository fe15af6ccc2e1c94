/**
 * Import an upstream gateway's data folder: `sessions/*.json` (spec §8.9) and
 * `caller_history/*.json` (§8.10). Idempotent: a session is keyed by its id, a caller by its
 * number (replaced only by a newer file). Each file is validated on its own; a bad one is reported
 * and skipped without affecting the others. Upstream used caller numbers as file names without
 * checking them, so names and numbers are treated as hostile: only numbers that pass `numberKey`
 * are imported, and only regular files directly inside the folders are read (no symlinks).
 */
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { numberKey } from '../../src-shared/text/phone-number';
import type { CallStore, ImportedCaller, ImportedSession } from './call-store';

export const MAX_IMPORT_FILE_BYTES = 32 * 1024 * 1024;

export interface ImportFailure {
  file: string;
  error: string;
}

export interface ImportReport {
  dir: string;
  sessions: { imported: number; skipped: number; failed: ImportFailure[] };
  callers: { imported: number; updated: number; skipped: number; failed: ImportFailure[] };
}

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

const num = z.number().refine(Number.isFinite, 'must be a finite number');
const ms = z.union([num, z.null()]).optional().transform((v) => v ?? 0);
const text = z.union([z.string(), z.null()]).optional().transform((v) => v ?? '');
const sessionIdSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'contains control characters');

const sessionFile = z.object({
  session_id: sessionIdSchema.optional(),
  created_at: z.union([num, z.null()]).optional(),
  turns: z.array(
    z.object({
      transcript: text,
      reply: text,
      metrics: z
        .object({ asr_ms: ms, llm_ms: ms, tts_ms: ms, total_ms: ms, llm_model: text })
        .optional()
        .transform((m) => m ?? { asr_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0, llm_model: '' }),
      forced_reply: z.boolean().optional().transform((v) => v ?? false),
      timestamp: z.union([num, z.null()]).optional().transform((v) => v ?? 0),
    }),
  ),
});

const callerFile = z.object({
  number: z.string().max(64).optional(),
  history: z.array(z.object({ role: z.enum(['user', 'assistant', 'system']), content: z.string() })).optional().transform((h) => h ?? []),
  summary: text,
  last_call_at: z.union([num, z.null()]).optional(),
  total_calls: z.number().int().min(0).optional().transform((n) => n ?? 1),
});

function describe(e: unknown): string {
  if (e instanceof z.ZodError) {
    return e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).slice(0, 5).join('; ');
  }
  if (e instanceof SyntaxError) return `not valid JSON: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Read one candidate file: a regular file (not a symlink) of sane size, parsed as JSON. */
async function readJson(dir: string, name: string): Promise<{ json: unknown; mtime: number }> {
  const path = join(dir, name);
  const st = await lstat(path);
  if (!st.isFile()) throw new Error('not a regular file');
  if (st.size > MAX_IMPORT_FILE_BYTES) throw new Error(`too large (${st.size} bytes)`);
  return { json: JSON.parse(await readFile(path, 'utf8')), mtime: st.mtimeMs / 1000 };
}

async function jsonFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.json')).sort();
}

export async function importUpstream(store: CallStore, dir: string, opts: { countryCode?: string } = {}): Promise<ImportReport> {
  if (!(await isDir(dir))) throw new ImportError(`not a folder: ${dir}`);
  const sessionsDir = join(dir, 'sessions');
  const callersDir = join(dir, 'caller_history');
  const hasSessions = await isDir(sessionsDir);
  const hasCallers = await isDir(callersDir);
  if (!hasSessions && !hasCallers) throw new ImportError(`no sessions/ or caller_history/ folder in ${dir}: pick the upstream gateway's data folder`);

  const report: ImportReport = {
    dir,
    sessions: { imported: 0, skipped: 0, failed: [] },
    callers: { imported: 0, updated: 0, skipped: 0, failed: [] },
  };

  if (hasSessions) {
    for (const name of await jsonFiles(sessionsDir)) {
      try {
        const { json } = await readJson(sessionsDir, name);
        const parsed = sessionFile.parse(json);
        const sid = parsed.session_id ?? sessionIdSchema.parse(name.slice(0, -'.json'.length));
        const session: ImportedSession = {
          session_id: sid,
          created_at: parsed.created_at ?? null,
          turns: parsed.turns.map((t) => ({
            transcript: t.transcript,
            reply: t.reply,
            forced: t.forced_reply,
            timestamp: t.timestamp,
            asr_ms: t.metrics.asr_ms,
            llm_ms: t.metrics.llm_ms,
            tts_ms: t.metrics.tts_ms,
            total_ms: t.metrics.total_ms,
            llm_model: t.metrics.llm_model,
          })),
        };
        if (store.importSession(session) === 'imported') report.sessions.imported++;
        else report.sessions.skipped++;
      } catch (e) {
        report.sessions.failed.push({ file: `sessions/${name}`, error: describe(e) });
      }
    }
  }

  if (hasCallers) {
    for (const name of await jsonFiles(callersDir)) {
      try {
        const { json, mtime } = await readJson(callersDir, name);
        const parsed = callerFile.parse(json);
        const raw = parsed.number ?? name.slice(0, -'.json'.length);
        const key = numberKey(raw, opts.countryCode);
        if (!key) throw new Error(`invalid number ${JSON.stringify(raw).slice(0, 70)}: use digits, an optional leading +, * and #`);
        const caller: ImportedCaller = {
          number: key,
          history: parsed.history,
          summary: parsed.summary,
          last_call_at: parsed.last_call_at ?? mtime,
          total_calls: parsed.total_calls,
        };
        const r = store.importCaller(caller);
        if (r === 'imported') report.callers.imported++;
        else if (r === 'updated') report.callers.updated++;
        else report.callers.skipped++;
      } catch (e) {
        report.callers.failed.push({ file: `caller_history/${name}`, error: describe(e) });
      }
    }
  }
  return report;
}
