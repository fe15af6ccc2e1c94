/**
 * The desktop shell's logic, free of Electron imports: single instance, one gateway owner (the
 * composition root) started before the window and stopped on quit, a locked-down window, tray,
 * remembered window state, typed IPC, and a clear choice when the port is taken — never a second server.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { ConfigStore, writeFileAtomic } from '../config/store';
import { createApp, readOrCreateToken, type App, type AppOptions } from '../app';
import { CONSOLE_CSP } from '../gateway/routes/console';
import { IPC_CHANNELS, validFilters, validNotify } from '../../src-shared/protocol/preload';
import type { ElectronAdapter, IpcSender, PermissionDetails, SecureWebPreferences, TrayLike, WindowLike } from './adapter';
import { loadWindowState, saveWindowState } from './window-state';

export interface ShellOptions extends Omit<AppOptions, 'dataDir'> {
  dataDir: string;
  preloadPath: string;
  iconPath: string;
  trayIconPath: string;
  /** how many other ports to offer when the configured one is taken */
  portAttempts?: number;
}

export interface DesktopShell {
  app: App | null;
  window: WindowLike | null;
  tray: TrayLike | null;
  /** the console URL the window shows (our gateway, or one already running on the port) */
  consoleUrl: string;
  /** resolves when startup finished (or was abandoned); 'attached': a gateway was already running on the port and the window shows it */
  ready: Promise<'running' | 'attached' | 'second-instance' | 'quit'>;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/**
 * Permissions the console may have, from our own origin only: notifications, and 'media' for the
 * microphone alone (browser mock call) — a request that includes the camera is refused.
 */
export function permissionAllowed(permission: string, origin: string, consoleUrl: string, details: PermissionDetails = {}): boolean {
  const own = originOf(consoleUrl);
  if (!own || own === 'null' || originOf(origin) !== own) return false;
  if (permission === 'notifications') return true;
  if (permission === 'media') {
    const types = details.mediaTypes;
    return Array.isArray(types) && types.length > 0 && !types.includes('video');
  }
  return false;
}

/** IPC is answered only for the main frame of our console window, showing file:// or our gateway's console. */
export function ipcSenderAllowed(sender: IpcSender, window: WindowLike | null, consoleUrl: string): boolean {
  if (!window || window.isDestroyed() || sender.webContentsId !== window.webContentsId || !sender.isMainFrame) return false;
  if (sender.frameUrl.startsWith('file://')) return true;
  const own = originOf(consoleUrl);
  return !!own && own !== 'null' && originOf(sender.frameUrl) === own;
}

/** The renderer's locked-down settings (contextIsolation, sandbox, no Node, web security). */
export function secureWebPreferences(preload: string, devTools: boolean): SecureWebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    devTools,
  };
}

/** What the console told the shell (Settings → General → notifications), kept across restarts. */
const PREFS_FILE = 'desktop-prefs.json';
function loadNotificationsEnabled(dataDir: string): boolean {
  try {
    const v = JSON.parse(readFileSync(join(dataDir, PREFS_FILE), 'utf8')) as { notifications?: unknown };
    return v.notifications !== false;
  } catch {
    return true;
  }
}

/** Is a Clawfinger gateway answering on this port? (its /health, with our operator token: same data folder) */
export function probeClawfinger(port: number, token: string, timeoutMs = 2000): Promise<string | null> {
  const url = `http://127.0.0.1:${port}`;
  return new Promise((resolve) => {
    // a fresh connection (no keep-alive pool), destroyed on timeout: a silent program on the port is not left hanging
    const req = http.get(`${url}/health`, { agent: false, headers: { authorization: `Bearer ${token}` }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length > 65536) req.destroy();
      });
      res.on('end', () => {
        try {
          const h = JSON.parse(body) as Record<string, unknown>;
          resolve(res.statusCode === 200 && h.ok === true && typeof h.active_sessions === 'number' && typeof h.uptime_s === 'number' && 'engines' in h ? url : null);
        } catch {
          resolve(null);
        }
      });
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.on('close', () => resolve(null));
  });
}

type Started = { app: App } | { attached: string; token: string } | null;

export function runDesktop(adapter: ElectronAdapter, opts: ShellOptions): DesktopShell {
  const shell: DesktopShell = { app: null, window: null, tray: null, consoleUrl: '', ready: Promise.resolve('quit') };
  if (!adapter.requestSingleInstanceLock()) {
    adapter.quit();
    shell.ready = Promise.resolve('second-instance');
    return shell;
  }
  adapter.onSecondInstance(() => {
    const w = shell.window;
    if (!w || w.isDestroyed()) return;
    if (w.isMinimized()) w.restore();
    w.show();
    w.focus();
  });

  let stopping = false;
  adapter.onBeforeQuit((e) => {
    if (stopping || !shell.app) return;
    e.preventDefault();
    stopping = true;
    const a = shell.app;
    shell.app = null;
    shell.tray?.destroy();
    void a.stop().finally(() => adapter.quit());
  });
  // closing the window keeps the gateway running in the tray (calls continue); quit from the tray
  adapter.onWindowAllClosed(() => undefined);

  let openWindow: (() => void) | null = null;
  // macOS: clicking the dock icon with no window open reopens it
  adapter.onActivate(() => openWindow?.());
  let notificationsEnabled = loadNotificationsEnabled(opts.dataDir);

  shell.ready = (async () => {
    await adapter.whenReady();
    const started = await startGateway(adapter, opts);
    if (!started) {
      adapter.quit();
      return 'quit';
    }
    const app = 'app' in started ? started.app : null;
    const token = app ? app.ctx.operatorToken() : (started as { token: string }).token;
    shell.app = app;
    const url = app ? app.url : (started as { attached: string }).attached;
    shell.consoleUrl = url;
    adapter.setPermissionPolicy((permission, origin, details) => permissionAllowed(permission, origin, url, details));
    adapter.enforceHeaders({ 'Content-Security-Policy': CONSOLE_CSP });
    registerIpc(adapter, {
      token: () => token,
      dataDir: opts.dataDir,
      allowed: (sender) => ipcSenderAllowed(sender, shell.window, url),
      setNotifications: (on) => {
        notificationsEnabled = on;
        try {
          writeFileAtomic(join(opts.dataDir, PREFS_FILE), JSON.stringify({ notifications: on }));
        } catch {
          // not critical: the console tells us again on its next start
        }
      },
    });
    openWindow = () => {
      if (shell.window && !shell.window.isDestroyed()) {
        if (shell.window.isMinimized()) shell.window.restore();
        shell.window.show();
        shell.window.focus();
        return;
      }
      shell.window = createConsoleWindow(adapter, opts, url, () => void stopMockCalls(url, token));
    };
    openWindow();
    const show = openWindow;
    shell.tray = adapter.createTray(opts.trayIconPath, show);
    const refreshTray = () => {
      const calls = app ? app.ctx.calls.active().length : 0;
      const where = app ? url : `${url} (already running)`;
      shell.tray?.setToolTip(`Clawfinger — ${calls === 0 ? 'no live calls' : `${calls} live call${calls === 1 ? '' : 's'}`} — ${where}`);
      shell.tray?.setMenu([
        { label: calls === 0 ? 'No live calls' : `${calls} live call${calls === 1 ? '' : 's'}`, enabled: false },
        { label: 'Show console', click: show },
        { label: 'Open data folder', click: () => void adapter.openPath(opts.dataDir) },
        { type: 'separator', label: '' },
        { label: 'Quit Clawfinger', click: () => adapter.quit() },
      ]);
    };
    refreshTray();
    if (!app) return 'attached';
    app.ctx.bus.subscribe((e) => {
      if (e.type === 'session.started' || e.type === 'session.ended') refreshTray();
      if (e.type === 'session.started' && (e.data as { direction?: string }).direction === 'incoming' && notificationsEnabled) {
        adapter.showNotification('Incoming call', 'A caller is talking to the assistant.');
      }
    });
    return 'running';
  })();
  return shell;
}

/** The window was closed: a mock call uses this computer's microphone and speakers, so it ends with the window. */
async function stopMockCalls(url: string, token: string): Promise<void> {
  try {
    await fetch(`${url}/api/mock-call/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    // the gateway is stopping (quit): it ends mock calls itself
  }
}

async function startGateway(adapter: ElectronAdapter, opts: ShellOptions): Promise<Started> {
  let port = opts.port;
  for (let attempt = 0; attempt <= (opts.portAttempts ?? 5); attempt++) {
    let app: App;
    try {
      app = await createApp({ ...opts, port });
    } catch (e) {
      // the call history is held by another process on this data folder: usually Clawfinger itself (`npm run serve`)
      if ((e as Error).name !== 'StoreLockedError') throw e;
      return attachOrQuit(adapter, opts, port, (e as Error).message);
    }
    try {
      await app.start();
      return { app };
    } catch (e) {
      const token = app.ctx.operatorToken();
      await app.stop().catch(() => undefined);
      const msg = (e as Error).message;
      if (!/already in use/.test(msg)) {
        adapter.showError('Clawfinger could not start', msg);
        return null;
      }
      const current = port ?? app.ctx.config.get().port;
      // Clawfinger itself (e.g. `npm run serve`) already on the port: show its console, never start a second gateway
      const running = await probeClawfinger(current, token);
      if (running) {
        const choice = await adapter.showChoice(
          'Clawfinger is already running',
          `A Clawfinger gateway already answers at ${running} (started outside the desktop app, for example with npm run serve). The window will show its console; calls keep going through it. Quit that gateway first if you want the desktop app to run its own.`,
          ['Open its console', 'Quit'],
        );
        return choice === 0 ? { attached: running, token } : null;
      }
      const next = current + 1;
      const choice = await adapter.showChoice(
        'Port already in use',
        `${msg}\n\nThe phone reaches the gateway through this port. You can use port ${next} for this session (update the phone's profile and adb reverse to match), or quit.`,
        [`Use port ${next}`, 'Quit'],
      );
      if (choice !== 0) return null;
      port = next;
    }
  }
  adapter.showError('Clawfinger could not start', 'No free port was found.');
  return null;
}

/** createApp refused (data folder in use): open the console of the Clawfinger that holds it, or explain and quit. */
async function attachOrQuit(adapter: ElectronAdapter, opts: ShellOptions, port: number | undefined, msg: string): Promise<Started> {
  const overrides = { ...(opts.host !== undefined ? { host: opts.host } : {}), ...(port !== undefined ? { port } : {}) };
  const configured = ConfigStore.open(opts.configFile ?? join(opts.dataDir, 'config.json'), { env: opts.env, overrides }).store.get().port;
  const token = readOrCreateToken(join(opts.dataDir, 'operator-token'));
  const running = configured ? await probeClawfinger(configured, token) : null;
  if (!running) {
    adapter.showError('Clawfinger could not start', msg);
    return null;
  }
  const choice = await adapter.showChoice(
    'Clawfinger is already running',
    `A Clawfinger gateway on this data folder already answers at ${running} (started outside the desktop app, for example with npm run serve). The window will show its console; calls keep going through it. Quit that gateway first if you want the desktop app to run its own.`,
    ['Open its console', 'Quit'],
  );
  return choice === 0 ? { attached: running, token } : null;
}

function createConsoleWindow(adapter: ElectronAdapter, opts: ShellOptions, url: string, onClosed: () => void): WindowLike {
  const state = loadWindowState(opts.dataDir);
  const w = adapter.createWindow({
    bounds: state.bounds,
    maximized: state.maximized,
    title: 'Clawfinger',
    icon: opts.iconPath,
    webPreferences: secureWebPreferences(opts.preloadPath, !adapter.isPackaged),
  });
  w.guardNavigation((target) => target === url || target.startsWith(`${url}/`));
  w.denyNewWindows((target) => {
    if (/^https:\/\//.test(target)) void adapter.openExternal(target);
  });
  w.onClose(() => {
    saveWindowState(opts.dataDir, w.getBounds(), w.isMaximized());
    onClosed();
  });
  void w.loadURL(url);
  return w;
}

interface IpcContext {
  token: () => string;
  dataDir: string;
  allowed: (sender: IpcSender) => boolean;
  setNotifications: (enabled: boolean) => void;
}

function registerIpc(adapter: ElectronAdapter, c: IpcContext): void {
  const guarded = (channel: string, fn: (...args: unknown[]) => unknown) =>
    adapter.handle(channel, (sender, ...args) => {
      if (!c.allowed(sender)) throw new Error(`IPC ${channel} refused: not from the console window`);
      return fn(...args);
    });
  guarded(IPC_CHANNELS.getToken, () => c.token());
  guarded(IPC_CHANNELS.notify, (title, body) => {
    if (!validNotify(title, body)) throw new Error('notify(title, body) takes two short strings');
    adapter.showNotification(title, body as string);
  });
  guarded(IPC_CHANNELS.openDataFolder, () => adapter.openPath(c.dataDir));
  guarded(IPC_CHANNELS.pickFile, (filters) => {
    if (!validFilters(filters)) throw new Error('pickFile(filters) takes [{name, extensions}]');
    return adapter.showOpenDialog(filters as { name: string; extensions: string[] }[] | undefined);
  });
  guarded(IPC_CHANNELS.setNotifications, (enabled) => {
    if (typeof enabled !== 'boolean') throw new Error('setNotificationsEnabled(enabled) takes a boolean');
    c.setNotifications(enabled);
  });
}

export const DEFAULT_ASSETS = (root: string) => ({
  iconPath: join(root, 'assets', 'icon.png'),
  trayIconPath: join(root, 'assets', 'tray.png'),
});
