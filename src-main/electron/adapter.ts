/**
 * The only module of the main process that touches Electron. Everything the desktop shell does goes
 * through this narrow interface, so the shell's logic runs and is tested in plain Node with a fake.
 * (`require('electron')` throws where the binary is absent; this file is only loaded inside Electron.)
 */
export interface Bounds { x?: number; y?: number; width: number; height: number }

export interface WindowOptions {
  bounds: Bounds;
  maximized: boolean;
  preload: string;
  title: string;
  icon?: string;
  /** devtools allowed (unpackaged builds only) */
  devTools: boolean;
}

export interface WindowLike {
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
  quit(): void;
  exit(code: number): void;
  createWindow(opts: WindowOptions): WindowLike;
  createTray(icon: string, onClick: () => void): TrayLike;
  /** permission requests (mic, notifications, …) from web content */
  setPermissionPolicy(allow: (permission: string, origin: string) => boolean): void;
  /** add headers (CSP) to every response the window receives */
  enforceHeaders(headers: Record<string, string>): void;
  handle(channel: string, fn: (...args: unknown[]) => unknown): void;
  showNotification(title: string, body: string): void;
  openPath(path: string): Promise<void>;
  openExternal(url: string): Promise<void>;
  showOpenDialog(filters?: { name: string; extensions: string[] }[]): Promise<string | null>;
  /** a blocking choice dialog; returns the index of the chosen button */
  showChoice(title: string, message: string, buttons: string[]): Promise<number>;
  showError(title: string, message: string): void;
}
