/**
 * The console's zustand stores (vanilla, so they run in Node tests; views read them with `useStore`).
 * - live: calls and transcripts, fed by the event stream (live-reducer.ts)
 * - connection: socket state, the operator token, event-stream statistics
 * - signals: what other views watch — status, latency, config versions, downloads, mock calls
 * - prefs: the operator's own settings, kept in localStorage
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DownloadState, LatencySummary, StatusResponse } from '../api/types';
import type { SocketStatus } from '../api/socket';
import { applyEvents, applyPending, applySnapshot, applyStoredTranscript, emptyLive, type LiveState, type TranscriptLine } from './live-reducer';
import type { EventEnvelope, CallSummary } from '../api/types';
import type { SequencerStats } from './sequencer';

export interface LiveStore extends LiveState {
  apply(events: EventEnvelope[], nowMs?: number): void;
  snapshot(calls: CallSummary[], agentCount: number | null): void;
  storedTranscript(sid: string, lines: TranscriptLine[]): void;
  pending(requests: Parameters<typeof applyPending>[1]): void;
  clear(): void;
}

export function createLiveStore(): StoreApi<LiveStore> {
  return createStore<LiveStore>((set) => ({
    ...emptyLive(),
    apply: (events, nowMs) =>
      set((s) => {
        const next = applyEvents(s, events, nowMs);
        return next === s ? s : next;
      }),
    snapshot: (calls, agentCount) => set((s) => applySnapshot(s, calls, agentCount)),
    storedTranscript: (sid, lines) => set((s) => applyStoredTranscript(s, sid, lines)),
    pending: (requests) => set((s) => applyPending(s, requests)),
    clear: () => set(emptyLive()),
  }));
}

export interface ConnectionState {
  socket: SocketStatus;
  socketDetail: string;
  /** the gateway answered the last REST call */
  reachable: boolean | null;
  /** the gateway wants the operator token and we have none (or a wrong one) */
  needsToken: boolean;
  tokenDetail: string;
  token: string | null;
  /** where the token came from */
  tokenSource: 'none' | 'bridge' | 'typed';
  lastSyncAt: number | null;
  stats: SequencerStats | null;
  syncing: boolean;
}

export function createConnectionStore(): StoreApi<ConnectionState> {
  return createStore<ConnectionState>(() => ({
    socket: 'closed', socketDetail: '', reachable: null, needsToken: false, tokenDetail: '', token: null, tokenSource: 'none',
    lastSyncAt: null, stats: null, syncing: false,
  }));
}

export type ConfigSection = 'llm' | 'tts' | 'call' | 'engines' | 'network' | 'mockCall' | 'instructions' | 'config' | 'devices' | 'models' | 'mock';

export interface MockState {
  id?: string;
  session_id?: string;
  state: string;
  detail?: string;
}

export interface SignalsState {
  status: StatusResponse | null;
  statusError: string;
  latency: LatencySummary | null;
  /** bumped when the section changed on the server (another console, an agent, a reload) */
  versions: Record<ConfigSection, number>;
  downloads: Record<string, DownloadState>;
  mock: Record<string, MockState>;
  /** last microphone level of a mock call, 0..1 (−60…0 dBFS) */
  mockLevel: number;
  /** recent notable gateway events outside calls (dial, hangup), newest last, bounded */
  activity: { id: string; at: number; text: string }[];
  /** open device problems (device.alert critical/warning), newest last; a recovery (info) alert clears its device's */
  deviceAlerts: DeviceAlertItem[];
}

export interface DeviceAlertItem {
  id: string;
  /** '' = the adb server itself */
  serial: string;
  level: 'critical' | 'warning';
  code: string;
  message: string;
  at: number;
}

export function createSignalsStore(): StoreApi<SignalsState> {
  return createStore<SignalsState>(() => ({
    status: null, statusError: '', latency: null,
    versions: { llm: 0, tts: 0, call: 0, engines: 0, network: 0, mockCall: 0, instructions: 0, config: 0, devices: 0, models: 0, mock: 0 },
    downloads: {}, mock: {}, mockLevel: 0, activity: [], deviceAlerts: [],
  }));
}

const SECTION_OF: Record<string, ConfigSection> = {
  'config.llm_updated': 'llm',
  'config.tts_updated': 'tts',
  'config.call_updated': 'call',
  'config.engines_updated': 'engines',
  'config.network_updated': 'network',
  'config.mock_call_updated': 'mockCall',
  'instructions.updated': 'instructions',
  'status.update': 'config',
  'device.added': 'devices',
  'device.removed': 'devices',
  'device.changed': 'devices',
  'device.check': 'devices',
  'device.alert': 'devices',
  'model.download': 'models',
  'mock.state': 'mock',
};

const MAX_ACTIVITY = 50;
const MAX_DEVICE_ALERTS = 20;

/** One device.alert event applied to the open problems (pure). */
export function applyDeviceAlert(alerts: DeviceAlertItem[], e: EventEnvelope): DeviceAlertItem[] {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const serial = typeof d.serial === 'string' ? d.serial : '';
  const code = typeof d.code === 'string' ? d.code : '';
  const level = d.level;
  if (level === 'critical' || level === 'warning') {
    const next = alerts.filter((a) => !(a.serial === serial && a.code === code));
    next.push({ id: `da${e.seq ?? e.timestamp}-${serial}-${code}`, serial, level, code, message: typeof d.message === 'string' ? d.message : 'A phone needs attention.', at: e.timestamp });
    return next.length > MAX_DEVICE_ALERTS ? next.slice(-MAX_DEVICE_ALERTS) : next;
  }
  if (level !== 'info') return alerts;
  // an info alert is a recovery (link restored, call over, adb back): the device's problems are over
  return alerts.some((a) => a.serial === serial) ? alerts.filter((a) => a.serial !== serial) : alerts;
}

/** The operator dismissed one alert banner. */
export function dismissDeviceAlert(store: StoreApi<SignalsState>, id: string): void {
  const s = store.getState();
  if (s.deviceAlerts.some((a) => a.id === id)) store.setState({ deviceAlerts: s.deviceAlerts.filter((a) => a.id !== id) });
}

/** Non-call events → signals (one `setState` per batch). */
export function applySignals(store: StoreApi<SignalsState>, events: EventEnvelope[]): void {
  let versions: Record<ConfigSection, number> | null = null;
  let downloads: Record<string, DownloadState> | null = null;
  let mock: Record<string, MockState> | null = null;
  let level: number | null = null;
  let activity: SignalsState['activity'] | null = null;
  let deviceAlerts: DeviceAlertItem[] | null = null;
  const s = store.getState();
  for (const e of events) {
    const d = (e.data ?? {}) as Record<string, unknown>;
    const section = SECTION_OF[e.type];
    if (section) {
      versions ??= { ...s.versions };
      versions[section]++;
    }
    if (e.type === 'status.update' || e.type.startsWith('config.')) {
      versions ??= { ...s.versions };
      versions.config++;
    }
    if (e.type === 'model.download' && typeof d.id === 'string') {
      downloads ??= { ...s.downloads };
      downloads[d.id] = d as unknown as DownloadState;
    } else if (e.type === 'mock.state') {
      mock ??= { ...s.mock };
      const key = String(d.mock_id ?? d.id ?? e.session_id ?? 'mock');
      const id = typeof d.mock_id === 'string' ? d.mock_id : typeof d.id === 'string' ? d.id : undefined;
      mock[key] = { id, session_id: e.session_id || (d.session_id as string), state: String(d.state ?? ''), detail: typeof d.error === 'string' ? d.error : typeof d.detail === 'string' ? d.detail : undefined };
    } else if (e.type === 'mock.level') {
      // dBFS of the last interval → 0..1 over a 60 dB range
      const db = Number(d.dbfs);
      if (Number.isFinite(db)) level = Math.max(0, Math.min(1, (db + 60) / 60));
    } else if (e.type === 'call.dial' || e.type === 'call.hangup') {
      activity ??= s.activity.slice();
      const text = e.type === 'call.dial' ? `Dialled ${String(d.number ?? '')}` : `Hung up${d.session_id ? ` (call ${String(d.session_id).slice(0, 8)})` : ''}`;
      activity.push({ id: `a${e.seq ?? e.timestamp}`, at: e.timestamp, text });
      if (activity.length > MAX_ACTIVITY) activity.splice(0, activity.length - MAX_ACTIVITY);
    } else if (e.type === 'device.alert') {
      const next = applyDeviceAlert(deviceAlerts ?? s.deviceAlerts, e);
      if (next !== (deviceAlerts ?? s.deviceAlerts)) deviceAlerts = next;
    }
  }
  if (versions || downloads || mock || level !== null || activity || deviceAlerts) {
    store.setState({
      ...(versions ? { versions } : {}),
      ...(downloads ? { downloads } : {}),
      ...(mock ? { mock } : {}),
      ...(level !== null ? { mockLevel: level } : {}),
      ...(activity ? { activity } : {}),
      ...(deviceAlerts ? { deviceAlerts } : {}),
    });
  }
}

export interface Prefs {
  operatorName: string;
  quickPhrases: string[];
  notifications: boolean;
}

export const DEFAULT_PREFS: Prefs = {
  operatorName: 'Operator',
  quickPhrases: ['One moment, please.', 'Could you repeat that, please?', 'Yes, of course.', 'Thank you. Goodbye!'],
  notifications: true,
};

export interface KeyValueStorage {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
}

const PREFS_KEY = 'clawfinger.prefs.v1';

export function loadPrefs(storage: KeyValueStorage | null): Prefs {
  try {
    const raw = storage?.getItem(PREFS_KEY);
    if (!raw) return { ...DEFAULT_PREFS };
    const v = JSON.parse(raw) as Partial<Prefs>;
    return {
      operatorName: typeof v.operatorName === 'string' && v.operatorName.trim() ? v.operatorName.trim().slice(0, 64) : DEFAULT_PREFS.operatorName,
      quickPhrases: Array.isArray(v.quickPhrases) ? v.quickPhrases.filter((p): p is string => typeof p === 'string' && !!p.trim()).slice(0, 12) : DEFAULT_PREFS.quickPhrases,
      notifications: typeof v.notifications === 'boolean' ? v.notifications : true,
    };
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function createPrefsStore(storage: KeyValueStorage | null): StoreApi<Prefs> {
  const store = createStore<Prefs>(() => loadPrefs(storage));
  store.subscribe((p) => {
    try {
      storage?.setItem(PREFS_KEY, JSON.stringify(p));
    } catch {
      // storage full or disabled: prefs stay for this session
    }
  });
  return store;
}
