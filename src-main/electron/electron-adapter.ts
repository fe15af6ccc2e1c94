/** The real ElectronAdapter. Imported only by the Electron entry point, never by tests or `serve`. */
import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, session, shell, Tray, nativeImage } from 'electron';
import type { ElectronAdapter, MenuItemSpec, TrayLike, WindowLike, WindowOptions } from './adapter';

export function createElectronAdapter(): ElectronAdapter {
  return {
    isPackaged: app.isPackaged,
    requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
    onSecondInstance: (fn) => void app.on('second-instance', fn),
    whenReady: () => app.whenReady().then(() => undefined),
    onBeforeQuit: (fn) => void app.on('before-quit', fn),
    onWindowAllClosed: (fn) => void app.on('window-all-closed', fn),
    onActivate: (fn) => void app.on('activate', fn),
    quit: () => app.quit(),
    exit: (code) => app.exit(code),
    createWindow(opts: WindowOptions): WindowLike {
      const w = new BrowserWindow({
        ...opts.bounds,
        title: opts.title,
        icon: opts.icon,
        show: false,
        backgroundColor: '#111418',
        webPreferences: { ...opts.webPreferences },
      });
      if (opts.maximized) w.maximize();
      w.once('ready-to-show', () => w.show());
      return {
        webContentsId: w.webContents.id,
        loadURL: (url) => w.loadURL(url),
        show: () => w.show(),
        focus: () => w.focus(),
        isMinimized: () => w.isMinimized(),
        restore: () => w.restore(),
        isMaximized: () => w.isMaximized(),
        getBounds: () => w.getNormalBounds(),
        isDestroyed: () => w.isDestroyed(),
        onClose: (fn) => void w.on('close', fn),
        guardNavigation(allow) {
          const guard = (e: { preventDefault(): void }, url: string) => {
            if (!allow(url)) e.preventDefault();
          };
          w.webContents.on('will-navigate', guard);
          w.webContents.on('will-redirect', guard);
          w.webContents.on('will-attach-webview', (e) => e.preventDefault());
        },
        denyNewWindows(onExternal) {
          w.webContents.setWindowOpenHandler(({ url }) => {
            onExternal(url);
            return { action: 'deny' };
          });
        },
      };
    },
    createTray(icon, onClick): TrayLike {
      const t = new Tray(nativeImage.createFromPath(icon));
      t.on('click', onClick);
      return {
        setToolTip: (s) => t.setToolTip(s),
        setMenu: (items: MenuItemSpec[]) => t.setContextMenu(Menu.buildFromTemplate(items.map((i) => (i.type === 'separator' ? { type: 'separator' } : { label: i.label, enabled: i.enabled, click: i.click })))),
        destroy: () => t.destroy(),
      };
    },
    setPermissionPolicy(allow) {
      session.defaultSession.setPermissionRequestHandler((wc, permission, cb, details) =>
        cb(allow(permission, wc.getURL(), { mediaTypes: (details as { mediaTypes?: string[] }).mediaTypes })),
      );
      session.defaultSession.setPermissionCheckHandler((_wc, permission, origin, details) => {
        const t = (details as { mediaType?: string }).mediaType;
        return allow(permission, origin, { mediaTypes: t ? [t] : undefined });
      });
    },
    enforceHeaders(headers) {
      session.defaultSession.webRequest.onHeadersReceived((details, cb) => cb({ responseHeaders: { ...details.responseHeaders, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) } }));
    },
    handle: (channel, fn) =>
      ipcMain.handle(channel, (e, ...args) => {
        const frame = e.senderFrame;
        return fn({ webContentsId: e.sender.id, frameUrl: frame?.url ?? '', isMainFrame: !!frame && frame === e.sender.mainFrame }, ...args);
      }),
    showNotification: (title, body) => {
      if (Notification.isSupported()) new Notification({ title, body }).show();
    },
    openPath: async (p) => {
      await shell.openPath(p);
    },
    openExternal: (url) => shell.openExternal(url),
    async showOpenDialog(filters) {
      const r = await dialog.showOpenDialog({ properties: ['openFile'], filters });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    async showChoice(title, message, buttons) {
      const r = await dialog.showMessageBox({ type: 'warning', title, message: title, detail: message, buttons, defaultId: 0, cancelId: buttons.length - 1 });
      return r.response;
    },
    showError: (title, message) => dialog.showErrorBox(title, message),
  };
}
