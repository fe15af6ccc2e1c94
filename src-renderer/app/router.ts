/** Hash routing (`#/calls/<id>`): works when served by the gateway and inside the desktop window alike. */
import { useSyncExternalStore } from 'react';

export interface Route {
  /** path segments after '#/' */
  parts: string[];
  query: URLSearchParams;
}

function current(): string {
  return typeof location === 'undefined' ? '' : location.hash;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts: parts.length ? parts : ['calls'], query: new URLSearchParams(qs ?? '') };
}

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, current, () => '');
  return parseHash(hash);
}

export function href(...parts: string[]): string {
  return `#/${parts.map((p) => encodeURIComponent(p)).join('/')}`;
}

export function navigate(...parts: string[]): void {
  location.hash = href(...parts);
}
