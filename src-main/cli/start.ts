/**
 * `npm start`: the desktop app where Electron can run; otherwise one line saying why, and the same
 * console served headless (exactly `npm run serve`), so the README's start command always works.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary } from '../electron/detect';
import { serve } from './serve';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: root, stdio: 'inherit' });
    p.on('exit', (code) => resolve(code ?? 1));
    p.on('error', () => resolve(1));
  });
}

async function main(): Promise<void> {
  const bin = findElectronBinary();
  if (!bin.ok) {
    process.stdout.write(`Electron cannot run here (${bin.reason}); serving the console headless instead.\n`);
    await serve(process.argv.slice(2));
    return;
  }
  const built = await run(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build']);
  if (built !== 0) {
    process.stderr.write('clawfinger: building the desktop app failed; serving the console headless instead.\n');
    await serve(process.argv.slice(2));
    return;
  }
  process.exit(await run(bin.path, [root, ...process.argv.slice(2)]));
}

main().catch((e) => {
  process.stderr.write(`clawfinger: ${(e as Error).message}\n`);
  process.exit(1);
});
