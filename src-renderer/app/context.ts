/** The console's services (API client, stores, sync, notifications) and the hooks views use. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import type { GatewayApi } from '../api/gateway';
import type { ClawfingerBridge } from '../api/bridge';
import type { Notifier } from '../lib/notify';
import type { LiveSync } from '../store/sync';
import type { ConnectionState, LiveStore, Prefs, SignalsState } from '../store/stores';

export interface ConsoleServices {
  api: GatewayApi;
  bridge: ClawfingerBridge | null;
  live: StoreApi<LiveStore>;
  connection: StoreApi<ConnectionState>;
  signals: StoreApi<SignalsState>;
  prefs: StoreApi<Prefs>;
  sync: LiveSync;
  notifier: Notifier;
  /** set (or clear) the operator token and reconnect */
  setToken(token: string | null, source: 'bridge' | 'typed'): void;
}

export const ServicesContext = createContext<ConsoleServices | null>(null);

export function useServices(): ConsoleServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('ServicesContext missing');
  return s;
}

export function useLive<T>(sel: (s: LiveStore) => T): T {
  return useStore(useServices().live, sel);
}

export function useConnection<T>(sel: (s: ConnectionState) => T): T {
  return useStore(useServices().connection, sel);
}

export function useSignals<T>(sel: (s: SignalsState) => T): T {
  return useStore(useServices().signals, sel);
}

export function usePrefs<T>(sel: (s: Prefs) => T): T {
  return useStore(useServices().prefs, sel);
}
