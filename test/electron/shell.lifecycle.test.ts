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
import { createApp } from '../../src-main/app';
import type { IpcSender } from '../../src-main/electron/adapter';
import { encodeWav, type PcmAudio } from '../../src-shared/audio/wav';

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
    expect(w.opts.webPreferences).toEqual({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: true,
    });
    expect(w.navGuard!(url + '/app/calls')).toBe(true);
    expect(w.navGuard!('https://evil.example/')).toBe(false);
    expect(w.navGuard!('http://127.0.0.1:1/')).toBe(false);
    w.externalFn!('https://docs.example/help');
    w.externalFn!('file:///etc/passwd');
    expect(adapter.external).toEqual(['https://docs.example/help']);
    expect(adapter.headers['Content-Security-Policy']).toMatch(/default-src 'self'/);
    expect(adapter.permission!('media', url + '/', { mediaTypes: ['audio'] })).toBe(true);
    expect(adapter.permission!('media', url + '/', { mediaTypes: ['audio', 'video'] })).toBe(false);
    expect(adapter.permission!('geolocation', url + '/', {})).toBe(false);
    expect(adapter.permission!('media', 'https://evil.example/', { mediaTypes: ['audio'] })).toBe(false);
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
    expect(await adapter.invoke(IPC_CHANNELS.getToken)).toBe(shell.app!.ctx.operatorToken());
    await adapter.invoke(IPC_CHANNELS.notify, 'Caller waiting', 'Take over now');
    expect(adapter.notifications).toContainEqual(['Caller waiting', 'Take over now']);
    expect(() => adapter.invoke(IPC_CHANNELS.notify, { evil: true }, 1)).toThrow(/two short strings/);
    await adapter.invoke(IPC_CHANNELS.openDataFolder);
    expect(adapter.opened).toEqual([dataDir]);
    expect(await adapter.invoke(IPC_CHANNELS.pickFile, [{ name: 'APK', extensions: ['apk'] }])).toBe('/picked/file.apk');
    expect(() => adapter.invoke(IPC_CHANNELS.pickFile, [{ name: 'x', extensions: ['../../etc'] }])).toThrow();
    expect(() => adapter.invoke(IPC_CHANNELS.setNotifications, 'yes')).toThrow(/boolean/);
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
    // another program on the port: it reads what it is sent and never answers (the shell's probe gives up)
    const blocker = net.createServer((sock) => sock.resume());
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

  it('permission policy allows only the microphone (never the camera) and notifications from the console origin', () => {
    const c = 'http://127.0.0.1:8996';
    expect(permissionAllowed('media', 'http://127.0.0.1:8996/', c, { mediaTypes: ['audio'] })).toBe(true);
    expect(permissionAllowed('media', c, c, { mediaTypes: ['video'] })).toBe(false);
    expect(permissionAllowed('media', c, c, { mediaTypes: ['audio', 'video'] })).toBe(false);
    expect(permissionAllowed('media', c, c, {})).toBe(false);
    expect(permissionAllowed('notifications', c, c)).toBe(true);
    expect(permissionAllowed('clipboard-read', c, c)).toBe(false);
    expect(permissionAllowed('media', 'http://localhost:9999', c, { mediaTypes: ['audio'] })).toBe(false);
    // a longer port that merely starts with ours is another origin
    expect(permissionAllowed('media', 'http://127.0.0.1:89960/', c, { mediaTypes: ['audio'] })).toBe(false);
    expect(permissionAllowed('notifications', 'not a url', c)).toBe(false);
  });
});

describe('desktop shell: IPC senders, an already running gateway, macOS activate, mock calls, notifications', () => {
  it('answers IPC only from the main frame of its own console window (its gateway URL or file://)', async () => {
    const { adapter, opts } = setup();
    const shell = runDesktop(adapter, opts);
    await shell.ready;
    const w = adapter.windows[0];
    const url = shell.app!.url;
    const token = shell.app!.ctx.operatorToken();
    const from = (s: Partial<IpcSender>) => adapter.invokeFrom({ webContentsId: w.webContentsId, frameUrl: `${url}/`, isMainFrame: true, ...s }, IPC_CHANNELS.getToken);
    expect(await from({})).toBe(token);
    expect(await from({ frameUrl: `${url}/app/calls` })).toBe(token);
    expect(await from({ frameUrl: 'file:///app/out/renderer/index.html' })).toBe(token);
    for (const bad of [{ isMainFrame: false }, { webContentsId: w.webContentsId + 1000 }, { frameUrl: 'https://evil.example/' }, { frameUrl: 'http://127.0.0.1:1/' }, { frameUrl: '' }]) {
      expect(() => from(bad), JSON.stringify(bad)).toThrow(/refused: not from the console window/);
    }
    expect(() => adapter.invokeFrom({ webContentsId: w.webContentsId, frameUrl: 'https://evil.example/', isMainFrame: true }, IPC_CHANNELS.notify, 'x', 'y')).toThrow(/refused/);
    expect(adapter.notifications).toEqual([]);
    // a closed window answers nothing
    w.close();
    expect(() => from({})).toThrow(/refused/);
    await quit(adapter, shell);
  });

  it('when a Clawfinger gateway already runs on the port it opens that console and starts no second server', async () => {
    const { adapter, opts, dataDir } = setup();
    // `npm run serve` on the same data folder, already listening
    const serve = await createApp({ ...opts, dataDir, port: 0 });
    const serveUrl = await serve.start();
    cleanups.push(() => serve.stop());
    const port = Number(new URL(serveUrl).port);
    const shell = runDesktop(adapter, { ...opts, port });
    expect(await shell.ready).toBe('attached');
    expect(adapter.choices.map((c) => c.title)).toEqual(['Clawfinger is already running']);
    expect(adapter.choices[0].buttons[0]).toBe('Open its console');
    expect(shell.app).toBeNull();
    expect(adapter.windows[0].loaded).toEqual([`http://127.0.0.1:${port}`]);
    expect(await adapter.invoke(IPC_CHANNELS.getToken)).toBe(serve.ctx.operatorToken());
    // no server on the next port
    await expect(fetch(`http://127.0.0.1:${port + 1}/health`)).rejects.toThrow();
    expect(adapter.tray!.tooltip).toContain('already running');
    // quitting the window leaves the other gateway running
    adapter.quit();
    expect((await fetch(`${serveUrl}/api/status`)).status).toBe(200);
  });

  it('a port taken by another Clawfinger data folder (token not accepted) is treated as a foreign program', async () => {
    const other = setup();
    const serve = await createApp({ ...other.opts, port: 0 });
    const serveUrl = await serve.start();
    cleanups.push(() => serve.stop());
    const port = Number(new URL(serveUrl).port);
    const { adapter, opts } = setup();
    adapter.choiceAnswer = 1;
    const shell = runDesktop(adapter, { ...opts, port });
    expect(await shell.ready).toBe('quit');
    expect(adapter.choices[0].title).toBe('Port already in use');
  });

  it('macOS activate reopens a closed window (and only focuses an open one)', async () => {
    const { adapter, opts } = setup();
    const shell = runDesktop(adapter, opts);
    await shell.ready;
    adapter.fireActivate();
    expect(adapter.windows).toHaveLength(1);
    expect(adapter.windows[0].focused).toBe(1);
    adapter.windows[0].close();
    adapter.fireActivate();
    expect(adapter.windows).toHaveLength(2);
    expect(adapter.windows[1].loaded).toEqual([shell.app!.url]);
    await quit(adapter, shell);
  });

  it('closing the window stops a running mock call (microphone and speakers are released)', async () => {
    const { adapter, opts, dataDir } = setup();
    const shell = runDesktop(adapter, opts);
    await shell.ready;
    const url = shell.app!.url;
    const file = join(dataDir, 'silence.wav');
    writeFileSync(file, encodeWav({ sampleRate: 16000, samples: new Int16Array(16000 * 30) } as PcmAudio));
    const start = await fetch(`${url}/api/mock-call/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'file', path: file, sink: 'none', realtime: true }) });
    expect(start.status).toBe(200);
    const active = async () => ((await fetch(`${url}/api/mock-call`).then((r) => r.json())) as { active: unknown[] }).active.length;
    expect(await active()).toBe(1);
    adapter.windows[0].close();
    await expect.poll(active, { timeout: 10_000 }).toBe(0);
    // the gateway keeps running in the tray
    expect((await fetch(`${url}/api/status`)).status).toBe(200);
    await quit(adapter, shell);
  });

  it('the incoming-call notification follows the console setting, also after a restart', async () => {
    const { adapter, opts, dataDir } = setup();
    const shell = runDesktop(adapter, opts);
    await shell.ready;
    await adapter.invoke(IPC_CHANNELS.setNotifications, false);
    await new PhoneSim(shell.app!.url, 'shell-bearer').greeting('Hello');
    expect(adapter.notifications.filter(([t]) => t === 'Incoming call')).toEqual([]);
    await quit(adapter, shell);
    expect(JSON.parse(readFileSync(join(dataDir, 'desktop-prefs.json'), 'utf8'))).toEqual({ notifications: false });

    const again = new FakeAdapter();
    const s2 = runDesktop(again, opts);
    await s2.ready;
    await new PhoneSim(s2.app!.url, 'shell-bearer').greeting('Hello');
    expect(again.notifications.filter(([t]) => t === 'Incoming call')).toEqual([]);
    await again.invoke(IPC_CHANNELS.setNotifications, true);
    await new PhoneSim(s2.app!.url, 'shell-bearer').greeting('Hello again');
    expect(again.notifications.filter(([t]) => t === 'Incoming call')).toHaveLength(1);
    await quit(again, s2);
  });
});
