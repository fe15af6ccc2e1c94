import { existsSync, readFileSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerHistoryRoutes } from '../../src-main/gateway/routes/history';
import type { CallStore } from '../../src-main/store';
import { call, ended, openStore, tempDir, turn, wav } from './helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function dataDir(): string {
  const t = tempDir('store-rec-durable-');
  cleanups.push(t.cleanup);
  return join(t.dir, 'data');
}

function track(s: CallStore): CallStore {
  cleanups.push(() => s.close());
  return s;
}

/** One call with three turns, each with its own caller audio; the store is closed afterwards. */
function recordCall(dir: string, audio: Uint8Array[]): { paths: string[] } {
  const s = openStore(dir, { durability: 'full' });
  const c = call('rec-call', { started_at: 1_700_000_000 });
  s.callStarted(c);
  audio.forEach((a, i) => s.turnCompleted(c, turn('rec-call', i, { callerAudio: a })));
  s.callEnded(ended(c));
  const paths = audio.map((_, i) => {
    const f = s.recordingFile('rec-call', i, 'caller');
    if (!f.ok) throw new Error(`no recording for turn ${i}`);
    return f.path;
  });
  s.close();
  return { paths };
}

describe('recording durability', () => {
  it('at open, marks recordings whose file was cut short or deleted behind the store as damaged; playback says so', async () => {
    const dir = dataDir();
    const audio = [wav(400), wav(410), wav(420)];
    const { paths } = recordCall(dir, audio);
    truncateSync(paths[0], 0); // a power cut before the OS wrote the file out
    unlinkSync(paths[1]);

    const s = track(openStore(dir));
    expect(await s.recordingsChecked).toEqual({ checked: 3, missing: 1, truncated: 1 });
    const d = s.getCall('rec-call')!;
    expect(d.turns.map((t) => t.recordings.caller?.damaged)).toEqual(['truncated', 'missing', undefined]);
    expect(d.turns[2].recordings.caller).toEqual({ sha256: expect.any(String), bytes: audio[2].length });
    expect(existsSync(paths[0])).toBe(false); // the useless empty file is gone
    expect(s.recordingStatus()).toMatchObject({ files: 1, bytes: audio[2].length });
    expect(d.turns[0].transcript).toBe('caller says thing 0'); // transcripts are untouched

    const app = Fastify();
    registerHistoryRoutes(app, s);
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const addr = app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const play = async (i: number): Promise<{ status: number; body: any }> => {
      const r = await fetch(`${base}/api/calls/rec-call/audio/${i}/caller`);
      return { status: r.status, body: r.status === 200 ? Buffer.from(await r.arrayBuffer()) : await r.json() };
    };
    const cut = await play(0);
    expect(cut.status).toBe(404);
    expect(cut.body.detail).toMatch(new RegExp(`caller recording of turn 0 is damaged: its file was cut short or changed \\(not the ${audio[0].length} bytes recorded\\)`));
    const gone = await play(1);
    expect(gone.status).toBe(404);
    expect(gone.body.detail).toMatch(/caller recording of turn 1 is damaged: its file was missing/);
    const ok = await play(2);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(Buffer.from(audio[2]));
    const detail = (await (await fetch(`${base}/api/calls/rec-call`)).json()) as any;
    expect(detail.turns[1].recordings.caller).toMatchObject({ damaged: 'missing', url: '/api/calls/rec-call/audio/1/caller' });

    // the same audio recorded again (e.g. a cached greeting) brings the file back
    const again = call('next-call', { started_at: 1_700_001_000 });
    s.callStarted(again);
    s.turnCompleted(again, turn('next-call', 0, { callerAudio: audio[0] }));
    expect(s.getCall('rec-call')!.turns[0].recordings.caller?.damaged).toBeUndefined();
    const repaired = await play(0);
    expect(repaired.status).toBe(200);
    expect(repaired.body).toEqual(Buffer.from(audio[0]));

    // a second open finds nothing new to mark
    s.close();
    const s2 = track(openStore(dir));
    expect(await s2.recordingsChecked).toEqual({ checked: 2, missing: 0, truncated: 0 });
    expect(s2.getCall('rec-call')!.turns[1].recordings.caller?.damaged).toBe('missing');
  });

  it('a file of the wrong size (grown) counts as damaged too; intact files are left alone', async () => {
    const dir = dataDir();
    const audio = [wav(430), wav(440)];
    const { paths } = recordCall(dir, audio);
    const before = readFileSync(paths[1]);
    truncateSync(paths[0], audio[0].length + 100);
    const s = track(openStore(dir));
    expect(await s.recordingsChecked).toEqual({ checked: 2, missing: 0, truncated: 1 });
    expect(readFileSync(paths[1])).toEqual(before);
  });

  it("durability 'async' fsyncs each recording in the background before the WAL, and whenDurable waits for both", async () => {
    const dir = dataDir();
    const s = track(openStore(dir, { durability: 'async' }));
    await s.recordingsChecked;
    await s.whenDurable();
    const files0 = s.backgroundFileSyncs;
    const wal0 = s.backgroundSyncs;
    const c = call('async-call');
    s.callStarted(c);
    s.turnCompleted(c, turn('async-call', 0, { callerAudio: wav(450), replyAudio: wav(460) }));
    // nothing was synced on the event loop: the turn returned first
    expect(s.backgroundFileSyncs).toBe(files0);
    await s.whenDurable();
    expect(s.backgroundFileSyncs - files0).toBeGreaterThanOrEqual(1);
    expect(s.backgroundSyncs - wal0).toBeGreaterThanOrEqual(1);
    const f = s.recordingFile('async-call', 0, 'reply');
    expect(f.ok && statSync(f.path).size).toBe(wav(460).length);

    // many turns in a row coalesce into few batches
    const before = s.backgroundFileSyncs;
    for (let i = 1; i <= 20; i++) s.turnCompleted(c, turn('async-call', i, { callerAudio: wav(500 + i) }));
    await s.whenDurable();
    const batches = s.backgroundFileSyncs - before;
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThan(20);
  });

  it("durability 'full' and 'normal' write playable recordings without background syncs", async () => {
    for (const durability of ['full', 'normal'] as const) {
      const s = track(openStore(dataDir(), { durability }));
      const c = call(`${durability}-call`);
      s.callStarted(c);
      s.turnCompleted(c, turn(`${durability}-call`, 0, { callerAudio: wav(470) }));
      await s.whenDurable();
      expect(s.backgroundFileSyncs).toBe(0);
      const f = s.recordingFile(`${durability}-call`, 0, 'caller');
      expect(f.ok && readFileSync(f.path)).toEqual(Buffer.from(wav(470)));
    }
  });
});
