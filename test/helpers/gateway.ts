/** Start a real app (composition root) on 127.0.0.1 port 0 in a temp data dir, with instant engines. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createApp, type App, type AppOptions } from '../../src-main/app';
import { NoPhoneBridge } from '../../src-main/phone/call-control';
import type { EventEnvelope } from '../../src-shared/protocol/events';
import { createInstantEngines, type InstantEngines } from './instant-engines';

export interface TestGateway {
  app: App;
  url: string;
  dataDir: string;
  bearer: string;
  operatorToken: string;
  engines: InstantEngines;
  close(): Promise<void>;
}

export async function startGateway(opts: { config?: Record<string, unknown>; app?: Partial<AppOptions>; engines?: InstantEngines } = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cf-gw-'));
  const config = { bearer_token: 'test-bearer-0123456789', port: 0, ...opts.config };
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify(config));
  const engines = opts.engines ?? createInstantEngines();
  const app = await createApp({ dataDir, logToConsole: false, engines: engines.providers, consoleDir: join(dataDir, 'no-console'), env: {}, phone: new NoPhoneBridge(), ...opts.app });
  const url = await app.start();
  return {
    app, url, dataDir, bearer: String(config.bearer_token), operatorToken: app.ctx.operatorToken(), engines,
    async close() {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A /ws/events subscriber that records every envelope. */
export async function eventStream(url: string, headers: Record<string, string> = {}): Promise<{ events: EventEnvelope[]; ws: WebSocket; waitFor: (pred: (e: EventEnvelope) => boolean, timeoutMs?: number) => Promise<EventEnvelope>; close: () => void }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws/events', { headers });
  const events: EventEnvelope[] = [];
  const waiters: { pred: (e: EventEnvelope) => boolean; resolve: (e: EventEnvelope) => void }[] = [];
  ws.on('message', (raw) => {
    const e = JSON.parse(raw.toString()) as EventEnvelope;
    events.push(e);
    for (const w of [...waiters]) if (w.pred(e)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    events, ws,
    waitFor: (pred, timeoutMs = 10_000) => {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timed out waiting for event')), timeoutMs);
        waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
      });
    },
    close: () => ws.close(),
  };
}
