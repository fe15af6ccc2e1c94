/** An in-memory ElectronAdapter that records what the shell asked Electron to do. */
import type { ElectronAdapter, IpcSender, MenuItemSpec, PermissionDetails, TrayLike, WindowLike, WindowOptions } from '../../src-main/electron/adapter';

let nextWebContentsId = 1;

export class FakeWindow implements WindowLike {
  readonly webContentsId = nextWebContentsId++;
  loaded: string[] = [];
  shown = 0;
  focused = 0;
  minimized = false;
  destroyed = false;
  closeFns: (() => void)[] = [];
  navGuard: ((url: string) => boolean) | null = null;
  externalFn: ((url: string) => void) | null = null;
  constructor(readonly opts: WindowOptions) {}
  async loadURL(url: string) { this.loaded.push(url); }
  show() { this.shown++; }
  focus() { this.focused++; }
  isMinimized() { return this.minimized; }
  restore() { this.minimized = false; }
  isMaximized() { return false; }
  getBounds() { return { x: 10, y: 20, width: 900, height: 700 }; }
  isDestroyed() { return this.destroyed; }
  onClose(fn: () => void) { this.closeFns.push(fn); }
  guardNavigation(allow: (url: string) => boolean) { this.navGuard = allow; }
  denyNewWindows(fn: (url: string) => void) { this.externalFn = fn; }
  close() { for (const f of this.closeFns) f(); this.destroyed = true; }
}

export class FakeAdapter implements ElectronAdapter {
  isPackaged = false;
  lock = true;
  windows: FakeWindow[] = [];
  tray: { tooltip: string; menu: MenuItemSpec[]; destroyed: boolean; click: () => void } | null = null;
  handlers = new Map<string, (sender: IpcSender, ...a: unknown[]) => unknown>();
  notifications: [string, string][] = [];
  opened: string[] = [];
  external: string[] = [];
  errors: [string, string][] = [];
  choices: { title: string; message: string; buttons: string[] }[] = [];
  choiceAnswer = 0;
  headers: Record<string, string> = {};
  permission: ((p: string, o: string, d: PermissionDetails) => boolean) | null = null;
  private activate: (() => void)[] = [];
  quitCalls = 0;
  private beforeQuit: ((e: { preventDefault(): void }) => void)[] = [];
  private secondInstance: (() => void)[] = [];

  requestSingleInstanceLock() { return this.lock; }
  onSecondInstance(fn: () => void) { this.secondInstance.push(fn); }
  fireSecondInstance() { for (const f of this.secondInstance) f(); }
  whenReady() { return Promise.resolve(); }
  onBeforeQuit(fn: (e: { preventDefault(): void }) => void) { this.beforeQuit.push(fn); }
  onWindowAllClosed() {}
  onActivate(fn: () => void) { this.activate.push(fn); }
  fireActivate() { for (const f of this.activate) f(); }
  /** like Electron: before-quit listeners may prevent the quit */
  quit() {
    this.quitCalls++;
    let prevented = false;
    for (const f of this.beforeQuit) f({ preventDefault: () => (prevented = true) });
    return prevented;
  }
  exit() {}
  createWindow(opts: WindowOptions) { const w = new FakeWindow(opts); this.windows.push(w); return w; }
  createTray(_icon: string, onClick: () => void): TrayLike {
    const t = { tooltip: '', menu: [] as MenuItemSpec[], destroyed: false, click: onClick };
    this.tray = t;
    return { setToolTip: (s) => (t.tooltip = s), setMenu: (m) => (t.menu = m), destroy: () => (t.destroyed = true) };
  }
  setPermissionPolicy(allow: (p: string, o: string, d: PermissionDetails) => boolean) { this.permission = allow; }
  enforceHeaders(h: Record<string, string>) { this.headers = h; }
  handle(channel: string, fn: (sender: IpcSender, ...a: unknown[]) => unknown) { this.handlers.set(channel, fn); }
  /** an IPC call from the main frame of the newest window, showing `frameUrl` (default: what it loaded) */
  invoke(channel: string, ...args: unknown[]): unknown {
    const w = this.windows[this.windows.length - 1];
    return this.invokeFrom({ webContentsId: w.webContentsId, frameUrl: w.loaded[w.loaded.length - 1] + '/', isMainFrame: true }, channel, ...args);
  }
  invokeFrom(sender: IpcSender, channel: string, ...args: unknown[]): unknown {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    return h(sender, ...args);
  }
  showNotification(title: string, body: string) { this.notifications.push([title, body]); }
  async openPath(p: string) { this.opened.push(p); }
  async openExternal(u: string) { this.external.push(u); }
  async showOpenDialog() { return '/picked/file.apk'; }
  async showChoice(title: string, message: string, buttons: string[]) { this.choices.push({ title, message, buttons }); return this.choiceAnswer; }
  showError(title: string, message: string) { this.errors.push([title, message]); }
}
