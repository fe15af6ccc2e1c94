/**
 * Background recording writes (recordingWrites 'background', what the app uses): a turn's WAVs are
 * written by the writer thread and the turn is committed once they are in place. Real SQLite
 * files, the real writer thread, real files.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerHistoryRoutes } from '../../src-main/gateway/routes/history';
import type { CallStore, CallStoreOptions } from '../../src-main/store';
import { RecordingFiles } from '../../src-main/store/recording-files';
import { RecordingWriter } from '../../src-main/store/recording-writer';
import type { StoreSettings } from '../../src-main/store/types';
import { call, ended, noRetention, openStore, recordingFiles, tempDir, turn, wav } from './helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length) await cleanups.pop()!();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Setup {
  s: CallStore;
  dir: string;
  cfg: StoreSettings;
  errors: { context: string; message: string }[];
}

function setup(extra: CallStoreOptions = {}, dir?: string): Setup {
  if (!dir) {
    const t = tempDir('store-async-');
    cleanups.push(t.cleanup);
    dir = t.dir;
  }
  const cfg = { ...noRetention };
  const errors: Setup['errors'] = [];
  const s = openStore(dir, {
    recordingWrites: 'background',
    settings: () => cfg,
    onError: (e, context) => void errors.push({ context, message: (e as Error).message }),
    ...extra,
  });
  cleanups.push(() => s.close());
  return { s, dir, cfg, errors };
}


/**
 * Hold background writes at a gate: 'before' the writer thread gets them (nothing on disk yet), or
 * 'after' the file is in place but before the store hears of it. `only`: hold just these audios.
 */
function holdWrites(when: 'before' | 'after', only?: Uint8Array[]): { release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  cleanups.push(() => release()); // a failed test must not leave close() waiting
  const held = only ? new Set(only.map(sha)) : null;
  const original = RecordingFiles.prototype.writeAsync;
  vi.spyOn(RecordingFiles.prototype, 'writeAsync').mockImplementation(async function (this: RecordingFiles, ...args: Parameters<RecordingFiles['writeAsync']>) {
    if (held && !held.has(args[0])) return original.apply(this, args);
    if (when === 'before') await gate;
    const r = await original.apply(this, args);
    if (when === 'after') await gate;
    return r;
  });
  return { release };
}

const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms));

function fileOf(dir: string, audio: Uint8Array): string {
  const h = sha(audio);
  return join(dir, 'recordings', h.slice(0, 2), `${h}.wav`);
}

describe('background recording writes', () => {
  it('commits a turn once its recordings are written: the promise turnCompleted returns resolves after the commit', async () => {
    const { s, dir, errors } = setup();
    const c = call('bg1');
    s.callStarted(c);
    const caller = wav(440);
    const reply = wav(550, 300, 24000);
    const done = s.turnCompleted(c, turn('bg1', 0, { callerAudio: caller, replyAudio: reply }));
    expect(done).toBeInstanceOf(Promise);
    // not on the event loop: nothing is committed yet
    expect(s.getCall('bg1')!.turns).toEqual([]);
    expect(s.queuedSteps).toBe(1);
    await done;
    expect(s.queuedSteps).toBe(0);
    const t = s.getCall('bg1')!.turns[0];
    expect(t.recordings).toEqual({ caller: { sha256: sha(caller), bytes: caller.length }, reply: { sha256: sha(reply), bytes: reply.length } });
    expect(readFileSync(fileOf(dir, caller))).toEqual(Buffer.from(caller));
    expect(readFileSync(fileOf(dir, reply))).toEqual(Buffer.from(reply));
    expect(recordingFiles(dir)).toEqual([`${sha(caller)}.wav`, `${sha(reply)}.wav`].sort()); // no temp files left
    expect(errors).toEqual([]);
  });

  it('a turn without audio to write (recording off, or audio already recorded) commits at once', async () => {
    const { s, cfg } = setup();
    const c = call('bg-now');
    s.callStarted(c);
    const greeting = wav(600);
    await s.turnCompleted(c, turn('bg-now', 0, { replyAudio: greeting }));
    // the same greeting again: already recorded
    expect(s.turnCompleted(c, turn('bg-now', 1, { replyAudio: greeting }))).toBeUndefined();
    cfg.record_audio = false;
    expect(s.turnCompleted(c, turn('bg-now', 2, { callerAudio: wav(601) }))).toBeUndefined();
    expect(s.getCall('bg-now')!.turns.map((t) => !!t.recordings.reply)).toEqual([true, true, false]);
  });

  it('callEnded right after turnCompleted still stores the turn with its recordings, and ends the call after it', async () => {
    const { s, dir, errors } = setup();
    const c = call('bg-end');
    s.callStarted(c);
    const caller = wav(700);
    void s.turnCompleted(c, turn('bg-end', 0, { callerAudio: caller, replyAudio: wav(701) }));
    s.callEvent(c, 'turn.error', { error: 'after the turn' });
    s.callUpdated({ ...c, authenticated: true });
    s.callEnded(ended(c, 'hangup'));
    // queued behind the turn, in the order they arrived
    expect(s.queuedSteps).toBe(4);
    expect(s.getCall('bg-end')!.call.ended_at).toBeNull();
    await s.settled();
    const d = s.getCall('bg-end')!;
    expect(d.call).toMatchObject({ state: 'ended', end_reason: 'hangup', outcome: 'completed', turn_count: 1, authenticated: true });
    expect(d.turns[0].recordings.caller).toEqual({ sha256: sha(caller), bytes: caller.length });
    expect(d.events.map((e) => e.type)).toEqual(['turn.error']);
    expect(existsSync(fileOf(dir, caller))).toBe(true);
    expect(errors).toEqual([]);
  });

  it('a turn still being written when its call ends and a new call starts on the same session id lands in the old call', async () => {
    const { s } = setup();
    const first = call('reused', { started_at: 1_700_000_000 });
    s.callStarted(first);
    void s.turnCompleted(first, turn('reused', 0, { callerAudio: wav(710), reply: 'to the first call' }));
    s.callEnded(ended(first, 'new_call'));
    const second = call('reused', { started_at: 1_700_000_100 });
    s.callStarted(second);
    void s.turnCompleted(second, turn('reused', 0, { callerAudio: wav(711), reply: 'to the second call' }));
    await s.settled();
    const calls = s.listCalls().calls;
    expect(calls).toHaveLength(2);
    const byStart = new Map(calls.map((x) => [x.started_at, s.getCall(x.id)!]));
    expect(byStart.get(1_700_000_000)!.turns.map((t) => t.reply)).toEqual(['to the first call']);
    expect(byStart.get(1_700_000_000)!.call).toMatchObject({ end_reason: 'new_call', outcome: 'completed' });
    expect(byStart.get(1_700_000_100)!.turns.map((t) => t.reply)).toEqual(['to the second call']);
    expect(byStart.get(1_700_000_100)!.call.ended_at).toBeNull();
  });

  it('a barge-in reported while the turn is still being written marks that turn', async () => {
    const { s } = setup();
    const c = call('bg-barge');
    s.callStarted(c);
    void s.turnCompleted(c, turn('bg-barge', 0, { reply: 'A long answer the caller cut short.', callerAudio: wav(720), replyAudio: wav(721) }));
    s.replyInterrupted(c, { reply: 'A long answer the caller cut short.', heard_text: 'A long answer', played_ms: 900, total_ms: 3000 });
    await s.settled();
    expect(s.getCall('bg-barge')!.turns[0].reply_heard).toBe('A long answer');
  });

  it('steps of other calls are not held up by a turn being written', () => {
    const { s } = setup();
    const a = call('bg-a');
    const b = call('bg-b');
    s.callStarted(a);
    s.callStarted(b);
    void s.turnCompleted(a, turn('bg-a', 0, { callerAudio: wav(730) }));
    s.turnCompleted(b, turn('bg-b', 0));
    s.callEnded(ended(b));
    expect(s.getCall('bg-b')!.call).toMatchObject({ state: 'ended', turn_count: 1 });
    expect(s.queuedSteps).toBe(1);
  });

  it('the same audio in two concurrent turns is written once, and both turns name it', async () => {
    const { s, dir, errors } = setup();
    const writes = vi.spyOn(RecordingFiles.prototype, 'writeAsync');
    const shared = wav(800);
    const c1 = call('dup-1');
    const c2 = call('dup-2');
    s.callStarted(c1);
    s.callStarted(c2);
    // caller and reply of one turn the same bytes, and a second call's turn with them too
    const p1 = s.turnCompleted(c1, turn('dup-1', 0, { callerAudio: shared, replyAudio: shared }));
    const p2 = s.turnCompleted(c2, turn('dup-2', 0, { callerAudio: shared }));
    expect(p1).toBeInstanceOf(Promise);
    expect(p2).toBeInstanceOf(Promise);
    await Promise.all([p1, p2]);
    expect(writes.mock.calls.filter((args) => args[0] === sha(shared))).toHaveLength(1);
    expect(recordingFiles(dir)).toEqual([`${sha(shared)}.wav`]);
    for (const id of ['dup-1', 'dup-2']) expect(s.getCall(id)!.turns[0].recordings.caller?.sha256).toBe(sha(shared));
    expect(s.getCall('dup-1')!.turns[0].recordings.reply?.sha256).toBe(sha(shared));
    expect(s.recordingStatus()).toMatchObject({ files: 1, bytes: shared.length });
    expect(errors).toEqual([]);
  });

  it('uses the caller audio hash the pipeline computed (the ASR cache key) instead of hashing again', async () => {
    const { s } = setup();
    const audio = wav(810);
    const c = call('given-sha');
    s.callStarted(c);
    await s.turnCompleted(c, turn('given-sha', 0, { callerAudio: audio, callerAudioSha256: sha(audio) }));
    expect(s.getCall('given-sha')!.turns[0].recordings.caller?.sha256).toBe(sha(audio));
    // a malformed one is not trusted: the store hashes
    await s.turnCompleted(c, turn('given-sha', 1, { callerAudio: wav(811), callerAudioSha256: 'not-a-sha' }));
    expect(s.getCall('given-sha')!.turns[1].recordings.caller?.sha256).toBe(sha(wav(811)));
  });

  it('a failed write (no recordings folder can be made) still commits the turn without its recordings, reported as today', async () => {
    const { s, dir, errors } = setup();
    // a file where the recordings folder should be makes every write fail (permissions would not stop root)
    writeFileSync(join(dir, 'recordings'), 'in the way');
    const c = call('wfail');
    s.callStarted(c);
    await s.turnCompleted(c, turn('wfail', 0, { callerAudio: wav(900), replyAudio: wav(901) }));
    expect(errors.map((e) => e.context)).toEqual(['writing caller recording', 'writing reply recording']);
    const t = s.getCall('wfail')!.turns[0];
    expect(t.transcript).toBe('caller says thing 0');
    expect(t.recordings).toEqual({ caller: null, reply: null });
    expect(s.recordingStatus().files).toBe(0);
  });

  it('a failed write drops only that recording: the other file of the turn is kept', async () => {
    const { s, dir, errors } = setup();
    const caller = wav(910);
    let reply = wav(911);
    for (let f = 912; sha(reply).slice(0, 2) === sha(caller).slice(0, 2); f++) reply = wav(f);
    // the reply's sub-folder cannot be made
    mkdirSync(join(dir, 'recordings'), { recursive: true });
    writeFileSync(join(dir, 'recordings', sha(reply).slice(0, 2)), 'in the way');
    const c = call('wfail-one');
    s.callStarted(c);
    await s.turnCompleted(c, turn('wfail-one', 0, { callerAudio: caller, replyAudio: reply }));
    expect(errors.map((e) => e.context)).toEqual(['writing reply recording']);
    expect(s.getCall('wfail-one')!.turns[0].recordings).toEqual({ caller: { sha256: sha(caller), bytes: caller.length }, reply: null });
    expect(readFileSync(fileOf(dir, caller))).toEqual(Buffer.from(caller));
  });

  it('the kill switch during an in-flight write: the turn is committed without recordings and no file is left', async () => {
    const { s, dir, errors } = setup();
    const c = call('purge');
    s.callStarted(c);
    const greeting = wav(1000);
    await s.turnCompleted(c, turn('purge', 0, { replyAudio: greeting }));
    const slow = wav(1001);
    const gate = holdWrites('before', [slow]);
    // in flight: new caller audio being written; queued behind it: a turn whose audio is already on
    // disk, and one whose new audio lands (on disk, not yet committed) while it waits
    const p1 = s.turnCompleted(c, turn('purge', 1, { callerAudio: slow, replyAudio: wav(1002) }));
    const p2 = s.turnCompleted(c, turn('purge', 2, { replyAudio: greeting }));
    const landed = wav(1003);
    const p3 = s.turnCompleted(c, turn('purge', 3, { callerAudio: landed }));
    for (let i = 0; i < 100 && !existsSync(fileOf(dir, landed)); i++) await tick(10);
    expect(existsSync(fileOf(dir, landed))).toBe(true);
    expect(s.queuedSteps).toBe(3);
    s.purgeRecordings();
    gate.release();
    await Promise.all([p1, p2, p3]);
    await s.whenDurable(); // the writes in flight have landed (and were unlinked)
    const turns = s.getCall('purge')!.turns;
    expect(turns.map((t) => t.index)).toEqual([0, 1, 2, 3]);
    for (const t of turns) expect(t.recordings).toEqual({ caller: null, reply: null });
    expect(recordingFiles(dir)).toEqual([]);
    expect(s.recordingStatus()).toMatchObject({ paused: true, files: 0 });
    expect(errors).toEqual([]);
    // resumed: recording works again, the sub-folders are made again
    s.resumeRecording();
    await s.turnCompleted(c, turn('purge', 4, { callerAudio: wav(1001) }));
    expect(recordingFiles(dir)).toEqual([`${sha(wav(1001))}.wav`]);
  });

  it('retention deleting audio a queued turn reuses: the turn writes it again, so its row never points at a deleted file', async () => {
    let now = 1_700_000_000;
    const { s, dir, cfg, errors } = setup({ now: () => now });
    const greeting = wav(1100);
    const old = call('ret-old');
    s.callStarted(old);
    await s.turnCompleted(old, turn('ret-old', 0, { replyAudio: greeting }));
    s.callEnded(ended(old));
    now += 10 * 86_400;
    const c = call('ret-new', { started_at: now });
    s.callStarted(c);
    const p1 = s.turnCompleted(c, turn('ret-new', 0, { callerAudio: wav(1101) })); // being written
    const p2 = s.turnCompleted(c, turn('ret-new', 1, { replyAudio: greeting })); // the greeting is on disk: ready, queued behind
    cfg.recording_max_age_days = 5;
    expect(s.applyRetention()).toMatchObject({ deleted_files: 1 }); // the greeting, unused for 10 days
    await Promise.all([p1, p2]);
    const f = s.recordingFile('ret-new', 1, 'reply');
    expect(f.ok).toBe(true);
    if (f.ok) expect(readFileSync(f.path)).toEqual(Buffer.from(greeting));
    expect(s.getCall('ret-old')!.turns[0].recordings.reply).toBeNull();
    expect(s.recordingStatus().files).toBe(2);
    await s.whenDurable();
    expect(recordingFiles(dir)).toEqual([greeting, wav(1101)].map((b) => `${sha(b)}.wav`).sort());
    expect(errors).toEqual([]);
  });

  it('deleting the call that owned audio a queued turn reuses: the turn writes it again', async () => {
    const { s, dir } = setup();
    const greeting = wav(1150);
    const old = call('del-old');
    s.callStarted(old);
    await s.turnCompleted(old, turn('del-old', 0, { replyAudio: greeting }));
    s.callEnded(ended(old));
    const c = call('del-new');
    s.callStarted(c);
    const p1 = s.turnCompleted(c, turn('del-new', 0, { callerAudio: wav(1151) }));
    const p2 = s.turnCompleted(c, turn('del-new', 1, { replyAudio: greeting }));
    expect(s.deleteCall('del-old')).toBe('deleted');
    await Promise.all([p1, p2]);
    const f = s.recordingFile('del-new', 1, 'reply');
    expect(f.ok && readFileSync(f.path)).toEqual(Buffer.from(greeting));
    await s.whenDurable();
    expect(recordingFiles(dir)).toEqual([greeting, wav(1151)].map((b) => `${sha(b)}.wav`).sort());
  });

  it('the orphan sweep leaves files of queued turns alone (written, not yet committed)', async () => {
    const { s, dir } = setup();
    const c = call('sweep');
    s.callStarted(c);
    const audio = [wav(1200), wav(1201), wav(1202)];
    const gate = holdWrites('after');
    const pending = audio.map((a, i) => s.turnCompleted(c, turn('sweep', i, { callerAudio: a })));
    for (let i = 0; i < 100 && !audio.every((a) => existsSync(fileOf(dir, a))); i++) await tick(10);
    expect(await s.sweepOrphanRecordings()).toBe(0); // on disk, no row yet
    gate.release();
    await Promise.all(pending);
    expect(await s.sweepOrphanRecordings()).toBe(0);
    for (let i = 0; i < audio.length; i++) {
      const f = s.recordingFile('sweep', i, 'caller');
      expect(f.ok && readFileSync(f.path)).toEqual(Buffer.from(audio[i]));
    }
  });

  it('the orphan sweep leaves a temp file being written alone', async () => {
    const { s, dir } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let tmp = '';
    const original = RecordingWriter.prototype.write;
    // the writer thread is mid-write: its temp file is there, not yet linked
    vi.spyOn(RecordingWriter.prototype, 'write').mockImplementation(async function (this: RecordingWriter, req) {
      tmp = req.tmp;
      mkdirSync(req.sub, { recursive: true });
      writeFileSync(req.tmp, 'partial');
      await gate;
      rmSync(req.tmp);
      return original.call(this, req);
    });
    const c = call('sweep-tmp');
    s.callStarted(c);
    const audio = wav(1250);
    const done = s.turnCompleted(c, turn('sweep-tmp', 0, { callerAudio: audio }));
    for (let i = 0; i < 100 && !tmp; i++) await tick(10);
    expect(await s.sweepOrphanRecordings()).toBe(0);
    expect(existsSync(tmp)).toBe(true);
    release();
    await done;
    expect(readFileSync(fileOf(dir, audio))).toEqual(Buffer.from(audio));
  });

  it('close() with writes in flight loses nothing: queued turns and call ends are committed, in order, with their recordings', async () => {
    const t = tempDir('store-async-close-');
    cleanups.push(t.cleanup);
    const { s, errors } = setup({}, t.dir);
    const sessions = ['close-a', 'close-b', 'close-c'];
    const audio = new Map<string, Uint8Array>();
    for (const [n, id] of sessions.entries()) {
      const c = call(id, { started_at: 1_700_000_000 + n });
      s.callStarted(c);
      for (let i = 0; i < 4; i++) {
        const a = wav(1300 + n * 10 + i);
        audio.set(`${id}#${i}`, a);
        void s.turnCompleted(c, turn(id, i, { callerAudio: a, replyAudio: wav(1400 + i) }));
      }
      s.callEnded(ended(c, 'shutdown'));
    }
    expect(s.queuedSteps).toBeGreaterThan(0);
    s.close(); // without waiting
    expect(errors).toEqual([]);

    const again = openStore(t.dir);
    cleanups.push(() => again.close());
    for (const id of sessions) {
      const d = again.getCall(id)!;
      expect(d.call).toMatchObject({ end_reason: 'shutdown', turn_count: 4 });
      for (const tr of d.turns) {
        const f = again.recordingFile(id, tr.index, 'caller');
        expect(f.ok && readFileSync(f.path)).toEqual(Buffer.from(audio.get(`${id}#${tr.index}`)!));
      }
    }
    expect(await again.recordingsChecked).toMatchObject({ missing: 0, truncated: 0 });
  });

  it('whenDurable() then close(), as the app stops, loses nothing and leaves no temp files', async () => {
    const t = tempDir('store-async-stop-');
    cleanups.push(t.cleanup);
    const { s } = setup({ durability: 'async' }, t.dir);
    const c = call('stop');
    s.callStarted(c);
    for (let i = 0; i < 10; i++) void s.turnCompleted(c, turn('stop', i, { callerAudio: wav(1500 + i), replyAudio: wav(1600 + i) }));
    s.callEnded(ended(c, 'shutdown'));
    await s.whenDurable();
    expect(s.queuedSteps).toBe(0);
    expect(s.backgroundFileSyncs).toBeGreaterThan(0);
    s.close();
    expect(recordingFiles(t.dir).every((n) => /^[0-9a-f]{64}\.wav$/.test(n))).toBe(true);
    expect(recordingFiles(t.dir)).toHaveLength(20);
    const again = openStore(t.dir);
    cleanups.push(() => again.close());
    expect(again.getCall('stop')!.turns.filter((x) => x.recordings.caller && x.recordings.reply)).toHaveLength(10);
    expect(again.getCall('stop')!.call.end_reason).toBe('shutdown');
  });

  it("durability 'full' in the background: files and folders synced by the writer, rows after them", async () => {
    const { s, dir } = setup({ durability: 'full' });
    const c = call('full');
    s.callStarted(c);
    const caller = wav(1700);
    await s.turnCompleted(c, turn('full', 0, { callerAudio: caller }));
    expect(s.backgroundFileSyncs).toBe(0);
    expect(readFileSync(fileOf(dir, caller))).toEqual(Buffer.from(caller));
  });

  it('a leftover file under the content name (a crash before its row) is replaced by the new write', async () => {
    const { s, dir } = setup();
    const audio = wav(1800);
    mkdirSync(join(dir, 'recordings', sha(audio).slice(0, 2)), { recursive: true });
    writeFileSync(fileOf(dir, audio), 'cut short');
    const c = call('leftover');
    s.callStarted(c);
    await s.turnCompleted(c, turn('leftover', 0, { callerAudio: audio }));
    expect(readFileSync(fileOf(dir, audio))).toEqual(Buffer.from(audio));
  });

  it('the history routes wait for turns still being written: a read right after the turn sees it and plays its audio', async () => {
    const { s } = setup();
    const app = Fastify({ forceCloseConnections: true });
    registerHistoryRoutes(app, s);
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const addr = app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

    const c = call('routes');
    s.callStarted(c);
    const caller = wav(1900);
    const gate = holdWrites('before');
    void s.turnCompleted(c, turn('routes', 0, { callerAudio: caller }));
    s.callEnded(ended(c));
    const answered: string[] = [];
    const reads = Promise.all([
      fetch(`${base}/api/calls/routes`).then((r) => (answered.push('detail'), r.json())),
      fetch(`${base}/api/calls/routes/audio/0/caller`).then((r) => (answered.push('audio'), r)),
      fetch(`${base}/api/calls`).then((r) => (answered.push('list'), r.json())),
    ]);
    await tick(100);
    expect(answered).toEqual([]); // waiting for the turn being written
    gate.release();
    const [detail, audio, list] = await reads;
    expect((detail as any).turns).toHaveLength(1);
    expect((detail as any).call).toMatchObject({ state: 'ended', outcome: 'completed' });
    expect(audio.status).toBe(200);
    expect(Buffer.from(await audio.arrayBuffer())).toEqual(Buffer.from(caller));
    expect((list as any).calls[0]).toMatchObject({ id: 'routes', turn_count: 1 });
  });
});
