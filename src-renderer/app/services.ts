/**
 * Builds the console's services for the page: API client with the operator token, stores, the live
 * sync and notifications. The token comes from the desktop bridge, else from what the operator typed
 * (kept for this browser session only), else none (loopback without `agent_token_required`).
 */
import { getBridge } from '../api/bridge';
import { GatewayApi } from '../api/gateway';
import { ApiClient } from '../api/http';
import { browserNotifications, Notifier } from '../lib/notify';
import { LiveSync } from '../store/sync';
import { createConnectionStore, createLiveStore, createPrefsStore, createSignalsStore } from '../store/stores';
import type { EventEnvelope } from '../api/types';
import type { ConsoleServices } from './context';

const TOKEN_KEY = 'clawfinger.token';

function safeStorage(kind: 'localStorage' | 'sessionStorage'): Storage | null {
  try {
    return window[kind];
  } catch {
    return null;
  }
}

export function createServices(): ConsoleServices & { init(): Promise<void> } {
  const bridge = getBridge();
  const connection = createConnectionStore();
  const session = safeStorage('sessionStorage');
  const typed = session?.getItem(TOKEN_KEY) ?? null;
  if (typed) connection.setState({ token: typed, tokenSource: 'typed' });

  const http = new ApiClient({
    token: () => connection.getState().token,
    onUnauthorized: (detail) => connection.setState({ needsToken: true, tokenDetail: detail }),
  });
  const api = new GatewayApi(http);
  const live = createLiveStore();
  const signals = createSignalsStore();
  const prefs = createPrefsStore(safeStorage('localStorage'));
  const notifier = new Notifier(bridge, browserNotifications(), () => prefs.getState().notifications);

  const onEvents = (events: EventEnvelope[]) => {
    const me = prefs.getState().operatorName;
    for (const e of events) {
      if (e.type === 'session.started') {
        const c = live.getState().calls[e.session_id];
        if (c) notifier.incomingCall(c.summary);
      } else if (e.type === 'turn.awaiting_reply') {
        const d = e.data as { request_id?: string; transcript?: string; holder?: { kind?: string; name?: string } };
        const mine = d.holder?.kind === 'operator' && (!d.holder.name || d.holder.name === me);
        const away = typeof document !== 'undefined' && (document.hidden || !document.hasFocus());
        if (mine && away) notifier.callerWaiting(e.session_id, String(d.request_id ?? ''), String(d.transcript ?? ''));
      }
    }
  };

  const sync = new LiveSync({
    api, live, connection, signals, origin: location.origin, onEvents, operator: () => prefs.getState().operatorName,
    schedule: (fn) => (typeof requestAnimationFrame === 'function' && !document.hidden ? requestAnimationFrame(() => fn()) : setTimeout(fn, 16)),
  });

  // the events socket names the operator: a new name reconnects it
  // the desktop shell announces incoming calls itself: it follows the "notify me" setting
  const tellShell = (on: boolean) => void bridge?.setNotificationsEnabled?.(on).catch(() => undefined);
  prefs.subscribe((p, prev) => {
    if (p.operatorName !== prev.operatorName) sync.socket.reconnect();
    if (p.notifications !== prev.notifications) tellShell(p.notifications);
  });

  const setToken = (token: string | null, source: 'bridge' | 'typed') => {
    connection.setState({ token, tokenSource: token ? source : 'none', needsToken: false, tokenDetail: '' });
    if (source === 'typed') {
      if (token) session?.setItem(TOKEN_KEY, token);
      else session?.removeItem(TOKEN_KEY);
    }
    sync.socket.reconnect();
    void sync.refreshStatus();
  };

  return {
    api, bridge, live, connection, signals, prefs, sync, notifier, setToken,
    async init() {
      tellShell(prefs.getState().notifications);
      if (bridge) {
        try {
          const t = await bridge.getToken();
          if (t) connection.setState({ token: t, tokenSource: 'bridge' });
        } catch {
          // fall back to a typed token if the gateway asks for one
        }
      }
      sync.start();
      // read-only diagnostics for tests and the console benchmark
      (window as unknown as { __clawfinger?: unknown }).__clawfinger = {
        stats: () => ({ ...sync.sequencer.stats, socket: sync.socket.status }),
        calls: () => Object.keys(live.getState().calls).length,
      };
    },
  };
}
