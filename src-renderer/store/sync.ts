/**
 * Keeps the stores in step with the gateway: the event socket feeds the sequencer in small batches
 * (one store update per animation frame under load), and every (re)connect or lost event triggers a
 * resync from REST — live calls and agents from `/api/status`, transcripts of live calls from the
 * history API when the gateway has it.
 */
import type { StoreApi } from 'zustand/vanilla';
import { ApiError } from '../api/http';
import type { GatewayApi } from '../api/gateway';
import { EventSocket, type WebSocketFactory } from '../api/socket';
import type { EventEnvelope } from '../api/types';
import { linesFromTurns } from '../lib/transcript';
import { EventSequencer } from './sequencer';
import { applySignals, type ConnectionState, type LiveStore, type SignalsState } from './stores';

export interface LiveSyncOptions {
  api: GatewayApi;
  live: StoreApi<LiveStore>;
  connection: StoreApi<ConnectionState>;
  signals: StoreApi<SignalsState>;
  /** page origin, e.g. http://127.0.0.1:8996 */
  origin: string;
  createSocket?: WebSocketFactory;
  /** schedules a batch flush (requestAnimationFrame in the page) */
  schedule?: (fn: () => void) => void;
  /** told about every applied batch (notifications) */
  onEvents?: (events: EventEnvelope[]) => void;
  gapTimeoutMs?: number;
  statusIntervalMs?: number;
  /** the operator this console acts as: named on the events socket so that its takeovers end when the console goes away */
  operator?: () => string;
}

/** The events socket URL, naming the console's operator (`?operator=`). */
export function eventsSocketUrl(base: string, operator: string | undefined): string {
  const name = operator?.trim();
  if (!name) return base;
  const u = new URL(base);
  u.searchParams.set('operator', name);
  return u.toString();
}

export class LiveSync {
  readonly socket: EventSocket;
  readonly sequencer: EventSequencer;
  private queue: EventEnvelope[] = [];
  private flushPending = false;
  private resyncing: Promise<void> | null = null;
  private resyncAgain = false;
  private statusTimer: ReturnType<typeof setInterval> | null = null;
  /** calls whose stored transcript was already loaded */
  private readonly loadedTranscripts = new Set<string>();
  private historyMissing = false;

  constructor(private readonly o: LiveSyncOptions) {
    this.sequencer = new EventSequencer({
      apply: (events) => this.applyOrdered(events),
      onGap: () => void this.resync(true),
      gapTimeoutMs: o.gapTimeoutMs,
    });
    this.socket = new EventSocket({
      url: () => eventsSocketUrl(o.api.http.wsUrl('/ws/events', o.origin), o.operator?.()),
      create: o.createSocket,
      onEvent: (e) => this.enqueue(e),
      onOpen: () => {
        this.sequencer.reset();
        void this.resync(true);
      },
      onStatus: (socket, detail) => o.connection.setState({ socket, socketDetail: detail ?? '' }),
    });
  }

  start(): void {
    this.socket.start();
    void this.refreshStatus();
    this.statusTimer = setInterval(() => void this.refreshStatus(), this.o.statusIntervalMs ?? 15_000);
  }

  stop(): void {
    this.socket.stop();
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
  }

  private enqueue(e: EventEnvelope): void {
    this.queue.push(e);
    if (this.flushPending) return;
    this.flushPending = true;
    (this.o.schedule ?? ((fn) => setTimeout(fn, 0)))(() => this.flush());
  }

  /** Push queued frames through the sequencer now. */
  flush(): void {
    this.flushPending = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length) this.sequencer.pushMany(batch);
    this.o.connection.setState({ stats: { ...this.sequencer.stats } });
  }

  private applyOrdered(events: EventEnvelope[]): void {
    this.o.live.getState().apply(events);
    applySignals(this.o.signals, events);
    for (const e of events) {
      if (e.type === 'session.started' && e.session_id) this.loadedTranscripts.add(e.session_id); // a new call: the stream has all of it
      if (e.type === 'turn.metrics' || e.type === 'agent.connected' || e.type === 'agent.disconnected' || e.type.startsWith('device.')) this.statusSoon();
    }
    this.o.onEvents?.(events);
  }

  private statusDebounce: ReturnType<typeof setTimeout> | null = null;
  private statusSoon(): void {
    if (this.statusDebounce) return;
    this.statusDebounce = setTimeout(() => {
      this.statusDebounce = null;
      void this.refreshStatus();
    }, 2000);
  }

  /** Status bar figures (gateway, engines, agents, latency). */
  async refreshStatus(): Promise<void> {
    try {
      const [status, latency] = await Promise.all([this.o.api.status(), this.o.api.latency().catch(() => null)]);
      this.o.signals.setState({ status, statusError: '', ...(latency ? { latency } : {}) });
      this.o.connection.setState({ reachable: true });
    } catch (e) {
      const unauthorized = e instanceof ApiError && e.unauthorized;
      this.o.signals.setState({ statusError: (e as Error).message });
      this.o.connection.setState({ reachable: unauthorized ? true : false });
    }
  }

  /**
   * Bring the live state back in line with the gateway. `full`: also reload the transcripts of live
   * calls (after a reconnect or lost events). Concurrent calls coalesce.
   */
  resync(full = false): Promise<void> {
    if (full) this.loadedTranscripts.clear();
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.o.connection.setState({ syncing: true });
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false;
        await this.resyncOnce();
      } while (this.resyncAgain);
    })().finally(() => {
      this.resyncing = null;
      this.o.connection.setState({ syncing: false, lastSyncAt: Date.now() });
    });
    return this.resyncing;
  }

  private async resyncOnce(): Promise<void> {
    let status;
    try {
      status = await this.o.api.status();
    } catch (e) {
      this.o.signals.setState({ statusError: (e as Error).message });
      return;
    }
    this.o.signals.setState({ status, statusError: '' });
    this.o.connection.setState({ reachable: true });
    this.o.live.getState().snapshot(status.calls ?? [], Array.isArray(status.agents) ? status.agents.length : null);
    // frames still queued are at least as new as the snapshot: they go on top of it
    this.flush();
    await this.loadPending();
    const live = (status.calls ?? []).map((c) => c.session_id).filter((sid) => !this.loadedTranscripts.has(sid));
    if (this.historyMissing) return;
    await Promise.all(live.map((sid) => this.loadTranscript(sid)));
  }

  /** Caller utterances waiting for a holder (takeover requests survive a console reconnect). */
  private async loadPending(): Promise<void> {
    if (this.pendingMissing) return;
    try {
      const r = await this.o.api.pending();
      this.o.live.getState().pending(r.requests.map((p) => ({ ...p, holder: p.holder ?? null })));
    } catch (e) {
      if (e instanceof ApiError && e.missing) this.pendingMissing = true;
    }
  }

  private pendingMissing = false;

  private async loadTranscript(sid: string): Promise<void> {
    try {
      const detail = await this.o.api.call(sid);
      this.loadedTranscripts.add(sid);
      this.o.live.getState().storedTranscript(sid, linesFromTurns(sid, detail.turns ?? []));
    } catch (e) {
      if (e instanceof ApiError && e.missing) this.historyMissing = true;
    }
  }
}
