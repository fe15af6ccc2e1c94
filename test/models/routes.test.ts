import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src-main/events/bus';
import { registerModelRoutes } from '../../src-main/gateway/routes/models';
import type { CatalogueEntry } from '../../src-main/models/catalogue';
import { ModelManager } from '../../src-main/models/manager';
import { writeLlamaGguf } from '../helpers/model-writers';
import { makeFile, startFileServer, type FileServer } from './file-server';

let app: FastifyInstance;
let base: string;
let server: FileServer;
let dir: string;
let manager: ModelManager;

beforeAll(async () => {
  server = await startFileServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'cf-model-routes-'));
  const f = makeFile(300_000, { chunk: 30_000, pauseMs: 30 });
  server.files.set('w.bin', f);
  const catalogue: CatalogueEntry[] = [
    { id: 'whisper-test', kind: 'whisper', title: 'Whisper test', description: 'd', license: 'MIT', languages: ['en'], memoryMb: 10, files: [{ name: 'w.bin', url: server.url('w.bin'), bytes: f.body.length, sha256: f.sha256 }] },
  ];
  manager = new ModelManager({ dir: () => dir, bus: new EventBus(), catalogue, machine: () => ({ cores: 2, memoryMb: 4096 }) });
  app = Fastify();
  registerModelRoutes(app, manager);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await manager.close();
  await app.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const req = async (method: string, url: string, body?: unknown) => {
  const r = await fetch(base + url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, any> };
};

describe('model routes', () => {
  it('lists the catalogue with install state, recommendations and disk use', async () => {
    const r = await req('GET', '/api/models');
    expect(r.status).toBe(200);
    expect(r.json.dir).toBe(path.resolve(dir));
    expect(r.json.machine).toEqual({ cores: 2, memory_mb: 4096 });
    expect(r.json.models[0]).toMatchObject({ id: 'whisper-test', kind: 'whisper', installed: false, verified: 'no', bytes: 300_000, license: 'MIT', download: null });
    expect(r.json.models[0].files[0]).toMatchObject({ name: 'w.bin', bytes: 300_000 });
    expect(typeof r.json.disk.free_bytes).toBe('number');
    expect(r.json.disk.used_by_models_bytes).toBe(0);
    expect(r.json.imported).toEqual([]);
  });

  it('downloads and cancels through the API', async () => {
    const start = await req('POST', '/api/models/whisper-test/download');
    expect(start.status).toBe(202);
    expect(start.json.download.id).toBe('whisper-test');
    const twice = await req('POST', '/api/models/whisper-test/download');
    expect(twice.status).toBe(202); // already running: same download
    const cancel = await req('POST', '/api/models/whisper-test/cancel');
    expect(cancel.status).toBe(200);
    expect(cancel.json.download.status).toBe('cancelled');
    expect((await req('POST', '/api/models/whisper-test/cancel')).status).toBe(409);
    await req('POST', '/api/models/whisper-test/download');
    await manager.waitDone('whisper-test');
    const list = await req('GET', '/api/models');
    expect(list.json.models[0]).toMatchObject({ installed: true, verified: 'sha256' });
    expect(list.json.disk.used_by_models_bytes).toBe(300_000);
    expect((await req('DELETE', '/api/models/whisper-test')).json).toEqual({ ok: true });
    expect(await readdir(dir)).not.toContain('w.bin');
  });

  it('imports a file the user has', async () => {
    const g = path.join(dir, 'mine.gguf');
    await writeLlamaGguf(g);
    const r = await req('POST', '/api/models/import', { path: g });
    expect(r.status).toBe(201);
    expect(r.json.model).toMatchObject({ kind: 'llm', path: g, name: 'mine.gguf' });
    expect((await req('GET', '/api/models')).json.imported).toHaveLength(1);
    expect((await req('DELETE', `/api/models/${r.json.model.id}`)).status).toBe(200);
  });

  it('answers bad input with {detail} and stays up', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/api/models/nope/download', undefined, 404, /unknown model 'nope'/],
      ['POST', '/api/models/..%2F..%2Fetc/download', undefined, 400, /invalid model id/],
      ['POST', '/api/models/nope/cancel', undefined, 404, /unknown model/],
      ['DELETE', '/api/models/nope', undefined, 404, /unknown model/],
      ['POST', '/api/models/import', {}, 400, /path/],
      ['POST', '/api/models/import', { path: 42 }, 400, /path/],
      ['POST', '/api/models/import', { path: '/x', extra: 1 }, 400, /invalid request/],
      ['POST', '/api/models/import', { path: 'relative.gguf' }, 400, /absolute/],
      ['POST', '/api/models/import', { path: path.join(dir, 'missing.gguf') }, 404, /not found/],
      ['POST', '/api/models/import', { path: dir }, 400, /not a regular file/],
    ];
    for (const [method, url, body, status, detail] of cases) {
      const r = await req(method, url, body);
      expect(r.status, `${method} ${url}`).toBe(status);
      expect(r.json.detail, `${method} ${url}`).toMatch(detail);
    }
    expect((await req('GET', '/api/models')).status).toBe(200);
  });
});
