#!/usr/bin/env node
// postinstall: fetch the Electron binary (its own install script is denied by allowScripts because it
// fails hard offline). Never fails the install: without the binary, `npm start` serves the console
// headless and says why.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const script = 'node_modules/electron/install.js';
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  console.log('clawfinger: ELECTRON_SKIP_BINARY_DOWNLOAD is set — skipping the Electron binary (npm start will serve the console headless)');
  process.exit(0);
}
if (!existsSync(script)) process.exit(0);
const child = spawn(process.execPath, [script], { stdio: 'inherit' });
const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
child.on('exit', (code) => {
  clearTimeout(timer);
  if (code !== 0) console.log('clawfinger: the Electron binary could not be downloaded — npm start will serve the console headless at http://127.0.0.1:8996');
  process.exit(0);
});
child.on('error', () => process.exit(0));
