/**
 * The config file layer: loads an upstream-compatible config.json, applies GATEWAY_* environment
 * overrides on top (never written back — spec §16 #11/#33), validates with the schema (errors name the
 * key), and saves atomically (temp file + rename). Keys the file did not have are not written back
 * unless changed, so an upstream file stays recognisable.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, DEFAULT_SYSTEM_PROMPT, defaultConfig, envOverrides, migrateLegacy, parseConfig, validatePatch, type AppConfig } from '../../src-shared/config/schema';

export type ConfigListener = (cfg: AppConfig, changed: (keyof AppConfig)[]) => void;

export function writeFileAtomic(file: string, text: string, mode?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, mode === undefined ? undefined : { mode });
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export class ConfigStore {
  private fileLayer: Record<string, unknown>;
  private effective: AppConfig;
  private readonly listeners = new Set<ConfigListener>();
  readonly envErrors: { key: string; message: string }[];
  /** upstream values read leniently at the last load (null → default, out of range → clamped) */
  adjusted: { key: string; message: string }[] = [];

  private constructor(readonly file: string, fileLayer: Record<string, unknown>, private readonly env: Record<string, string | undefined>, private readonly overrides: Record<string, unknown> = {}) {
    this.fileLayer = fileLayer;
    const e = envOverrides(env);
    this.envErrors = e.errors;
    this.effective = this.compute(fileLayer);
  }

  /**
   * Open (or, on first run, create) the config file. `overrides` are command-line values (host/port)
   * that win over the file but, like env overrides, are never saved.
   */
  static open(file: string, opts: { env?: Record<string, string | undefined>; overrides?: Record<string, unknown> } = {}): { store: ConfigStore; created: boolean } {
    const env = opts.env ?? process.env;
    let created = false;
    let raw: Record<string, unknown>;
    if (!existsSync(file)) {
      // like upstream's example config: a per-install phone bearer and the concise-assistant base prompt
      const fresh = { ...defaultConfig(), bearer_token: randomBytes(24).toString('base64url'), llm_system_prompt: DEFAULT_SYSTEM_PROMPT } as Record<string, unknown>;
      writeFileAtomic(file, JSON.stringify(fresh, null, 2) + '\n', 0o600);
      raw = fresh;
      created = true;
    } else {
      raw = ConfigStore.readFile(file);
    }
    return { store: new ConfigStore(file, migrateLegacy(raw), env, opts.overrides), created };
  }

  static readFile(file: string): Record<string, unknown> {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`, []);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`, []);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file} must contain a JSON object`, []);
    return parsed as Record<string, unknown>;
  }

  private compute(fileLayer: Record<string, unknown>): AppConfig {
    try {
      const notes: { key: string; message: string }[] = [];
      const cfg = parseConfig({ ...fileLayer, ...envOverrides(this.env).values, ...this.overrides }, notes);
      this.adjusted = notes;
      return cfg;
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`${e.message} (in ${this.file} or GATEWAY_* environment variables)`, e.issues);
      throw e;
    }
  }

  get(): AppConfig {
    return this.effective;
  }

  /** Validate and apply a partial update, then save. Throws ConfigError naming the bad keys. */
  update(patch: Record<string, unknown>): AppConfig {
    const v = validatePatch(patch);
    if (!v.ok) throw new ConfigError(`invalid configuration: ${v.issues.map((i) => `${i.key}: ${i.message}`).join('; ')}`, v.issues);
    const nextFile = { ...this.fileLayer, ...v.value };
    const next = this.compute(nextFile);
    this.fileLayer = nextFile;
    this.save();
    return this.swap(next);
  }

  /** Re-read the file (upstream `POST /api/config`). A broken file leaves the running config as it was. */
  reload(): AppConfig {
    const raw = migrateLegacy(ConfigStore.readFile(this.file));
    const next = this.compute(raw);
    this.fileLayer = raw;
    return this.swap(next);
  }

  /**
   * Keys whose effective value comes from a GATEWAY_* variable or the command line rather than the
   * file: saving them changes the file, but the override still wins until it is removed.
   */
  overridden(): Partial<Record<keyof AppConfig, 'environment' | 'command line'>> {
    const out: Record<string, 'environment' | 'command line'> = {};
    for (const k of Object.keys(envOverrides(this.env).values)) out[k] = 'environment';
    for (const k of Object.keys(this.overrides)) out[k] = 'command line';
    return out as Partial<Record<keyof AppConfig, 'environment' | 'command line'>>;
  }

  onChange(fn: ConfigListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private swap(next: AppConfig): AppConfig {
    const prev = this.effective;
    this.effective = next;
    const changed = (Object.keys(next) as (keyof AppConfig)[]).filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(next[k]));
    if (changed.length) for (const l of [...this.listeners]) l(next, changed);
    return next;
  }

  private save(): void {
    writeFileAtomic(this.file, JSON.stringify(this.fileLayer, null, 2) + '\n', 0o600);
  }
}
