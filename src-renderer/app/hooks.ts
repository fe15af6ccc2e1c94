/** Small React hooks: a shared clock, REST loading with a "not available" state, keyboard shortcuts. */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { ApiError } from '../api/http';

// ---- one shared 1 s clock for every ticking duration (no timer per card)
const clockListeners = new Set<() => void>();
let clockNow = Date.now();
let clockTimer: ReturnType<typeof setInterval> | null = null;

function clockSubscribe(cb: () => void): () => void {
  clockListeners.add(cb);
  if (!clockTimer) {
    clockTimer = setInterval(() => {
      clockNow = Date.now();
      for (const l of clockListeners) l();
    }, 1000);
  }
  return () => {
    clockListeners.delete(cb);
    if (!clockListeners.size && clockTimer) {
      clearInterval(clockTimer);
      clockTimer = null;
    }
  };
}

/** Epoch ms, updated once a second while mounted. */
export function useNow(): number {
  return useSyncExternalStore(clockSubscribe, () => clockNow, () => clockNow);
}

/** A faster clock for deadlines (re-renders only the component using it). */
export function useFastNow(active: boolean, ms = 200): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return now;
}

export type Load<T> =
  | { state: 'loading'; data: T | null }
  | { state: 'ready'; data: T }
  | { state: 'missing'; data: null; detail: string }
  | { state: 'error'; data: T | null; detail: string };

/**
 * Load from the API; reloads when `deps` change. `missing` means this gateway has no such route yet
 * (the view shows a clear "not available" state instead of an error).
 */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading', data: null });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let alive = true;
    setLoad((l) => ({ state: 'loading', data: l.data }));
    fnRef.current().then(
      (data) => alive && setLoad({ state: 'ready', data }),
      (e) => {
        if (!alive) return;
        if (e instanceof ApiError && e.missing) setLoad({ state: 'missing', data: null, detail: e.detail });
        else setLoad((l) => ({ state: 'error', data: l.data, detail: (e as Error).message }));
      },
    );
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return [load, reload];
}

function inEditable(t: EventTarget | null): boolean {
  if (!t || typeof (t as HTMLElement).closest !== 'function') return false;
  const el = t as HTMLElement;
  return !!el.closest('input, textarea, select, [contenteditable="true"]');
}

export interface HotkeyEventLike {
  key: string;
  code?: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  repeat: boolean;
  target: EventTarget | null;
}

/** The modifier a call shortcut needs (WCAG 2.1.4: no single printable-key shortcuts). */
export type HotkeyModifier = 'alt';

/**
 * Whether a keydown is the shortcut `modifier`+`key`. With a modifier the physical key is compared
 * (Option+T on a Mac types "†"), and the shortcut also works while a text field has the focus; a
 * shortcut without modifier never fires in a field. Held-down repeats and other modifiers never match.
 */
export function matchesHotkey(e: HotkeyEventLike, key: string, modifier: HotkeyModifier | null): boolean {
  if (e.repeat || e.ctrlKey || e.metaKey) return false;
  const k = key.toLowerCase();
  if (modifier === 'alt') {
    if (!e.altKey || e.shiftKey) return false;
    return e.code ? e.code.toLowerCase() === `key${k}` : e.key.toLowerCase() === k;
  }
  if (e.altKey) return false;
  return e.key.toLowerCase() === k && !inEditable(e.target);
}

/** How a shortcut reads for people and for `aria-keyshortcuts` ("Alt+T"). */
export function hotkeyLabel(key: string, modifier: HotkeyModifier | null): string {
  return modifier === 'alt' ? `Alt+${key.toUpperCase()}` : key.toUpperCase();
}

/**
 * A keyboard shortcut. Call controls pass `modifier: 'alt'` so a stray key never takes a call;
 * `key` is compared case-insensitively.
 */
export function useHotkey(key: string, handler: () => void, enabled = true, modifier: HotkeyModifier | null = null): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (!matchesHotkey(e, key, modifier)) return;
      e.preventDefault();
      ref.current();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [key, enabled, modifier]);
}

/** Run an async action with a busy flag and a message. */
export function useAction(): { busy: boolean; error: string; ok: string; run: (fn: () => Promise<string | void>) => Promise<boolean>; clear: () => void; errorObj: ApiError | null } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [errorObj, setErrorObj] = useState<ApiError | null>(null);
  const [ok, setOk] = useState('');
  const run = useCallback(async (fn: () => Promise<string | void>) => {
    setBusy(true);
    setError('');
    setErrorObj(null);
    setOk('');
    try {
      const msg = await fn();
      setOk(msg || '');
      return true;
    } catch (e) {
      setError(e instanceof ApiError && e.missing ? `Not available in this gateway (${e.detail}).` : (e as Error).message);
      setErrorObj(e instanceof ApiError ? e : null);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => {
    setError('');
    setOk('');
    setErrorObj(null);
  }, []);
  return { busy, error, ok, run, clear, errorObj };
}
