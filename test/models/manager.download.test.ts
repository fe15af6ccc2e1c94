import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, symlink, writeFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src-shared/protocol/events';
import { EventBus } from '../../src-main/events/bus';
import type { CatalogueEntry } from '../../src-main/models/catalogue';
import { ModelManager, ModelMissingError, ModelRequestError } from '../../src-main/models/manager';
import { writeLlamaGguf, writeWhisperModel } from '../helpers/model-writers';
import { makeFile, startFileServer, type FileServer, type ServedFile } from './file-server';

let server: FileServer;
let dir: string;
let bus: EventBus;
let events: EventEnvelope[];

beforeAll(async () => { server = await startFileServer(); });
afterAll(async () => { await server.close(); });
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cf-models-'));
  bus = new EventBus();
  events = [];
  bus.subscribe((e) => events.push(e));
  server.requests.length = 0;
});
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

function entry(id: string, name: string, f: ServedFile, kind: CatalogueEntry['kind'] = 'whisper'): CatalogueEntry {
  server.files.set(name, f);
  return { id, kind, title: `Test ${id}`, description: '', license: 'MIT', languages: ['en'], memoryMb: 1, files: [{ name, url: server.url(name), bytes: f.body.length, sha256: f.sha256 }] };
}

function manager(catalogue: CatalogueEntry[], over: Partial<ConstructorParameters<typeof ModelManager>[0]> = {}) {
  return new ModelManager({ dir: () => dir, bus, catalogue, retryDelayMs: 10, machine: () => ({ cores: 2, memoryMb: 8000 }), ...over });
}

const progress = () => events.filter((e) => e.type === 'model.download').map((e) => e.data as Record<string, unknown>);

describe('model manager downloads', () => {
  it('downloads with progress events, verifies the checksum and installs the file', async () => {
    const f = makeFile(3_000_000, { chunk: 100_000, pauseMs: 40 });
    const m = manager([entry('m1', 'model-a.bin', f)]);
    const started = await m.download('m1');
    expect(started.status).toMatch(/queued|downloading/);
    const done = await m.waitDone('m1');
    expect(done).toMatchObject({ status: 'done', bytes: 3_000_000, total: 3_000_000 });
    expect((await readFile(path.join(dir, 'model-a.bin'))).equals(f.body)).toBe(true);
    expect(await readdir(dir)).not.toContain('model-a.bin.part');
    const p = progress();
    const mid = p.filter((d) => d.status === 'downloading');
    expect(mid.length).toBeGreaterThan(1);
    for (let i = 1; i < mid.length; i++) expect(Number(mid[i].bytes)).toBeGreaterThanOrEqual(Number(mid[i - 1].bytes));
    expect(mid.some((d) => Number(d.rate_bps) > 0 && typeof d.eta_sec === 'number')).toBe(true);
    expect(p.at(-1)).toMatchObject({ id: 'm1', status: 'done' });
    const list = await m.list();
    expect(list.models[0]).toMatchObject({ id: 'm1', installed: true, verified: 'sha256' });
    expect((await m.resolve('whisper', 'm1')).path).toBe(path.join(dir, 'model-a.bin'));
  });

  it('resumes with an HTTP Range request after the server drops the connection', async () => {
    const f = makeFile(2_000_000, { dropAfter: 700_000, dropTimes: 2 });
    const m = manager([entry('m2', 'model-b.bin', f)]);
    await m.download('m2');
    const done = await m.waitDone('m2');
    expect(done?.status).toBe('done');
    expect((await readFile(path.join(dir, 'model-b.bin'))).equals(f.body)).toBe(true);
    const reqs = server.requests.filter((r) => r.name === 'model-b.bin');
    expect(reqs[0].range).toBeUndefined();
    expect(reqs.slice(1).map((r) => r.range)).toEqual(['bytes=700000-', 'bytes=1400000-']);
  });

  it('restarts from zero when the server ignores Range', async () => {
    const f = makeFile(1_000_000, { dropAfter: 300_000, dropTimes: 1, noRange: true });
    const m = manager([entry('m3', 'model-c.bin', f)]);
    await m.download('m3');
    expect((await m.waitDone('m3'))?.status).toBe('done');
    expect((await readFile(path.join(dir, 'model-c.bin'))).equals(f.body)).toBe(true);
  });

  it('refuses a file whose checksum does not match and keeps nothing of it', async () => {
    const f = makeFile(500_000, { corrupt: true });
    const m = manager([entry('m4', 'model-d.bin', f)]);
    await m.download('m4');
    const done = await m.waitDone('m4');
    expect(done?.status).toBe('error');
    expect(done?.error).toMatch(/checksum mismatch for model-d\.bin/);
    expect(await readdir(dir)).not.toContain('model-d.bin');
    expect(await readdir(dir)).not.toContain('model-d.bin.part');
    expect(progress().at(-1)).toMatchObject({ id: 'm4', status: 'error' });
    await expect(m.resolve('whisper', 'm4')).rejects.toThrow(/not downloaded/);
  });

  it('cancels a running download, keeps the partial file, and resumes it later', async () => {
    const f = makeFile(2_000_000, { chunk: 50_000, pauseMs: 20 });
    const m = manager([entry('m5', 'model-e.bin', f)]);
    await m.download('m5');
    await new Promise<void>((resolve) => { const off = bus.subscribe((e) => { if (Number(e.data.bytes) > 200_000) { off(); resolve(); } }); });
    const cancelled = await m.cancel('m5');
    expect(cancelled.status).toBe('cancelled');
    const part = await stat(path.join(dir, 'model-e.bin.part'));
    expect(part.size).toBeGreaterThan(0);
    expect(part.size).toBeLessThan(2_000_000);
    expect(await readdir(dir)).not.toContain('model-e.bin');
    await expect(m.resolve('whisper', 'm5')).rejects.toThrow(/not downloaded completely/);
    f.pauseMs = 0;
    await m.download('m5');
    expect((await m.waitDone('m5'))?.status).toBe('done');
    expect(server.requests.filter((r) => r.name === 'model-e.bin').at(-1)?.range).toBe(`bytes=${part.size}-`);
    expect((await readFile(path.join(dir, 'model-e.bin'))).equals(f.body)).toBe(true);
    await expect(m.cancel('m5')).rejects.toMatchObject({ status: 409 });
  });

  it('checks the free disk space before starting', async () => {
    const f = makeFile(400_000);
    const m = manager([entry('m6', 'model-f.bin', f)], { freeSpace: async () => 1_000 });
    const err = await m.download('m6').catch((e) => e);
    expect(err).toBeInstanceOf(ModelRequestError);
    expect(err.status).toBe(507);
    expect(err.message).toMatch(/not enough disk space/);
    expect(server.requests.filter((r) => r.name === 'model-f.bin')).toHaveLength(0);
    expect(progress().at(-1)).toMatchObject({ id: 'm6', status: 'error' });
  });

  // a .part file that is a link to /dev/full: every write fails with ENOSPC, as on a full disk
  it.skipIf(!existsSync('/dev/full'))('a disk that fills up during the download: a clear error, no installed file, and a retry works once there is room', async () => {
    const f = makeFile(600_000, { chunk: 50_000 });
    const m = manager([entry('m6b', 'model-full.bin', f)]);
    await symlink('/dev/full', path.join(dir, 'model-full.bin.part'));
    await m.download('m6b');
    const failed = await m.waitDone('m6b');
    expect(failed).toMatchObject({ status: 'error' });
    expect(String(failed?.error)).toMatch(/the disk is full \(.+\): free some space/);
    expect(progress().at(-1)).toMatchObject({ id: 'm6b', status: 'error' });
    expect(await readdir(dir)).not.toContain('model-full.bin');
    expect((await m.list()).models[0]).toMatchObject({ id: 'm6b', installed: false });
    // room again
    await rm(path.join(dir, 'model-full.bin.part'), { force: true });
    await m.download('m6b');
    expect(await m.waitDone('m6b')).toMatchObject({ status: 'done', bytes: 600_000 });
    expect((await readFile(path.join(dir, 'model-full.bin'))).equals(f.body)).toBe(true);
  });

  it('reports an HTTP error from the server', async () => {
    const f = makeFile(10_000, { status: 403 });
    const m = manager([entry('m7', 'model-g.bin', f)]);
    await m.download('m7');
    const done = await m.waitDone('m7');
    expect(done?.status).toBe('error');
    expect(done?.error).toMatch(/HTTP 403/);
  });

  it('verifies a catalogue file placed by hand before its first use', async () => {
    const f = makeFile(100_000);
    const m = manager([entry('m8', 'model-h.bin', f)]);
    const wrong = Buffer.from(f.body);
    wrong[10] ^= 0xff;
    await writeFile(path.join(dir, 'model-h.bin'), wrong);
    await expect(m.resolve('whisper', 'm8')).rejects.toThrow(/does not match its published checksum/);
    await writeFile(path.join(dir, 'model-h.bin'), f.body);
    expect((await m.resolve('whisper', 'm8')).id).toBe('m8');
    expect((await m.resolve('whisper', '')).id).toBe('m8');
  });

  it('says exactly what is missing when nothing is installed', async () => {
    const m = manager([entry('whisper-x', 'model-i.bin', makeFile(1000))]);
    const err = await m.resolve('whisper', '').catch((e) => e);
    expect(err).toBeInstanceOf(ModelMissingError);
    expect(err.message).toContain('no speech recognition (whisper) model is installed');
    expect(err.message).toContain('POST /api/models/whisper-x/download');
    expect(err.suggestedId).toBe('whisper-x');
  });

  it('imports a model file the user already has and deletes downloads', async () => {
    const m = manager([entry('m9', 'model-j.bin', makeFile(1000))]);
    const w = path.join(dir, 'my-whisper.bin');
    const g = path.join(dir, 'my-chat.gguf');
    await writeWhisperModel(w);
    await writeLlamaGguf(g);
    const iw = await m.importFile(w);
    const ig = await m.importFile(g);
    expect(iw).toMatchObject({ kind: 'whisper', path: w, name: 'my-whisper.bin' });
    expect(ig).toMatchObject({ kind: 'llm', path: g });
    expect((await m.resolve('llm', '')).path).toBe(g);
    expect((await m.resolve('whisper', iw.id)).path).toBe(w);
    await expect(m.resolve('llm', iw.id)).rejects.toThrow();
    const junk = path.join(dir, 'junk.bin');
    await writeFile(junk, 'hello world, not a model');
    await expect(m.importFile(junk)).rejects.toThrow(/not a model format we know/);
    await expect(m.importFile('relative/file.bin')).rejects.toThrow(/absolute/);
    await expect(m.importFile(path.join(dir, 'nope.gguf'))).rejects.toMatchObject({ status: 404 });
    await m.remove(ig.id);
    expect((await m.list()).imported.map((x) => x.id)).toEqual([iw.id]);
    await stat(g); // the user's own file is not deleted
    // a fresh manager reads the registry back
    const again = manager([entry('m9', 'model-j.bin', makeFile(1000))]);
    expect((await again.list()).imported.map((x) => x.path)).toEqual([w]);
  });

  it('removes a downloaded model and its partial file', async () => {
    const f = makeFile(200_000);
    const m = manager([entry('m10', 'model-k.bin', f)]);
    await m.download('m10');
    await m.waitDone('m10');
    await writeFile(path.join(dir, 'model-k.bin.part'), 'x');
    await m.remove('m10');
    expect(await readdir(dir)).not.toContain('model-k.bin');
    expect(await readdir(dir)).not.toContain('model-k.bin.part');
    await expect(m.remove('nope')).rejects.toMatchObject({ status: 404 });
  });
});
