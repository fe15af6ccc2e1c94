/**
 * Sandboxed preload (bundled as CommonJS by electron-vite): exposes only `window.clawfinger`, a few
 * typed calls over IPC. No Node APIs reach the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS, type ClawfingerBridge, type FileFilter } from '../../src-shared/protocol/preload';

const bridge: ClawfingerBridge = {
  getToken: () => ipcRenderer.invoke(IPC_CHANNELS.getToken) as Promise<string>,
  notify: (title: string, body: string) => ipcRenderer.invoke(IPC_CHANNELS.notify, title, body) as Promise<void>,
  openDataFolder: () => ipcRenderer.invoke(IPC_CHANNELS.openDataFolder) as Promise<void>,
  pickFile: (filters?: FileFilter[]) => ipcRenderer.invoke(IPC_CHANNELS.pickFile, filters) as Promise<string | null>,
  setNotificationsEnabled: (enabled: boolean) => ipcRenderer.invoke(IPC_CHANNELS.setNotifications, enabled) as Promise<void>,
  platform: process.platform,
};

contextBridge.exposeInMainWorld('clawfinger', bridge);
