import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerHistoryRoutes } from '../../src-main/gateway/routes/history';
import type { CallStore } from '../../src-main/store';
import { call, ended, openStore, tempDir, turn } from './helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function serve(store: CallStore): Promise<(path: string) => Promise<{ status: number; body: any }>> {
  const app: FastifyInstance = Fastify();
  registerHistoryRoutes(app, store);
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return async (path) => {
    const r = await fetch(base + path);
    return { status: r.status, body: await r.json() };
  };
}

function dataDir(): string {
  const t = tempDir('history-ids-');
  cleanups.push(t.cleanup);
  return join(t.dir, 'data');
}

describe('session ids and call ids', () => {
  it('GET /api/sessions lists a reused session id once, with its latest call', async () => {
    const store = openStore(dataDir());
    cleanups.push(() => store.close());
    const first = call('reused', { started_at: 1_700_000_000 });
    store.callStarted(first);
    store.turnCompleted(first, turn('reused', 0));
    store.callEnded(ended(first));
    store.callStarted(call('other', { started_at: 1_700_000_100 }));
    // the phone app starts a new call with the same session id
    const second = call('reused', { started_at: 1_700_000_200 });
    store.callStarted(second);
    store.turnCompleted(second, turn('reused', 0, { started_at: 1_700_000_200, completed_at: 1_700_000_201, reply: 'second call reply' }));
    store.turnCompleted(second, turn('reused', 1, { started_at: 1_700_000_210, completed_at: 1_700_000_211 }));
    expect(store.listCalls().calls.filter((c) => c.session_id === 'reused')).toHaveLength(2);

    const get = await serve(store);
    const list = await get('/api/sessions');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      { session_id: 'reused', created_at: 1_700_000_200, turn_count: 2 },
      { session_id: 'other', created_at: 1_700_000_100, turn_count: 0 },
    ]);
    const s = await get('/api/sessions/reused');
    expect(s.body).toMatchObject({ session_id: 'reused', created_at: 1_700_000_200 });
    expect(s.body.turns[0].reply).toBe('second call reply');
  });

  it('a call whose session id is "export" gets another id and opens; the bulk export still works', async () => {
    const store = openStore(dataDir());
    cleanups.push(() => store.close());
    const c = call('export', { started_at: 1_700_000_000 });
    store.callStarted(c);
    store.turnCompleted(c, turn('export', 0, { reply: 'reply of the export call' }));
    store.callEnded(ended(c));
    const [item] = store.listCalls().calls;
    expect(item.session_id).toBe('export');
    expect(item.id).toMatch(/^export-[0-9a-f]{8}$/);

    const get = await serve(store);
    const one = await get(`/api/calls/${item.id}`);
    expect(one.status).toBe(200);
    expect(one.body.turns[0].reply).toBe('reply of the export call');
    const bulk = await get('/api/calls/export');
    expect(bulk.status).toBe(200);
    expect(bulk.body.calls.map((d: { call: { id: string } }) => d.call.id)).toEqual([item.id]);
    expect((await get('/api/sessions/export')).body.turns[0].reply).toBe('reply of the export call');
  });

  it('a call an older version stored under the id "export" is renamed at open, keeping its turns', async () => {
    const dir = dataDir();
    let store = openStore(dir);
    const c = call('legacy', { started_at: 1_700_000_000 });
    store.callStarted(c);
    store.turnCompleted(c, turn('legacy', 0, { reply: 'legacy reply' }));
    store.callEnded(ended(c));
    store.close();
    const db = new Database(join(dir, 'history.sqlite'));
    db.prepare("UPDATE calls SET id = 'export' WHERE id = 'legacy'").run();
    db.close();

    store = openStore(dir);
    cleanups.push(() => store.close());
    expect(store.getCall('export')).toBeNull();
    const [item] = store.listCalls().calls;
    expect(item.id).toMatch(/^export-[0-9a-f]{8}$/);
    const get = await serve(store);
    expect((await get(`/api/calls/${item.id}`)).body.turns[0].reply).toBe('legacy reply');
  });
});
