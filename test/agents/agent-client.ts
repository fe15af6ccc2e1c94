/** A real WebSocket agent for tests: records every frame, awaits frames by predicate, correlates acks by id. */
import WebSocket from 'ws';
import type { CallControl, CallControlResult } from '../../src-main/phone/call-control';

export type Frame = Record<string, unknown> & { type?: string };

export interface ConnectOptions {
  name?: string;
  role?: 'agent' | 'operator';
  token?: string;
  headers?: Record<string, string>;
  /** extra raw query string */
  query?: string;
}

export function agentUrl(base: string, o: ConnectOptions = {}): string {
  const q = new URLSearchParams();
  if (o.name) q.set('name', o.name);
  if (o.role) q.set('role', o.role);
  if (o.token) q.set('token', o.token);
  let qs = q.toString();
  if (o.query) qs = qs ? `${qs}&${o.query}` : o.query;
  return `${base.replace(/^http/, 'ws')}/api/agent/ws${qs ? `?${qs}` : ''}`;
}

/** Try to open the agent socket; resolves with the HTTP status of a refused upgrade. */
export function tryConnect(base: string, o: ConnectOptions = {}): Promise<{ ok: true; client: AgentClient } | { ok: false; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(agentUrl(base, o), { headers: o.headers });
    // listen before 'open': the first frames can arrive in the same chunk as the upgrade response
    const client = new AgentClient(ws);
    ws.once('open', () => resolve({ ok: true, client }));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        req.destroy(); // ws leaves a refused upgrade's connection to the listener
        resolve({ ok: false, status: res.statusCode ?? 0, body });
      });
    });
    ws.once('error', (e) => reject(e));
  });
}

let idSeq = 0;

export class AgentClient {
  readonly frames: Frame[] = [];
  private readonly consumed = new WeakSet<Frame>();
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString()) as Frame;
      this.frames.push(f);
      for (const w of [...this.waiters]) {
        if (!this.consumed.has(f) && w.pred(f)) {
          this.consumed.add(f);
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(f);
        }
      }
    });
    this.closed = new Promise((r) => ws.once('close', () => r()));
  }

  static async connect(base: string, o: ConnectOptions = {}): Promise<AgentClient> {
    const r = await tryConnect(base, o);
    if (!r.ok) throw new Error(`agent socket refused: HTTP ${r.status} ${r.body}`);
    return r.client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame matching `pred` not taken before (already received or the next to arrive). */
  take(pred: (f: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const hit = this.frames.find((f) => !this.consumed.has(f) && pred(f));
    if (hit) {
      this.consumed.add(hit);
      return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (f: Frame) => {
          clearTimeout(t);
          resolve(f);
        },
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out waiting for a frame; got: ${this.frames.map((f) => f.type).join(', ')}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** A direct frame (not a bus envelope) of this type. */
  direct(type: string, pred: (f: Frame) => boolean = () => true, timeoutMs?: number): Promise<Frame> {
    return this.take((f) => f.type === type && !('data' in f && 'timestamp' in f) && pred(f), timeoutMs);
  }

  /** A bus event (envelope) of this type. */
  event(type: string, pred: (f: Frame & { data: Record<string, unknown>; session_id: string }) => boolean = () => true, timeoutMs?: number): Promise<Frame & { data: Record<string, unknown>; session_id: string }> {
    return this.take((f) => f.type === type && 'data' in f && 'timestamp' in f && pred(f as never), timeoutMs) as never;
  }

  /** Send a command with a fresh `id` and await its answer (`<type>.ack`, `call_state`, `pong` or `error`). */
  async request(frame: Frame, answerType = `${frame.type}.ack`): Promise<Frame> {
    const id = `t${++idSeq}`;
    this.send({ ...frame, id });
    return this.take((f) => f.id === id && (f.type === answerType || f.type === 'error'));
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}

/** A phone bridge for tests: records dial/hangup, answers ok, or holds a call until released. */
export class FakeBridge implements CallControl {
  dials: string[] = [];
  /** the serial each dial was sent to (undefined = automatic) */
  dialSerials: (string | undefined)[] = [];
  hangups: { serial?: string }[] = [];
  ok = true;
  /** set to hold every dial until `releaseDial()` */
  holdDial = false;
  private held: (() => void)[] = [];
  private started!: () => void;
  /** resolves when the first dial arrives */
  readonly dialStarted = new Promise<void>((r) => (this.started = r));

  async dial(number: string, opts?: { serial?: string }): Promise<CallControlResult> {
    this.dials.push(number);
    this.dialSerials.push(opts?.serial);
    this.started();
    if (this.holdDial) await new Promise<void>((r) => this.held.push(r));
    return this.ok ? { ok: true, detail: 'Broadcast completed: result=0' } : { ok: false, detail: 'No ADB device connected' };
  }

  releaseDial(): void {
    for (const r of this.held.splice(0)) r();
  }

  async hangup(opts?: { serial?: string }): Promise<CallControlResult> {
    this.hangups.push(opts ?? {});
    return this.ok ? { ok: true, detail: 'Broadcast completed: result=0' } : { ok: false, detail: 'No ADB device connected' };
  }
}
