/**
 * The optional preload API (`window.clawfinger`) that the Electron shell exposes. The interface is
 * shared with the preload and the main process (src-shared/protocol/preload.ts); in a browser it is
 * absent and the console falls back to web APIs (Notification, <a download>, typed token).
 */
import type { ClawfingerBridge, FileFilter } from '../../src-shared/protocol/preload';

export type { ClawfingerBridge, FileFilter };

declare global {
  interface Window {
    clawfinger?: ClawfingerBridge;
  }
}

function looksLikeBridge(v: unknown): v is ClawfingerBridge {
  if (!v || typeof v !== 'object') return false;
  const b = v as Record<string, unknown>;
  return typeof b.getToken === 'function' && typeof b.notify === 'function';
}

/** The preload bridge when running inside the desktop app, else null. */
export function getBridge(scope: { clawfinger?: unknown } | undefined = typeof window === 'undefined' ? undefined : window): ClawfingerBridge | null {
  const b = scope?.clawfinger;
  return looksLikeBridge(b) ? b : null;
}
