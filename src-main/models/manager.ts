/**
 * The model manager: what is in the models folder, downloads (progress as `model.download` bus events,
 * resume, cancel, checksum, disk-space check), files the user already has (import), and resolving the
 * model an engine should load — or a message saying exactly what is missing and how to get it.
 */
import { open, mkdir, readFile, rm, stat, statfs, writeFile, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EventBus } from '../events/bus';
import { inspectWhisperModel } from '../engines/embedded/whisper-format';
import { CATALOGUE, entryBytes, findEntry, recommend, type CatalogueEntry, type MachineInfo, type ModelKind } from './catalogue';
import { DownloadError, downloadFile, sha256File, type DownloadProgress } from './download';
import type { DownloadState, DownloadStatus, ImportedModel, ModelEntry, ModelsResponse } from '../../src-shared/protocol/models';

export type { DownloadState, DownloadStatus, ImportedModel, ModelsResponse } from '../../src-shared/protocol/models';

interface Registry {
  /** file name → the size/mtime at which its SHA-256 matched the catalogue */
  verified: Record<string, { size: number; mtimeMs: number }>;
  imports: ImportedModel[];
}

export interface ResolvedModel { path: string; id?: string; name: string; kind: ModelKind }

/** An engine cannot start because its model is not there; the message says what to do. */
export class ModelMissingError extends Error {
  constructor(readonly kind: ModelKind, message: string, readonly suggestedId?: string) {
    super(message);
    this.name = 'ModelMissingError';
  }
}

export class ModelRequestError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'ModelRequestError';
  }
}

export interface ResolveHint {
  /** language the model should speak or understand (`en`, `de`); used when no preference is set */
  lang?: string;
}

export interface ModelResolver {
  resolve(kind: ModelKind, preference: string, hint?: ResolveHint): Promise<ResolvedModel>;
}

export interface ModelManagerOptions {
  /** the models folder (read on every call so a config change applies) */
  dir: () => string;
  bus?: EventBus;
  catalogue?: CatalogueEntry[];
  /** free bytes on the volume holding `dir` (injectable for tests) */
  freeSpace?: (dir: string) => Promise<number>;
  fetchImpl?: typeof fetch;
  machine?: () => MachineInfo;
  retryDelayMs?: number;
}

const KIND_LABEL: Record<ModelKind, string> = { whisper: 'speech recognition (whisper)', llm: 'language model (GGUF)', piper: 'Piper voice' };
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;
/** space kept free on top of a download */
const DISK_MARGIN = 8 * 1024 * 1024;

async function defaultFreeSpace(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

async function statOrNull(file: string) {
  try { return await stat(file); } catch { return null; }
}

export class ModelManager implements ModelResolver {
  readonly catalogue: CatalogueEntry[];
  private readonly downloads = new Map<string, { state: DownloadState; abort: AbortController; done: Promise<void> }>();
  private registryCache: Registry | null = null;
  private registryDir = '';
  private writeChain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ModelManagerOptions) {
    this.catalogue = opts.catalogue ?? CATALOGUE;
  }

  get dir(): string {
    return path.resolve(this.opts.dir());
  }

  private machine(): MachineInfo {
    return this.opts.machine?.() ?? { cores: os.cpus().length, memoryMb: Math.round(os.totalmem() / 1048576) };
  }

  // ---------- registry ----------

  private async registry(): Promise<Registry> {
    if (this.registryCache && this.registryDir === this.dir) return this.registryCache;
    let reg: Registry = { verified: {}, imports: [] };
    try {
      const raw = JSON.parse(await readFile(path.join(this.dir, 'models.json'), 'utf8')) as Partial<Registry>;
      reg = { verified: raw.verified ?? {}, imports: Array.isArray(raw.imports) ? raw.imports : [] };
    } catch {
      // missing or unreadable: start empty (nothing is lost — files are re-verified)
    }
    this.registryCache = reg;
    this.registryDir = this.dir;
    return reg;
  }

  private async saveRegistry(): Promise<void> {
    const reg = await this.registry();
    const dir = this.dir;
    this.writeChain = this.writeChain.then(async () => {
      await mkdir(dir, { recursive: true });
      const tmp = path.join(dir, `models.json.${process.pid}.tmp`);
      await writeFile(tmp, JSON.stringify(reg, null, 2) + '\n');
      await rename(tmp, path.join(dir, 'models.json'));
    }).catch(() => undefined);
    await this.writeChain;
  }

  // ---------- state ----------

  private publish(state: DownloadState): void {
    this.opts.bus?.publish('model.download', '', { ...state });
  }

  private async fileState(entry: CatalogueEntry) {
    const reg = await this.registry();
    const files = await Promise.all(entry.files.map(async (f) => {
      const full = path.join(this.dir, f.name);
      const st = await statOrNull(full);
      const part = await statOrNull(`${full}.part`);
      const v = reg.verified[f.name];
      const verified = !!st && !!v && v.size === st.size && v.mtimeMs === st.mtimeMs;
      return { spec: f, path: full, present: !!st, size: st?.size ?? 0, partBytes: part?.size ?? 0, verified };
    }));
    return files;
  }

  /** GET /api/models */
  async list(): Promise<ModelsResponse> {
    const dir = this.dir;
    const machine = this.machine();
    const rec = recommend(machine, this.catalogue);
    const reg = await this.registry();
    let used = 0;
    const models = await Promise.all(this.catalogue.map(async (e): Promise<ModelEntry> => {
      const files = await this.fileState(e);
      const installed = files.every((f) => f.present && (f.spec.bytes === undefined || f.size === f.spec.bytes));
      used += files.reduce((n, f) => n + f.size + f.partBytes, 0);
      const pinned = e.files.every((f) => f.sha256);
      return {
        id: e.id, kind: e.kind, title: e.title, description: e.description, license: e.license, languages: e.languages,
        bytes: entryBytes(e), memory_mb: e.memoryMb,
        files: e.files.map((f) => ({ name: f.name, url: f.url, bytes: f.bytes ?? null, sha256: f.sha256 ?? null })),
        installed,
        verified: !pinned ? 'none' : installed && files.every((f) => f.verified) ? 'sha256' : installed ? 'pending' : 'no',
        partial_bytes: files.reduce((n, f) => n + f.partBytes, 0),
        recommended: rec[e.kind] === e.id,
        download: this.downloads.get(e.id)?.state ?? null,
      };
    }));
    let free: number | null = null;
    let total: number | null = null;
    try {
      await mkdir(dir, { recursive: true });
      free = await (this.opts.freeSpace ?? defaultFreeSpace)(dir);
      const s = await statfs(dir);
      total = Number(s.blocks) * Number(s.bsize);
    } catch {
      // unknown: reported as null
    }
    return {
      dir,
      machine: { cores: machine.cores, memory_mb: machine.memoryMb },
      recommendations: rec,
      disk: { free_bytes: free, total_bytes: total, used_by_models_bytes: used },
      models,
      imported: reg.imports,
    };
  }

  downloadState(id: string): DownloadState | null {
    return this.downloads.get(id)?.state ?? null;
  }

  // ---------- download ----------

  /** Start (or resume) a download; resolves once it has started. `waitDone()` waits for the end. */
  async download(id: string): Promise<DownloadState> {
    const entry = findEntry(id, this.catalogue);
    if (!entry) throw new ModelRequestError(`unknown model '${id}'`, 404);
    const running = this.downloads.get(id);
    if (running && ['queued', 'downloading', 'verifying'].includes(running.state.status)) return running.state;
    const dir = this.dir;
    await mkdir(dir, { recursive: true });
    const files = await this.fileState(entry);
    const todo = files.filter((f) => !(f.present && (f.spec.bytes === undefined || f.size === f.spec.bytes)));
    const need = todo.reduce((n, f) => n + Math.max(0, (f.spec.bytes ?? f.spec.approxBytes ?? 0) - f.partBytes), 0);
    const total = entryBytes(entry);
    const state: DownloadState = { id, status: 'queued', bytes: total - need, total, rate_bps: 0, eta_sec: null };
    if (need > 0) {
      const free = await (this.opts.freeSpace ?? defaultFreeSpace)(dir);
      if (free < need + DISK_MARGIN) {
        const mb = (n: number) => `${Math.ceil(n / 1048576)} MB`;
        state.status = 'error';
        state.error = `not enough disk space in ${dir}: ${entry.title} needs ${mb(need)} more, ${mb(free)} free`;
        this.downloads.set(id, { state, abort: new AbortController(), done: Promise.resolve() });
        this.publish(state);
        throw new ModelRequestError(state.error, 507);
      }
    }
    const abort = new AbortController();
    const done = this.runDownload(entry, todo.map((f) => f.spec), state, abort.signal);
    this.downloads.set(id, { state, abort, done });
    this.publish(state);
    return state;
  }

  private async runDownload(entry: CatalogueEntry, files: CatalogueEntry['files'], state: DownloadState, signal: AbortSignal): Promise<void> {
    const reg = await this.registry();
    let before = state.bytes;
    try {
      for (const f of files) {
        if (!SAFE_NAME.test(f.name)) throw new DownloadError(`bad file name in catalogue: ${f.name}`, 'http');
        state.status = 'downloading';
        state.file = f.name;
        const target = path.join(this.dir, f.name);
        const base = before;
        await downloadFile({
          url: f.url, target, bytes: f.bytes, sha256: f.sha256, signal, fetchImpl: this.opts.fetchImpl, retryDelayMs: this.opts.retryDelayMs,
          onProgress: (p: DownloadProgress) => {
            state.bytes = base + p.bytes;
            state.rate_bps = p.rateBps;
            state.eta_sec = p.etaSec === null ? null : Math.round(((state.total ?? 0) - state.bytes) / Math.max(1, p.rateBps));
            if (p.total !== null && p.bytes >= p.total && f.sha256) state.status = 'verifying';
            this.publish(state);
          },
        });
        const st = await stat(target);
        if (f.sha256) reg.verified[f.name] = { size: st.size, mtimeMs: st.mtimeMs };
        before = base + st.size;
        await this.saveRegistry();
      }
      state.status = 'done';
      state.bytes = state.total ?? state.bytes;
      state.eta_sec = 0;
      delete state.file;
    } catch (e) {
      const err = e as Error;
      state.status = e instanceof DownloadError && e.code === 'cancelled' ? 'cancelled' : 'error';
      if (state.status === 'error') state.error = err.message;
    }
    this.publish(state);
  }

  /** Wait for a running download to end (tests, CLI). */
  async waitDone(id: string): Promise<DownloadState | null> {
    const d = this.downloads.get(id);
    if (!d) return null;
    await d.done;
    return d.state;
  }

  async cancel(id: string): Promise<DownloadState> {
    if (!findEntry(id, this.catalogue)) throw new ModelRequestError(`unknown model '${id}'`, 404);
    const d = this.downloads.get(id);
    if (!d || !['queued', 'downloading', 'verifying'].includes(d.state.status)) throw new ModelRequestError(`no download of '${id}' is running`, 409);
    d.abort.abort();
    await d.done;
    return d.state;
  }

  // ---------- delete / import ----------

  async remove(id: string): Promise<void> {
    const entry = findEntry(id, this.catalogue);
    const reg = await this.registry();
    if (entry) {
      const d = this.downloads.get(id);
      if (d && ['queued', 'downloading', 'verifying'].includes(d.state.status)) { d.abort.abort(); await d.done; }
      for (const f of entry.files) {
        await rm(path.join(this.dir, f.name), { force: true });
        await rm(path.join(this.dir, `${f.name}.part`), { force: true });
        delete reg.verified[f.name];
      }
      this.downloads.delete(id);
      await this.saveRegistry();
      return;
    }
    const i = reg.imports.findIndex((m) => m.id === id);
    if (i < 0) throw new ModelRequestError(`unknown model '${id}'`, 404);
    reg.imports.splice(i, 1); // the user's own file stays where it is
    await this.saveRegistry();
  }

  /** Register a model file the user already has (it is used in place, not copied). */
  async importFile(file: string): Promise<ImportedModel> {
    if (!path.isAbsolute(file)) throw new ModelRequestError('path must be absolute', 400);
    const full = path.resolve(file);
    const st = await statOrNull(full);
    if (!st) throw new ModelRequestError(`model file ${full}: not found`, 404);
    if (!st.isFile()) throw new ModelRequestError(`model file ${full}: not a regular file`, 400);
    const kind = await detectKind(full);
    const reg = await this.registry();
    const existing = reg.imports.find((m) => m.path === full);
    if (existing) return existing;
    const base = path.basename(full);
    const slug = base.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').slice(0, 60);
    let id = `local-${slug}`;
    for (let n = 2; reg.imports.some((m) => m.id === id) || findEntry(id, this.catalogue); n++) id = `local-${slug}-${n}`;
    const m: ImportedModel = { id, kind, path: full, name: base, bytes: st.size };
    reg.imports.push(m);
    await this.saveRegistry();
    return m;
  }

  // ---------- resolve ----------

  /**
   * The file an engine should load. `preference`: '' (best installed), a catalogue or import id, a file
   * name inside the models folder, or an absolute path. Throws ModelMissingError with instructions.
   */
  async resolve(kind: ModelKind, preference: string, hint: ResolveHint = {}): Promise<ResolvedModel> {
    const pref = preference.trim();
    const reg = await this.registry();
    if (pref) {
      if (path.isAbsolute(pref)) {
        if (!(await statOrNull(pref))?.isFile()) throw new ModelMissingError(kind, `${KIND_LABEL[kind]} model file ${pref} was not found`);
        return { path: pref, name: path.basename(pref), kind };
      }
      const entry = findEntry(pref, this.catalogue);
      if (entry) {
        if (entry.kind !== kind) throw new ModelMissingError(kind, `'${pref}' is a ${KIND_LABEL[entry.kind]} model, not a ${KIND_LABEL[kind]} model`);
        return this.useEntry(entry);
      }
      const imp = reg.imports.find((m) => m.id === pref);
      if (imp) {
        if (imp.kind !== kind) throw new ModelMissingError(kind, `'${pref}' is a ${KIND_LABEL[imp.kind]} model, not a ${KIND_LABEL[kind]} model`);
        if (!(await statOrNull(imp.path))) throw new ModelMissingError(kind, `imported model file ${imp.path} is gone; import it again or pick another model`);
        return { path: imp.path, id: imp.id, name: imp.name, kind };
      }
      if (!SAFE_NAME.test(pref)) throw new ModelMissingError(kind, `'${pref}' is neither a model id nor a file name`);
      const byName = this.catalogue.find((e) => e.kind === kind && e.files[0].name === pref);
      if (byName) return this.useEntry(byName);
      const full = path.join(this.dir, pref);
      if (!(await statOrNull(full))?.isFile()) throw new ModelMissingError(kind, `${KIND_LABEL[kind]} model file ${full} was not found`);
      return { path: full, name: pref, kind };
    }
    const lang = hint.lang?.trim().toLowerCase().slice(0, 2);
    const rec = recommend({ ...this.machine(), lang }, this.catalogue)[kind];
    const speaks = (e: CatalogueEntry) => !lang || e.languages.some((l) => l === '*' || l.startsWith(lang));
    const rank = (e: CatalogueEntry) => (e.id === rec ? 2 : 0) + (speaks(e) ? 4 : 0);
    const candidates = this.catalogue.filter((e) => e.kind === kind && (kind !== 'piper' || speaks(e))).sort((a, b) => rank(b) - rank(a));
    for (const e of candidates) {
      const files = await this.fileState(e);
      if (files.every((f) => f.present && (f.spec.bytes === undefined || f.size === f.spec.bytes))) return this.useEntry(e);
    }
    const imp = reg.imports.find((m) => m.kind === kind);
    if (imp && (await statOrNull(imp.path))) return { path: imp.path, id: imp.id, name: imp.name, kind };
    const suggest = rec ? findEntry(rec, this.catalogue) : candidates[0];
    const how = suggest
      ? `download "${suggest.id}" (${Math.round(entryBytes(suggest) / 1e6)} MB) in the console's Models panel (POST /api/models/${suggest.id}/download), or import a file you have (POST /api/models/import)`
      : 'import a model file you have (POST /api/models/import)';
    const forLang = kind === 'piper' && lang ? ` for language '${lang}'` : '';
    throw new ModelMissingError(kind, `no ${KIND_LABEL[kind]} model${forLang} is installed in ${this.dir}: ${how}`, suggest?.id);
  }

  /** Verify a catalogue entry's checksum before its first use (cached by size and mtime). */
  private async useEntry(entry: CatalogueEntry): Promise<ResolvedModel> {
    const reg = await this.registry();
    for (const f of entry.files) {
      const full = path.join(this.dir, f.name);
      const st = await statOrNull(full);
      if (!st) {
        const part = await statOrNull(`${full}.part`);
        throw new ModelMissingError(entry.kind, `${entry.title} is not downloaded${part ? ' completely' : ''} (${full} missing): download "${entry.id}" in the Models panel (POST /api/models/${entry.id}/download)`, entry.id);
      }
      if (f.bytes !== undefined && st.size !== f.bytes) throw new ModelMissingError(entry.kind, `${full} is ${st.size} bytes, expected ${f.bytes}: delete it and download "${entry.id}" again`, entry.id);
      const v = reg.verified[f.name];
      if (f.sha256 && !(v && v.size === st.size && v.mtimeMs === st.mtimeMs)) {
        const got = await sha256File(full);
        if (got !== f.sha256) throw new ModelMissingError(entry.kind, `${full} does not match its published checksum (corrupt or a different file): delete it and download "${entry.id}" again`, entry.id);
        reg.verified[f.name] = { size: st.size, mtimeMs: st.mtimeMs };
        await this.saveRegistry();
      }
    }
    return { path: path.join(this.dir, entry.files[0].name), id: entry.id, name: entry.files[0].name, kind: entry.kind };
  }

  async close(): Promise<void> {
    for (const d of this.downloads.values()) d.abort.abort();
    await Promise.all([...this.downloads.values()].map((d) => d.done));
    await this.writeChain;
  }
}

/** What kind of model a file is, by its content. */
export async function detectKind(file: string): Promise<ModelKind> {
  const fh = await open(file, 'r');
  const head = Buffer.alloc(8);
  try { await fh.read(head, 0, 8, 0); } finally { await fh.close(); }
  if (head.subarray(0, 4).toString('latin1') === 'GGUF') {
    const version = head.readUInt32LE(4);
    if (version < 2 || version > 3) throw new ModelRequestError(`model file ${file}: GGUF version ${version} is not supported`, 400);
    return 'llm';
  }
  if (head.readUInt32LE(0) === 0x67676d6c) {
    try {
      await inspectWhisperModel(file);
    } catch (e) {
      throw new ModelRequestError((e as Error).message, 400);
    }
    return 'whisper';
  }
  if (file.toLowerCase().endsWith('.onnx')) {
    if (!(await statOrNull(`${file}.json`))) throw new ModelRequestError(`model file ${file}: a Piper voice needs its ${path.basename(file)}.json beside it`, 400);
    return 'piper';
  }
  throw new ModelRequestError(`model file ${file}: not a model format we know (expected a whisper ggml .bin, a GGUF language model, or a Piper .onnx voice)`, 400);
}

export function modelsDirFor(configured: string, dataDir: string): string {
  return configured.trim() ? path.resolve(configured) : path.join(dataDir, 'models');
}
