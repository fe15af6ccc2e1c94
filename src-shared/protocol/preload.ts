/**
 * The narrow API the Electron preload exposes to the console as `window.clawfinger` (contextBridge),
 * and the IPC channels behind it. Pure types: the renderer, the preload and the main process share them.
 * In a browser the bridge is absent and the console falls back to web APIs.
 */
export interface FileFilter {
  name: string;
  extensions: string[];
}

export interface ClawfingerBridge {
  /** the operator token, so the console can authenticate when the gateway requires it */
  getToken(): Promise<string>;
  /** a desktop notification (incoming call, caller waiting) */
  notify(title: string, body: string): Promise<void>;
  /** open the data folder (config, logs, recordings) in the file manager */
  openDataFolder(): Promise<void>;
  /** native open-file dialog; null when cancelled */
  pickFile(filters?: FileFilter[]): Promise<string | null>;
  /** the console's "notify me" setting, so the shell's own incoming-call notification follows it (optional: older shells lack it) */
  setNotificationsEnabled?(enabled: boolean): Promise<void>;
  /** 'linux' | 'darwin' | 'win32' */
  readonly platform: string;
}

export const IPC_CHANNELS = {
  getToken: 'clawfinger:get-token',
  notify: 'clawfinger:notify',
  openDataFolder: 'clawfinger:open-data-folder',
  pickFile: 'clawfinger:pick-file',
  setNotifications: 'clawfinger:set-notifications',
} as const;

export type IpcChannel = (typeof IPC_CHANNELS)[keyof typeof IPC_CHANNELS];

/** Argument validation shared by the main-process handlers (the renderer is untrusted). */
export function validNotify(title: unknown, body: unknown): title is string {
  return typeof title === 'string' && typeof body === 'string' && title.length <= 200 && body.length <= 1000;
}

export function validFilters(filters: unknown): filters is FileFilter[] | undefined {
  if (filters === undefined) return true;
  return (
    Array.isArray(filters) &&
    filters.length <= 10 &&
    filters.every((f) => f && typeof f.name === 'string' && Array.isArray(f.extensions) && f.extensions.every((e: unknown) => typeof e === 'string' && /^[A-Za-z0-9*]{1,16}$/.test(e)))
  );
}
