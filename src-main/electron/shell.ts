/**
 * The desktop shell's logic, free of Electron imports: single instance, one gateway owner (the
 * composition root) started before the window and stopped on quit, a locked-down window, tray,
 * remembered window state, typed IPC, and a clear choice when the port is taken — never a second server.
 */
import { join } from 'node:path';
import { createApp, type App, type AppOptions } from '../app';
import { CONSOLE_CSP } from '../gateway/routes/console';
import { IPC_CHANNELS, validFilters, validNotify } from '../../src-shared/protocol/preload';
import type { ElectronAdapter, TrayLike, WindowLike } from './adapter';
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
  /** resolves when startup finished (or was abandoned) */
  ready: Promise<'running' | 'second-instance' | 'quit'>;
}

/** Permissions the console may have: the microphone (browser mock call) and notifications, from our own origin. */
export function permissionAllowed(permission: string, origin: string, consoleUrl: string): boolean {
  if (!consoleUrl || !origin.startsWith(consoleUrl)) return false;
  return permission === 'media' || permission === 'notifications';
}

export function runDesktop(adapter: ElectronAdapter, opts: ShellOptions): DesktopShell {
  const shell: DesktopShell = { app: null, window: null, tray: null, ready: Promise.resolve('quit') };
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

  shell.ready = (async () => {
    await adapter.whenReady();
    const app = await startGateway(adapter, opts);
    if (!app) {
      adapter.quit();
      return 'quit';
    }
    shell.app = app;
    const url = app.url;
    adapter.setPermissionPolicy((permission, origin) => permissionAllowed(permission, origin, url));
    adapter.enforceHeaders({ 'Content-Security-Policy': CONSOLE_CSP });
    registerIpc(adapter, app, opts.dataDir);
    const openWindow = () => {
      if (shell.window && !shell.window.isDestroyed()) {
        shell.window.show();
        shell.window.focus();
        return;
      }
      shell.window = createConsoleWindow(adapter, opts, url);
    };
    openWindow();
    shell.tray = adapter.createTray(opts.trayIconPath, openWindow);
    const refreshTray = () => {
      const calls = app.ctx.calls.active().length;
      shell.tray?.setToolTip(`Clawfinger — ${calls === 0 ? 'no live calls' : `${calls} live call${calls === 1 ? '' : 's'}`} — ${url}`);
      shell.tray?.setMenu([
        { label: calls === 0 ? 'No live calls' : `${calls} live call${calls === 1 ? '' : 's'}`, enabled: false },
        { label: 'Show console', click: openWindow },
        { label: 'Open data folder', click: () => void adapter.openPath(opts.dataDir) },
        { type: 'separator', label: '' },
        { label: 'Quit Clawfinger', click: () => adapter.quit() },
      ]);
    };
    refreshTray();
    app.ctx.bus.subscribe((e) => {
      if (e.type === 'session.started' || e.type === 'session.ended') refreshTray();
      if (e.type === 'session.started' && (e.data as { direction?: string }).direction === 'incoming') {
        adapter.showNotification('Incoming call', 'A caller is talking to the assistant.');
      }
    });
    return 'running';
  })();
  return shell;
}

async function startGateway(adapter: ElectronAdapter, opts: ShellOptions): Promise<App | null> {
  let port = opts.port;
  for (let attempt = 0; attempt <= (opts.portAttempts ?? 5); attempt++) {
    const app = await createApp({ ...opts, port });
    try {
      await app.start();
      return app;
    } catch (e) {
      await app.stop().catch(() => undefined);
      const msg = (e as Error).message;
      if (!/already in use/.test(msg)) {
        adapter.showError('Clawfinger could not start', msg);
        return null;
      }
      const current = port ?? app.ctx.config.get().port;
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

function createConsoleWindow(adapter: ElectronAdapter, opts: ShellOptions, url: string): WindowLike {
  const state = loadWindowState(opts.dataDir);
  const w = adapter.createWindow({ bounds: state.bounds, maximized: state.maximized, preload: opts.preloadPath, title: 'Clawfinger', icon: opts.iconPath, devTools: !adapter.isPackaged });
  w.guardNavigation((target) => target === url || target.startsWith(`${url}/`));
  w.denyNewWindows((target) => {
    if (/^https:\/\//.test(target)) void adapter.openExternal(target);
  });
  w.onClose(() => saveWindowState(opts.dataDir, w.getBounds(), w.isMaximized()));
  void w.loadURL(url);
  return w;
}

function registerIpc(adapter: ElectronAdapter, app: App, dataDir: string): void {
  adapter.handle(IPC_CHANNELS.getToken, () => app.ctx.operatorToken());
  adapter.handle(IPC_CHANNELS.notify, (title, body) => {
    if (!validNotify(title, body)) throw new Error('notify(title, body) takes two short strings');
    adapter.showNotification(title, body as string);
  });
  adapter.handle(IPC_CHANNELS.openDataFolder, () => adapter.openPath(dataDir));
  adapter.handle(IPC_CHANNELS.pickFile, (filters) => {
    if (!validFilters(filters)) throw new Error('pickFile(filters) takes [{name, extensions}]');
    return adapter.showOpenDialog(filters as { name: string; extensions: string[] }[] | undefined);
  });
}

export const DEFAULT_ASSETS = (root: string) => ({
  iconPath: join(root, 'assets', 'icon.png'),
  trayIconPath: join(root, 'assets', 'tray.png'),
});
