/**
 * The `/ws/events` connection: reconnects with capped exponential backoff, keeps exactly one ping
 * timer per open socket (upstream leaked one per reconnect — spec §16.5 #61), and reports every
 * (re)open so the stores can resync from REST. The WebSocket constructor is injectable so the
 * stores can be tested in Node against a real gateway.
 */
import type { EventEnvelope } from './types';

export type SocketStatus = 'connecting' | 'open' | 'closed';

/** The subset of the WebSocket API we use (browser WebSocket and the `ws` package both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface EventSocketOptions {
  url: () => string;
  create?: WebSocketFactory;
  onEvent: (e: EventEnvelope) => void;
  onOpen?: () => void;
  onStatus?: (s: SocketStatus, detail?: string) => void;
  pingMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

function isEnvelope(v: unknown): v is EventEnvelope {
  if (!v || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return typeof e.type === 'string' && typeof e.session_id === 'string' && !!e.data && typeof e.data === 'object';
}

export class EventSocket {
  private ws: WebSocketLike | null = null;
  private ping: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private backoff: number;
  private stopped = true;
  status: SocketStatus = 'closed';
  /** frames that were not bus envelopes (pong, error) */
  ignoredFrames = 0;

  constructor(private readonly o: EventSocketOptions) {
    this.backoff = o.minBackoffMs ?? 500;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.onerror = null;
      ws.onopen = null;
      try {
        ws.close(1000, 'console closed');
      } catch {
        // already closed
      }
    }
    this.setStatus('closed');
  }

  /** Drop the current socket and connect again now (e.g. after the token changed). */
  reconnect(): void {
    this.stop();
    this.backoff = this.o.minBackoffMs ?? 500;
    this.start();
  }

  private setStatus(s: SocketStatus, detail?: string) {
    this.status = s;
    this.o.onStatus?.(s, detail);
  }

  private clearTimers() {
    if (this.ping) clearInterval(this.ping);
    if (this.retry) clearTimeout(this.retry);
    this.ping = null;
    this.retry = null;
  }

  private connect(): void {
    this.clearTimers();
    this.setStatus('connecting');
    let ws: WebSocketLike;
    try {
      ws = (this.o.create ?? ((u: string) => new WebSocket(u) as unknown as WebSocketLike))(this.o.url());
    } catch (e) {
      this.scheduleRetry((e as Error).message);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.backoff = this.o.minBackoffMs ?? 500;
      this.setStatus('open');
      this.ping = setInterval(() => {
        try {
          ws.send('{"type":"ping"}');
        } catch {
          // the close handler reconnects
        }
      }, this.o.pingMs ?? 25_000);
      this.o.onOpen?.();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let v: unknown;
      try {
        v = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data));
      } catch {
        this.ignoredFrames++;
        return;
      }
      if (isEnvelope(v)) this.o.onEvent(v);
      else this.ignoredFrames++;
    };
    ws.onerror = () => {
      // a close event follows; nothing to do here
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.ping) clearInterval(this.ping);
      this.ping = null;
      if (this.stopped) return;
      this.scheduleRetry(ev?.reason || (ev?.code ? `closed (${ev.code})` : 'closed'));
    };
  }

  private scheduleRetry(detail: string): void {
    this.setStatus('closed', detail);
    if (this.stopped) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.o.maxBackoffMs ?? 10_000, this.backoff * 2);
    this.retry = setTimeout(() => this.connect(), wait);
  }
}
