/**
 * The only module of the main process that touches Electron. Everything the desktop shell does goes
 * through this narrow interface, so the shell's logic runs and is tested in plain Node with a fake.
 * (`require('electron')` throws where the binary is absent; this file is only loaded inside Electron.)
 */
export interface Bounds { x?: number; y?: number; width: number; height: number }

/** The renderer's security settings, passed to BrowserWindow unchanged (the shell decides them, tests assert them). */
export interface SecureWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  spellcheck: false;
  /** devtools allowed (unpackaged builds only) */
  devTools: boolean;
}

export interface WindowOptions {
  bounds: Bounds;
  maximized: boolean;
  title: string;
  icon?: string;
  webPreferences: SecureWebPreferences;
}

/** Who sent an IPC message: the frame's URL, whether it is a main frame, and its window's webContents id. */
export interface IpcSender {
  webContentsId: number;
  frameUrl: string;
  isMainFrame: boolean;
}

/** Details of a permission request or check (Electron's `details.mediaTypes` / `details.mediaType`). */
export interface PermissionDetails {
  mediaTypes?: string[];
}

export interface WindowLike {
  /** the window's webContents id (to recognise its IPC messages) */
  readonly webContentsId: number;
  loadURL(url: string): Promise<void>;
  show(): void;
  focus(): void;
  isMinimized(): boolean;
  restore(): void;
  isMaximized(): boolean;
  getBounds(): Bounds;
  isDestroyed(): boolean;
  onClose(fn: () => void): void;
  /** called for every navigation attempt; return false to block it */
  guardNavigation(allow: (url: string) => boolean): void;
  /** window.open / target=_blank: always denied; http(s) links may be handed to the OS browser */
  denyNewWindows(onExternal: (url: string) => void): void;
}

export interface MenuItemSpec { label: string; click?: () => void; enabled?: boolean; type?: 'separator' }

export interface TrayLike {
  setToolTip(text: string): void;
  setMenu(items: MenuItemSpec[]): void;
  destroy(): void;
}

export interface ElectronAdapter {
  readonly isPackaged: boolean;
  requestSingleInstanceLock(): boolean;
  onSecondInstance(fn: () => void): void;
  whenReady(): Promise<void>;
  /** fn may call preventDefault to finish async work, then call quit() again */
  onBeforeQuit(fn: (e: { preventDefault(): void }) => void): void;
  onWindowAllClosed(fn: () => void): void;
  /** macOS: the dock icon was clicked (reopen the window if none is open) */
  onActivate(fn: () => void): void;
  quit(): void;
  exit(code: number): void;
  createWindow(opts: WindowOptions): WindowLike;
  createTray(icon: string, onClick: () => void): TrayLike;
  /** permission requests (mic, notifications, …) from web content */
  setPermissionPolicy(allow: (permission: string, origin: string, details: PermissionDetails) => boolean): void;
  /** add headers (CSP) to every response the window receives */
  enforceHeaders(headers: Record<string, string>): void;
  /** an IPC handler; the shell checks the sender before acting */
  handle(channel: string, fn: (sender: IpcSender, ...args: unknown[]) => unknown): void;
  showNotification(title: string, body: string): void;
  openPath(path: string): Promise<void>;
  openExternal(url: string): Promise<void>;
  showOpenDialog(filters?: { name: string; extensions: string[] }[]): Promise<string | null>;
  /** a blocking choice dialog; returns the index of the chosen button */
  showChoice(title: string, message: string, buttons: string[]): Promise<number>;
  showError(title: string, message: string): void;
}
