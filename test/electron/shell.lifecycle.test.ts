/** The desktop shell's behaviour, with Electron replaced by a recording fake (the binary is absent here). */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDesktop, permissionAllowed } from '../../src-main/electron/shell';
import { IPC_CHANNELS } from '../../src-shared/protocol/preload';
import { createInstantEngines } from '../helpers/instant-engines';
import { PhoneSim } from '../helpers/phone-sim';
import { FakeAdapter } from './fake-adapter';
import { NoPhoneBridge } from '../../src-main/phone/call-control';

const dirs: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(config: Record<string, unknown> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cf-shell-'));
  dirs.push(dataDir);
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ bearer_token: 'shell-bearer', port: 0, ...config }));
  const adapter = new FakeAdapter();
  const engines = createInstantEngines();
  const opts = { dataDir, preloadPath: '/app/out/preload/index.cjs', iconPath: '/i.png', trayIconPath: '/t.png', logToConsole: false, env: {}, engines: engines.providers, consoleDir: join(dataDir, 'none'), phone: new NoPhoneBridge() };
  return { dataDir, adapter, opts };
}

async function quit(adapter: FakeAdapter, shell: { app: unknown }) {
  adapter.quit();
  for (let i = 0; i < 100 && adapter.quitCalls < 2; i++) await new Promise((r) => setTimeout(r, 20));
  expect(shell.app).toBeNull();
}

describe('desktop shell', () => {
  it('starts the gateway before the window, loads the console from it, and locks the window down', async () => {
    const { adapter, opts } = setup();
    const shell = runDesktop(adapter, opts);
    expect(await shell.ready).toBe('running');
    const url = shell.app!.url;
    expect(await fetch(`${url}/api/config/call`).then((r) => r.status)).toBe(200);
    expect(adapter.windows).toHaveLength(1);
    const w = adapter.windows[0];
    expect(w.loaded).toEqual([url]);
    expect(w.opts.preload).toBe('/app/out/preload/index.cjs');
    expect(w.navGuard!(url + '/app/calls')).toBe(true);
    expect(w.navGuard!('https://evil.example/')).toBe(false);
    expect(w.navGuard!('http://127.0.0.1:1/')).toBe(false);
    w.externalFn!('https://docs.example/help');
    w.externalFn!('file:///etc/passwd');
    expect(adapter.external).toEqual(['https://docs.example/help']);
    expect(adapter.headers['Content-Security-Policy']).toMatch(/default-src 'self'/);
    expect(adapter.permission!('media', url + '/')).toBe(true);
    expect(adapter.permission!('geolocation', url + '/')).toBe(false);
    expect(adapter.permission!('media', 'https://evil.example/')).toBe(false);
    expect(adapter.tray!.tooltip).toContain('no live calls');
    await quit(adapter, shell);
  });

  it('a second instance only focuses the first window and starts no second server', async () => {
    const { adapter, opts } = setup();
    const shell = runDesktop(adapter, opts);
    await shell.ready;
    adapter.windows[0].minimized = true;
    adapter.fireSecondInstance();
    expect(adapter.windows[0].minimized).toBe(false);
    expect(adapter.windows[0].focused).toBe(1);
    const second = new FakeAdapter();
    second.lock = false;
    const other = runDesktop(second, opts);
    expect(await other.ready).toBe('second-instance');
    expect(second.windows).toHaveLength(0);
    expect(second.quitCalls).toBe(1);
    await quit(adapter, shell);
  });

  it('answers the typed preload API and rejects malformed arguments', async () => {
    const { adapter, opts, dataDir } = setup();
    const shell = runDesktop(adapter, opts);
    await shell.ready;
    expect(await adapter.handlers.get(IPC_CHANNELS.getToken)!()).toBe(shell.app!.ctx.operatorToken());
    await adapter.handlers.get(IPC_CHANNELS.notify)!('Caller waiting', 'Take over now');
    expect(adapter.notifications).toContainEqual(['Caller waiting', 'Take over now']);
    expect(() => adapter.handlers.get(IPC_CHANNELS.notify)!({ evil: true }, 1)).toThrow(/two short strings/);
    await adapter.handlers.get(IPC_CHANNELS.openDataFolder)!();
    expect(adapter.opened).toEqual([dataDir]);
    expect(await adapter.handlers.get(IPC_CHANNELS.pickFile)!([{ name: 'APK', extensions: ['apk'] }])).toBe('/picked/file.apk');
    expect(() => adapter.handlers.get(IPC_CHANNELS.pickFile)!([{ name: 'x', extensions: ['../../etc'] }])).toThrow();
    await quit(adapter, shell);
  });

  it('quitting ends live calls and stops the gateway cleanly; the window state is remembered', async () => {
    const { adapter, opts, dataDir } = setup();
    const shell = runDesktop(adapter, opts);
    await shell.ready;
    const app = shell.app!;
    const phone = new PhoneSim(app.url, 'shell-bearer');
    await phone.greeting('Hello');
    expect(adapter.notifications.some(([t]) => t === 'Incoming call')).toBe(true);
    expect(adapter.tray!.tooltip).toContain('1 live call');
    adapter.windows[0].close();
    expect(JSON.parse(readFileSync(join(dataDir, 'window-state.json'), 'utf8'))).toMatchObject({ bounds: { width: 900, height: 700 } });
    const url = app.url;
    await quit(adapter, shell);
    expect(app.ctx.calls.get(phone.sessionId)?.endReason).toBe('shutdown');
    await expect(fetch(`${url}/api/config/call`)).rejects.toThrow();
    const again = setup().adapter;
    const s2 = runDesktop(again, { ...opts });
    await s2.ready;
    expect(again.windows[0].opts.bounds).toMatchObject({ width: 900, height: 700 });
    await quit(again, s2);
  });

  it('offers another port when the configured one is taken, and quits when declined', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const taken = (blocker.address() as net.AddressInfo).port;
    const { adapter, opts } = setup({ port: taken });
    adapter.choiceAnswer = 0;
    const shell = runDesktop(adapter, opts);
    expect(await shell.ready).toBe('running');
    expect(adapter.choices[0].title).toBe('Port already in use');
    expect(adapter.choices[0].buttons[0]).toBe(`Use port ${taken + 1}`);
    expect(shell.app!.url).toBe(`http://127.0.0.1:${taken + 1}`);
    await quit(adapter, shell);

    const declined = setup({ port: taken });
    declined.adapter.choiceAnswer = 1;
    const s2 = runDesktop(declined.adapter, declined.opts);
    expect(await s2.ready).toBe('quit');
    expect(declined.adapter.windows).toHaveLength(0);
  });

  it('permission policy allows only the microphone and notifications from the console origin', () => {
    expect(permissionAllowed('media', 'http://127.0.0.1:8996/', 'http://127.0.0.1:8996')).toBe(true);
    expect(permissionAllowed('notifications', 'http://127.0.0.1:8996', 'http://127.0.0.1:8996')).toBe(true);
    expect(permissionAllowed('clipboard-read', 'http://127.0.0.1:8996', 'http://127.0.0.1:8996')).toBe(false);
    expect(permissionAllowed('media', 'http://localhost:9999', 'http://127.0.0.1:8996')).toBe(false);
  });
});
