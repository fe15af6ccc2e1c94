import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CallStore } from '../../src-main/store';
import type { StoreSettings } from '../../src-main/store/types';
import { call, ended, noRetention, openStore, recordingFiles, tempDir, turn, wav } from './helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  vi.useRealTimers();
  while (cleanups.length) cleanups.pop()!();
});

function setup(settings: StoreSettings = noRetention, now?: () => number, extra: Parameters<typeof openStore>[1] = {}) {
  const t = tempDir();
  const cfg = { ...settings };
  const s = openStore(t.dir, { settings: () => cfg, now, ...extra });
  cleanups.push(t.cleanup, () => s.close());
  return { s, dir: t.dir, cfg };
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** One ended call with one turn per [caller, reply] pair. */
function addCall(s: CallStore, id: string, pairs: [Uint8Array | undefined, Uint8Array | undefined][], startedAt = 1_700_000_000): void {
  const c = call(id, { started_at: startedAt });
  s.callStarted(c);
  pairs.forEach(([callerAudio, replyAudio], i) => s.turnCompleted(c, turn(id, i, { callerAudio, replyAudio })));
  s.callEnded(ended(c));
}

describe('store recordings', () => {
  it('stores caller and reply WAVs content-addressed next to the database', () => {
    const { s, dir } = setup();
    const caller = wav(440);
    const reply = wav(550, 300, 24000);
    addCall(s, 'r1', [[caller, reply]]);
    const t = s.getCall('r1')!.turns[0];
    expect(t.recordings).toEqual({ caller: { sha256: sha(caller), bytes: caller.length }, reply: { sha256: sha(reply), bytes: reply.length } });
    const path = join(dir, 'recordings', sha(caller).slice(0, 2), `${sha(caller)}.wav`);
    expect(readFileSync(path)).toEqual(Buffer.from(caller));
    // private to the user, like the database
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'recordings')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'history.sqlite')).mode & 0o777).toBe(0o600);
    const f = s.recordingFile('r1', 0, 'reply');
    expect(f.ok && readFileSync(f.path)).toEqual(Buffer.from(reply));
  });

  it('identical audio (a cached greeting) is stored once and shared', () => {
    const { s, dir } = setup();
    const greeting = wav(600);
    addCall(s, 'g1', [[undefined, greeting], [wav(301), wav(302)]]);
    addCall(s, 'g2', [[undefined, greeting]]);
    expect(recordingFiles(dir)).toHaveLength(3);
    expect(s.recordingStatus()).toMatchObject({ files: 3, bytes: greeting.length + wav(301).length + wav(302).length });
    expect(s.getCall('g2')!.turns[0].recordings.reply?.sha256).toBe(sha(greeting));
  });

  it('follows a live change of record_audio', () => {
    const { s, dir, cfg } = setup();
    const c = call('live');
    s.callStarted(c);
    s.turnCompleted(c, turn('live', 0, { callerAudio: wav(700), replyAudio: wav(701) }));
    cfg.record_audio = false;
    s.turnCompleted(c, turn('live', 1, { callerAudio: wav(702), replyAudio: wav(703) }));
    cfg.record_audio = true;
    s.turnCompleted(c, turn('live', 2, { callerAudio: wav(704) }));
    const turns = s.getCall('live')!.turns;
    expect(turns.map((t) => [!!t.recordings.caller, !!t.recordings.reply])).toEqual([[true, true], [false, false], [true, false]]);
    expect(recordingFiles(dir)).toHaveLength(3);
    expect(turns[1].transcript).toBe('caller says thing 1'); // the turn itself is kept
  });

  it('deleting a call deletes its audio but not audio another call shares', () => {
    const { s, dir } = setup();
    const shared = wav(800);
    const own = wav(801);
    addCall(s, 'd1', [[own, shared]]);
    addCall(s, 'd2', [[undefined, shared]]);
    expect(s.deleteCall('d1')).toBe('deleted');
    expect(s.getCall('d1')).toBeNull();
    expect(recordingFiles(dir)).toEqual([`${sha(shared)}.wav`]);
    expect(s.recordingStatus().files).toBe(1);
    expect(s.deleteCall('d2')).toBe('deleted');
    expect(recordingFiles(dir)).toEqual([]);
    expect(s.deleteCall('d2')).toBe('not_found');
    // a call in progress is not deleted
    s.callStarted(call('busy'));
    expect(s.deleteCall('busy')).toBe('active');
  });

  it('retention by age deletes exactly the recordings unused for longer than the limit', () => {
    let now = 1_700_000_000;
    const { s, dir, cfg } = setup(noRetention, () => now);
    const day = 86_400;
    const greeting = wav(900);
    const oldCaller = wav(901);
    addCall(s, 'old', [[oldCaller, greeting]]);
    now += 10 * day;
    const midCaller = wav(902);
    addCall(s, 'mid', [[midCaller, undefined]]);
    now += 10 * day;
    const newCaller = wav(903);
    addCall(s, 'new', [[newCaller, greeting]]); // the greeting is used again: it is fresh
    now += 5 * day;

    cfg.recording_max_age_days = 30;
    expect(s.applyRetention()).toEqual({ deleted_files: 0, freed_bytes: 0 });
    cfg.recording_max_age_days = 21; // 'old' (25 days) goes; 'mid' (15 days) and the reused greeting stay
    expect(s.applyRetention()).toEqual({ deleted_files: 1, freed_bytes: oldCaller.length });
    expect(recordingFiles(dir)).toEqual([greeting, midCaller, newCaller].map((b) => `${sha(b)}.wav`).sort());
    const old = s.getCall('old')!.turns[0];
    expect(old.recordings).toEqual({ caller: null, reply: { sha256: sha(greeting), bytes: greeting.length } });
    expect(old.transcript).toBe('caller says thing 0');
    expect(s.recordingFile('old', 0, 'caller')).toEqual({ ok: false, reason: 'recording' });
  });

  it('retention by disk size deletes the least recently used recordings until under the limit', () => {
    let now = 1_700_000_000;
    const { s, dir, cfg } = setup(noRetention, () => now);
    const files = Array.from({ length: 6 }, (_, i) => wav(1000 + i, 1000)); // ~32 KB each
    files.forEach((f, i) => {
      now += 60;
      addCall(s, `c${i}`, [[f, undefined]]);
    });
    const size = files[0].length;
    cfg.recording_max_disk_mb = (size * 3.5) / 1048576; // room for three and a half files
    const r = s.applyRetention();
    expect(r).toEqual({ deleted_files: 3, freed_bytes: 3 * size });
    expect(recordingFiles(dir)).toEqual(files.slice(3).map((b) => `${sha(b)}.wav`).sort());
    expect(s.recordingStatus().bytes).toBe(3 * size);
  });

  it('runs retention at open and on its own timer, which close() stops', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let now = 1_700_000_000;
    const t = tempDir();
    cleanups.push(t.cleanup);
    const cfg = { ...noRetention };
    const first = openStore(t.dir, { settings: () => cfg, now: () => now });
    addCall(first, 'a', [[wav(1100), undefined]]);
    first.close();
    now += 3 * 86_400;
    cfg.recording_max_age_days = 2;
    const s = openStore(t.dir, { settings: () => cfg, now: () => now, retentionIntervalMs: 60_000 });
    expect(recordingFiles(t.dir)).toEqual([]); // at open
    addCall(s, 'b', [[wav(1101), undefined]]);
    now += 3 * 86_400;
    vi.advanceTimersByTime(60_000);
    expect(recordingFiles(t.dir)).toEqual([]); // periodic
    addCall(s, 'c', [[wav(1102), undefined]]);
    now += 3 * 86_400;
    s.close();
    vi.advanceTimersByTime(600_000);
    expect(recordingFiles(t.dir)).toHaveLength(1); // no timer after close
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the kill switch deletes every recording and stops recording until resumed, across restarts', () => {
    const { s, dir } = setup();
    addCall(s, 'k1', [[wav(1200), wav(1201)], [wav(1202), wav(1203)]]);
    addCall(s, 'k2', [[wav(1204), undefined]]);
    // an orphan left by a crash goes too
    mkdirSync(join(dir, 'recordings', 'ab'), { recursive: true });
    writeFileSync(join(dir, 'recordings', 'ab', `${'ab'.repeat(32)}.wav`), 'x');
    const before = s.recordingStatus();
    const r = s.purgeRecordings();
    expect(r).toEqual({ deleted_files: 6, freed_bytes: before.bytes });
    expect(recordingFiles(dir)).toEqual([]);
    expect(s.recordingStatus()).toEqual({ record_audio: true, paused: true, recording: false, files: 0, bytes: 0 });
    for (const id of ['k1', 'k2']) for (const t of s.getCall(id)!.turns) expect(t.recordings).toEqual({ caller: null, reply: null });
    expect(s.getCall('k1')!.turns.map((t) => t.transcript)).toEqual(['caller says thing 0', 'caller says thing 1']);

    const c = call('after');
    s.callStarted(c);
    s.turnCompleted(c, turn('after', 0, { callerAudio: wav(1300) }));
    expect(recordingFiles(dir)).toEqual([]);
    s.close();

    const again = openStore(dir);
    expect(again.recordingStatus().paused).toBe(true);
    again.turnCompleted(c, turn('after', 1, { callerAudio: wav(1301) }));
    expect(recordingFiles(dir)).toEqual([]);
    again.resumeRecording();
    again.turnCompleted(c, turn('after', 2, { callerAudio: wav(1302) }));
    expect(recordingFiles(dir)).toEqual([`${sha(wav(1302))}.wav`]);
    again.close();
  });

  it('the orphan sweep removes unreferenced and temp files and keeps referenced ones', async () => {
    const { s, dir } = setup();
    const kept = wav(1400);
    addCall(s, 'o1', [[kept, undefined]]);
    const sub = join(dir, 'recordings', 'cd');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `${'cd'.repeat(32)}.wav`), 'orphan');
    writeFileSync(join(sub, `${'cd'.repeat(32)}.wav.123.abcd.tmp`), 'partial');
    writeFileSync(join(sub, 'notes.txt'), 'not ours'); // unknown names are left alone
    expect(await s.sweepOrphanRecordings()).toBe(2);
    expect(recordingFiles(dir)).toEqual([`${sha(kept)}.wav`, 'notes.txt'].sort());
  });

  it('a failed audio write drops only that recording; the turn is committed', () => {
    const errors: string[] = [];
    const { s, dir } = setup(noRetention, undefined, { onError: (_e, context) => errors.push(context) });
    // a file where the recordings folder should be makes every write fail
    writeFileSync(join(dir, 'recordings'), 'in the way');
    const c = call('wfail');
    s.callStarted(c);
    s.turnCompleted(c, turn('wfail', 0, { callerAudio: wav(1500), replyAudio: wav(1501) }));
    expect(errors).toEqual(['writing caller recording', 'writing reply recording']);
    const t = s.getCall('wfail')!.turns[0];
    expect(t.transcript).toBe('caller says thing 0');
    expect(t.recordings).toEqual({ caller: null, reply: null });
    expect(s.recordingStatus().files).toBe(0);
  });
});
