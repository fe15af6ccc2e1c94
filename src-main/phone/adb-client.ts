/**
 * A thin layer over @devicefarmer/adbkit: device tracking (`host:track-devices-l`), shell with exit
 * codes (`shell,v2,raw:`; falls back to `shell:` when a device lacks the shell protocol), reverse
 * rules, file push. Every call is pinned to a serial and time-limited; adb failures are turned into
 * `AdbError`s with a code the bridge can explain to a person.
 */
import * as adbkitModule from '@devicefarmer/adbkit';
import type { Client, DeviceClient } from '@devicefarmer/adbkit';

type PushTransfer = Awaited<ReturnType<DeviceClient['push']>>;
import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import type { ShellCommand } from './shell';

interface AdbkitConnection {
  socket: Socket;
  parser: {
    readAscii(n: number): PromiseLike<string>;
    readValue(): PromiseLike<Buffer>;
    readError(): PromiseLike<never>;
  };
  write(data: Buffer): unknown;
  end(): unknown;
}

type AdbFactory = { createClient(opts: { host?: string; port?: number; bin?: string }): Client };
function adbFactory(): AdbFactory {
  // adbkit is CommonJS; depending on the loader the class sits on the namespace or under `default`.
  const m = adbkitModule as unknown as { Adb?: AdbFactory; default?: AdbFactory & { Adb?: AdbFactory } };
  const f = m.Adb ?? m.default?.Adb ?? m.default;
  if (!f || typeof f.createClient !== 'function') throw new Error('@devicefarmer/adbkit could not be loaded');
  return f;
}

export type AdbErrorCode =
  | 'server_unreachable'
  | 'adb_missing'
  | 'not_found'
  | 'unauthorized'
  | 'offline'
  | 'no_permissions'
  | 'timeout'
  | 'failed';

export class AdbError extends Error {
  constructor(readonly code: AdbErrorCode, message: string) {
    super(message);
    this.name = 'AdbError';
  }
}

/**
 * adbkit tries `<bin> start-server` when the server refuses a connection. We start the server
 * ourselves (with a time limit and clear errors), so adbkit gets a path that cannot exist; its failure
 * to spawn it means "connection refused".
 */
const NO_START_BIN = '/nonexistent/clawfinger-adb-start-disabled';

/** Map whatever adbkit/net threw to an AdbError. */
export function toAdbError(err: unknown): AdbError {
  if (err instanceof AdbError) return err;
  const e = err as { code?: string; message?: string; path?: string };
  const msg = String(e?.message ?? err);
  if (e?.path === NO_START_BIN || msg.includes(NO_START_BIN)) return new AdbError('server_unreachable', 'connection refused');
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ECONNRESET' || e?.code === 'EHOSTUNREACH') return new AdbError('server_unreachable', msg);
  if (e?.code === 'ENOENT' || e?.code === 'EACCES') return new AdbError('adb_missing', msg);
  if (/unauthorized/i.test(msg)) return new AdbError('unauthorized', msg);
  if (/no permissions|insufficient permissions/i.test(msg)) return new AdbError('no_permissions', msg);
  if (/offline/i.test(msg)) return new AdbError('offline', msg);
  if (/not found/i.test(msg)) return new AdbError('not_found', msg);
  return new AdbError('failed', msg.replace(/^Failure: '(.*)'$/s, '$1'));
}

export interface TrackedDevice {
  serial: string;
  /** device | unauthorized | offline | no permissions | recovery | sideload | bootloader | authorizing | … */
  state: string;
  usb?: string;
  product?: string;
  model?: string;
  device?: string;
  transportId?: string;
}

/** Parse a `host:devices(-l)` / `host:track-devices(-l)` list. */
export function parseDeviceList(text: string): TrackedDevice[] {
  const out: TrackedDevice[] = [];
  for (const line of text.split('\n')) {
    const m = line.trim().match(/^(\S+)\s+(.*)$/);
    if (!m) continue;
    let rest = m[2];
    let state: string;
    if (/^no permissions/.test(rest)) {
      state = 'no permissions';
      const close = rest.indexOf(']');
      rest = close >= 0 ? rest.slice(close + 1) : '';
    } else {
      const sp = rest.search(/\s/);
      state = sp < 0 ? rest : rest.slice(0, sp);
      rest = sp < 0 ? '' : rest.slice(sp);
    }
    const dev: TrackedDevice = { serial: m[1], state };
    for (const tok of rest.trim().split(/\s+/)) {
      const kv = tok.match(/^(usb|product|model|device|transport_id):(.+)$/);
      if (!kv) continue;
      const key = kv[1] === 'transport_id' ? 'transportId' : (kv[1] as 'usb' | 'product' | 'model' | 'device');
      dev[key] = kv[2];
    }
    out.push(dev);
  }
  return out;
}

export interface ShellResult {
  stdout: string;
  stderr: string;
  /** null when the device has no shell protocol v2 (stdout then also holds stderr) */
  exitCode: number | null;
}

export interface ShellHandle {
  /** resolves with the exit code (null: unknown / stream closed) */
  done: Promise<number | null>;
  close(): void;
}

export interface AdbClientOptions {
  host: string;
  port: number;
}

const SHELL_V2_STDOUT = 1;
const SHELL_V2_STDERR = 2;
const SHELL_V2_EXIT = 3;

/** The adb host protocol sends a request's length as 4 hex digits: no request may be longer. */
export const ADB_MAX_REQUEST = 0xffff;

/** Bytes of the shell request for `cmd` (the longer, shell-protocol v2 form). */
export function shellRequestBytes(cmd: ShellCommand): number {
  return Buffer.byteLength(`shell,v2,raw:${cmd.text}`, 'utf8');
}

function encodeRequest(req: string): Buffer {
  const body = Buffer.from(req, 'utf8');
  if (body.length > ADB_MAX_REQUEST) throw new AdbError('failed', `The command is too long for adb (${body.length} bytes; adb allows at most ${ADB_MAX_REQUEST}).`);
  return Buffer.concat([Buffer.from(body.length.toString(16).padStart(4, '0').toUpperCase()), body]);
}

function withTimeout<T>(p: PromiseLike<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      onTimeout?.();
      reject(new AdbError('timeout', `${what} did not answer within ${Math.round(ms / 1000)} s`));
    }, ms);
    Promise.resolve(p).then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(toAdbError(e));
      },
    );
  });
}

export class AdbClient {
  readonly client: Client;
  private readonly noShellV2 = new Set<string>();
  private readonly openSockets = new Set<Socket>();

  constructor(readonly opts: AdbClientOptions) {
    this.client = adbFactory().createClient({ host: opts.host, port: opts.port, bin: NO_START_BIN });
  }

  /** Sockets this client currently holds open (for leak checks). */
  get openSocketCount(): number {
    return this.openSockets.size;
  }

  async version(timeoutMs = 5000): Promise<number> {
    return withTimeout(this.client.version(), timeoutMs, 'the adb server');
  }

  private device(serial: string): DeviceClient {
    return this.client.getDevice(serial);
  }

  private track(socket: Socket): void {
    this.openSockets.add(socket);
    socket.once('close', () => this.openSockets.delete(socket));
  }

  private async transport(serial: string, timeoutMs: number): Promise<AdbkitConnection> {
    const conn = (await withTimeout(this.device(serial).transport(), timeoutMs, `adb (device ${serial})`)) as unknown as AdbkitConnection;
    this.track(conn.socket);
    return conn;
  }

  /**
   * Open a shell service; stdout/stderr are delivered as they arrive. Uses shell protocol v2 for exit
   * codes; a device without it gets `shell:` (exit code null).
   */
  async openShell(
    serial: string,
    cmd: ShellCommand,
    handlers: { stdout?: (b: Buffer) => void; stderr?: (b: Buffer) => void },
    timeoutMs = 15_000,
  ): Promise<ShellHandle> {
    const v2 = !this.noShellV2.has(serial);
    // refuse before opening anything: a longer request would corrupt the adb protocol stream
    encodeRequest(`${v2 ? 'shell,v2,raw:' : 'shell:'}${cmd.text}`);
    const conn = await this.transport(serial, timeoutMs);
    const socket = conn.socket;
    try {
      conn.write(encodeRequest(`${v2 ? 'shell,v2,raw:' : 'shell:'}${cmd.text}`));
      const reply = await withTimeout(conn.parser.readAscii(4), timeoutMs, `the shell on ${serial}`, () => socket.destroy());
      if (reply === 'FAIL') {
        try {
          await conn.parser.readError();
        } catch (e) {
          const err = toAdbError(e);
          if (v2 && err.code === 'failed') {
            this.noShellV2.add(serial);
            return this.openShell(serial, cmd, handlers, timeoutMs);
          }
          throw err;
        }
      }
      if (reply !== 'OKAY') throw new AdbError('failed', `unexpected adb reply ${JSON.stringify(reply)}`);
    } catch (e) {
      socket.destroy();
      throw toAdbError(e);
    }
    let exitCode: number | null = null;
    let pending: Buffer = Buffer.alloc(0);
    const done = new Promise<number | null>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        if (!v2) {
          handlers.stdout?.(chunk);
          return;
        }
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        while (pending.length >= 5) {
          const id = pending[0];
          const len = pending.readUInt32LE(1);
          if (pending.length < 5 + len) break;
          const data = pending.subarray(5, 5 + len);
          pending = pending.subarray(5 + len);
          if (id === SHELL_V2_STDOUT) handlers.stdout?.(data);
          else if (id === SHELL_V2_STDERR) handlers.stderr?.(data);
          else if (id === SHELL_V2_EXIT) {
            exitCode = data.length ? data[0] : 0;
            socket.end();
          }
        }
      });
      socket.on('error', () => socket.destroy());
      socket.once('close', () => resolve(exitCode));
      socket.resume();
    });
    return { done, close: () => socket.destroy() };
  }

  /** Run a command to completion and collect its output. */
  async shell(serial: string, cmd: ShellCommand, timeoutMs = 15_000): Promise<ShellResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const h = await this.openShell(serial, cmd, { stdout: (b) => out.push(b), stderr: (b) => err.push(b) }, timeoutMs);
    const exitCode = await withTimeout(h.done, timeoutMs, `\`${cmd.text.slice(0, 60)}\` on ${serial}`, h.close);
    return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode };
  }

  async reverse(serial: string, remote: string, local: string, timeoutMs = 10_000): Promise<void> {
    await withTimeout(this.device(serial).reverse(remote, local), timeoutMs, `adb reverse on ${serial}`);
  }

  async listReverses(serial: string, timeoutMs = 10_000): Promise<{ remote: string; local: string }[]> {
    return withTimeout(this.device(serial).listReverses(), timeoutMs, `adb reverse --list on ${serial}`);
  }

  /** Push bytes (or a local file) to a device path over the sync service. */
  async push(serial: string, contents: Buffer | { file: string }, remotePath: string, mode = 0o644, timeoutMs = 60_000): Promise<void> {
    const src = Buffer.isBuffer(contents) ? new PassThrough().end(contents) : contents.file;
    const transfer = await withTimeout<PushTransfer>(this.device(serial).push(src, remotePath, mode), timeoutMs, `adb push on ${serial}`);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        transfer.once('end', () => resolve());
        transfer.once('error', (e: unknown) => reject(toAdbError(e)));
      }),
      timeoutMs,
      `adb push on ${serial}`,
      () => transfer.cancel(),
    );
  }

  /**
   * Follow the device list (`host:track-devices-l`): `onList` gets every full list the server sends;
   * `onEnd` once when the stream ends (server gone). Resolves once the server accepted the request.
   */
  async trackDevices(onList: (devices: TrackedDevice[]) => void, onEnd: (err: AdbError) => void, timeoutMs = 5000): Promise<{ close(): void }> {
    const conn = (await withTimeout(this.client.connection(), timeoutMs, 'the adb server')) as unknown as AdbkitConnection;
    const socket = conn.socket;
    this.track(socket);
    let closed = false;
    try {
      conn.write(encodeRequest('host:track-devices-l'));
      const reply = await withTimeout(conn.parser.readAscii(4), timeoutMs, 'the adb server', () => socket.destroy());
      if (reply === 'FAIL') await conn.parser.readError();
      if (reply !== 'OKAY') throw new AdbError('failed', `unexpected adb reply ${JSON.stringify(reply)}`);
    } catch (e) {
      socket.destroy();
      throw toAdbError(e);
    }
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 4) {
        const len = Number.parseInt(buf.subarray(0, 4).toString('ascii'), 16);
        if (!Number.isFinite(len)) {
          socket.destroy();
          return;
        }
        if (buf.length < 4 + len) break;
        const body = buf.subarray(4, 4 + len).toString('utf8');
        buf = buf.subarray(4 + len);
        onList(parseDeviceList(body));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      if (!closed) onEnd(new AdbError('server_unreachable', 'the adb server closed the device-tracking connection'));
      closed = true;
    });
    socket.resume();
    return {
      close: () => {
        closed = true;
        socket.destroy();
      },
    };
  }

  /** Close every socket this client still holds. */
  destroy(): void {
    for (const s of this.openSockets) s.destroy();
    this.openSockets.clear();
  }
}
