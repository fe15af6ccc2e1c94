/**
 * Structured logs: pino to the console and to a size-rotated file in the data dir. Bearer tokens,
 * API keys, passphrases and phone numbers are redacted wherever they appear as fields, and
 * `token=` query parameters are stripped from logged URLs.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { maskNumber } from '../../src-shared/text/phone-number';

export type { Logger };

/** Synchronous size-rotating file stream: app.log, app.log.1 … app.log.<keep>. */
export class RotatingFile extends Writable {
  private fd: number;
  private size: number;
  constructor(private readonly file: string, private readonly maxBytes = 5 * 1024 * 1024, private readonly keep = 5) {
    super();
    this.fd = openSync(file, 'a');
    this.size = existsSync(file) ? statSync(file).size : 0;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      if (this.size + chunk.length > this.maxBytes && this.size > 0) this.rotate();
      writeSync(this.fd, chunk);
      this.size += chunk.length;
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
  private rotate(): void {
    closeSync(this.fd);
    const last = `${this.file}.${this.keep}`;
    if (existsSync(last)) unlinkSync(last);
    for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    renameSync(this.file, `${this.file}.1`);
    this.fd = openSync(this.file, 'a');
    this.size = 0;
  }
  override _final(cb: (err?: Error | null) => void): void {
    try {
      closeSync(this.fd);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

const SECRET_PATHS = [
  'req.headers.authorization', 'headers.authorization', 'authorization',
  'bearer_token', '*.bearer_token', 'llm_api_key', '*.llm_api_key', 'api_key', '*.api_key',
  'auth_passphrase', '*.auth_passphrase', 'token', '*.token', 'operator_token', '*.operator_token', 'bearer', '*.bearer',
];
const NUMBER_PATHS = ['number', '*.number', 'caller_number', '*.caller_number'];

/**
 * Phone numbers inside free text (error messages, engine responses, stack traces): international
 * "+49 170 1234567" or national "0170-1234567", 7+ digits, not part of a longer word, id or decimal.
 * JSON numbers never start with "+" or "0<digit>", so timestamps and sizes are left alone.
 */
const NUMBER_IN_TEXT = /(?<![\w.+])(?:\+\d|0\d)(?:[ \-()]?\d){5,}(?!\w)/g;

export function scrubNumbers(line: string): string {
  return line.replace(NUMBER_IN_TEXT, (m) => maskNumber(m));
}

/** A log destination that masks phone numbers in every line before writing it. */
function scrubbing(target: { write(s: string): unknown }): { write(s: string): void } {
  return { write: (s: string) => void target.write(scrubNumbers(s)) };
}

export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token)=)[^&]*/gi, '$1[redacted]');
}

export interface LoggerOptions {
  level?: string;
  /** folder for app.log; omit for console only */
  logDir?: string;
  /** false to silence the console (tests) */
  console?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): { logger: Logger; close: () => void } {
  const streams: pino.StreamEntry[] = [];
  if (opts.console !== false) streams.push({ stream: scrubbing(process.stdout) });
  let file: RotatingFile | undefined;
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true });
    file = new RotatingFile(join(opts.logDir, 'app.log'));
    streams.push({ stream: scrubbing(file) });
  }
  const logger = pino(
    {
      level: opts.level ?? 'info',
      redact: {
        paths: [...SECRET_PATHS, ...NUMBER_PATHS],
        censor: (value: unknown, path: string[]) => {
          const key = path[path.length - 1];
          if ((key === 'number' || key === 'caller_number') && typeof value === 'string') return maskNumber(value);
          return '[redacted]';
        },
      },
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url ?? ''), ip: req.ip }),
      },
    },
    streams.length ? pino.multistream(streams) : undefined,
  );
  return { logger, close: () => file?.end() };
}
