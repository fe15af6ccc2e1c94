/**
 * The phone app's logcat, followed per device (`logcat -v threadtime -T <now> -s <app tags>`): the only
 * thing the app tells the outside world (phone spec §4.7). Lines feed call confirmation, call-end
 * detection, the console's log view and the diagnostics bundle.
 */
import type { AdbClient, ShellHandle } from './adb-client';
import { APP_TAGS } from './constants';
import { sh } from './shell';
import { LOG_LEVELS, type LogLevel, type LogLine } from '../../src-shared/protocol/devices';

export { LOG_LEVELS, type LogLevel, type LogLine };

const THREADTIME = /^(\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\s+(\d+)\s+(\d+)\s+([VDIWEF])\s+(.*?)\s*: (.*)$/;

export function parseThreadtime(raw: string, receivedAt = Date.now(), seq = 0): LogLine | null {
  const m = raw.replace(/\r$/, '').match(THREADTIME);
  if (!m) return null;
  return { time: m[1], pid: Number(m[2]), tid: Number(m[3]), level: m[4] as LogLevel, tag: m[5], message: m[6], receivedAt, seq };
}

export interface LogFilter {
  /** only these tags (default: all app tags) */
  tags?: string[];
  /** at least this level */
  minLevel?: LogLevel;
  /** case-insensitive substring of the message */
  text?: string;
}

export function matchesFilter(line: LogLine, f: LogFilter): boolean {
  if (f.tags?.length && !f.tags.includes(line.tag)) return false;
  if (f.minLevel && LOG_LEVELS.indexOf(line.level) < LOG_LEVELS.indexOf(f.minLevel)) return false;
  if (f.text && !line.message.toLowerCase().includes(f.text.toLowerCase())) return false;
  return true;
}

/** The logcat command: app tags only, starting at the device's current time (no replay of old calls). */
export function logcatCommand(sinceEpochSeconds: number | null) {
  const specs = APP_TAGS.map((t) => (t === 'AndroidRuntime' ? `${t}:E` : `${t}:V`));
  const since = sinceEpochSeconds && sinceEpochSeconds > 0 ? ['-T', `${Math.floor(sinceEpochSeconds)}.000`] : ['-T', '1'];
  return sh('logcat', '-v', 'threadtime', ...since, '-s', ...specs);
}

type LineListener = (line: LogLine) => void;

/**
 * One device's logcat stream with a ring buffer. Restarts the stream (with back-off) if it ends while
 * the device is still there; `stop()` ends it for good.
 */
export class LogcatMonitor {
  private handle: ShellHandle | null = null;
  private readonly listeners = new Set<LineListener>();
  private readonly ring: LogLine[] = [];
  private seq = 0;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private backoffMs = 250;
  private startedOnce: Promise<boolean> | null = null;
  private partial = '';

  constructor(
    private readonly client: AdbClient,
    readonly serial: string,
    private readonly ringSize = 500,
    private readonly onStreamError?: (err: Error) => void,
  ) {}

  get running(): boolean {
    return this.handle !== null;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Start following; resolves true once the stream is open (false if it could not be opened). */
  start(): Promise<boolean> {
    if (!this.startedOnce) this.startedOnce = this.open();
    return this.startedOnce;
  }

  private async open(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      let since: number | null = null;
      try {
        const r = await this.client.shell(this.serial, sh('date', '+%s'), 5000);
        const n = Number.parseInt(r.stdout.trim(), 10);
        if (Number.isFinite(n)) since = n;
      } catch {
        // fall back to "-T 1"
      }
      if (this.stopped) return false;
      const handle = await this.client.openShell(this.serial, logcatCommand(since), { stdout: (b) => this.onData(b) }, 10_000);
      if (this.stopped) {
        handle.close();
        return false;
      }
      this.handle = handle;
      this.backoffMs = 250;
      void handle.done.then(() => {
        if (this.handle === handle) this.handle = null;
        this.scheduleRestart();
      });
      return true;
    } catch (e) {
      this.onStreamError?.(e as Error);
      this.scheduleRestart();
      return false;
    }
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.open();
    }, delay);
  }

  private onData(chunk: Buffer): void {
    const text = this.partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const now = Date.now();
    for (const raw of lines) {
      const line = parseThreadtime(raw, now, this.seq + 1);
      if (!line) continue;
      this.seq++;
      this.ring.push(line);
      if (this.ring.length > this.ringSize) this.ring.shift();
      for (const l of [...this.listeners]) {
        try {
          l(line);
        } catch {
          // one bad listener must not stop the stream
        }
      }
    }
  }

  /** Recent lines, oldest first. */
  recent(filter: LogFilter = {}, limit = this.ringSize): LogLine[] {
    const out = this.ring.filter((l) => matchesFilter(l, filter));
    return out.slice(Math.max(0, out.length - limit));
  }

  subscribe(fn: LineListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.handle?.close();
    this.handle = null;
    this.listeners.clear();
  }
}
