/** Electron main-process entry: the real adapter + the shell logic. Built by electron-vite to out/main. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app } from 'electron';
import { defaultDataDir } from '../config/paths';
import { createElectronAdapter } from './electron-adapter';
import { DEFAULT_ASSETS, runDesktop } from './shell';

const here = dirname(fileURLToPath(import.meta.url));
const root = app.isPackaged ? process.resourcesPath : join(here, '..', '..');
runDesktop(createElectronAdapter(), {
  dataDir: defaultDataDir(),
  preloadPath: join(here, '..', 'preload', 'index.cjs'),
  consoleDir: join(here, '..', 'renderer'),
  ...DEFAULT_ASSETS(root),
});
