/**
 * The real app writes recordings off the event loop (CallStore recordingWrites 'background'): the
 * phone's answer does not wait for them, the turn is committed with its recordings once they are
 * written and the history API waits for that before it reads, stopping the app with turns in flight
 * loses none, and the caller audio is hashed once per request.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AsrCache } from '../../src-main/calls/asr-cache';
import type { CallSummary, TurnRecord } from '../../src-main/calls/types';
import { CallStore } from '../../src-main/store';
import { RecordingFiles } from '../../src-main/store/recording-files';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { PhoneSim, utterance } from '../helpers/phone-sim';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length) await cleanups.pop()!();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gateway(): Promise<TestGateway> {
  const gw = await startGateway();
  cleanups.push(() => gw.close());
  return gw;
}

/** Hold every recording write before the writer thread gets it, until released. */
function holdWrites(): { release: () => void; held: () => number } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  cleanups.push(() => release()); // a failed test must not leave the app's stop waiting
  let held = 0;
  const original = RecordingFiles.prototype.writeAsync;
  vi.spyOn(RecordingFiles.prototype, 'writeAsync').mockImplementation(async function (this: RecordingFiles, ...args: Parameters<RecordingFiles['writeAsync']>) {
    held++;
    await gate;
    return original.apply(this, args);
  });
  return { release, held: () => held };
}

/** What another process reading history.sqlite sees now (WAL: committed transactions only). */
function committedTurns(dataDir: string, sessionId: string): { idx: number; caller_sha: string | null; reply_sha: string | null }[] {
  const db = new Database(join(dataDir, 'history.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT t.idx, t.caller_sha, t.reply_sha FROM turns t JOIN calls c ON c.pk = t.call_pk WHERE c.session_id = ? ORDER BY t.idx')
      .all(sessionId) as { idx: number; caller_sha: string | null; reply_sha: string | null }[];
  } finally {
    db.close();
  }
}

describe('recordings written off the event loop, through the real app', () => {
  it('the phone gets its answer without waiting for the recording write; the turn is committed with its recordings once written, and the history API waits for it', async () => {
    const gw = await gateway();
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hello.');
    await fetch(`${gw.url}/api/calls/${phone.sessionId}`); // the greeting is committed (reads wait for it)
    const wav = utterance(2, 24000, 7);
    const gate = holdWrites();
    const r = await phone.say(wav); // answered while the writes are held
    expect(r.status).toBe(200);
    expect(r.reply).toBeTruthy();
    expect(gate.held()).toBeGreaterThan(0);
    expect(committedTurns(gw.dataDir, phone.sessionId).map((t) => t.idx)).toEqual([0]); // only the greeting so far
    // a history read waits for what is queued: it answers once the turn is committed, and shows it
    let read = false;
    const detail = fetch(`${gw.url}/api/calls/${phone.sessionId}`).then(async (res) => ((read = true), (await res.json()) as { turns: { transcript: string; recordings: { caller: unknown; reply: unknown } }[] }));
    await tick(150);
    expect(read).toBe(false);
    gate.release();
    const d = await detail;
    expect(d.turns).toHaveLength(2);
    const turns = committedTurns(gw.dataDir, phone.sessionId);
    expect(turns.map((t) => t.idx)).toEqual([0, 1]);
    expect(turns[1].caller_sha).toBe(sha(wav));
    const file = join(gw.dataDir, 'recordings', sha(wav).slice(0, 2), `${sha(wav)}.wav`);
    expect(readFileSync(file)).toEqual(Buffer.from(wav));
    expect(turns[1].reply_sha && existsSync(join(gw.dataDir, 'recordings', turns[1].reply_sha.slice(0, 2), `${turns[1].reply_sha}.wav`))).toBe(true);
  });

  it('stopping the app with recordings still being written loses no turn: each is stored with its recordings, calls end after them', async () => {
    const gw = await startGateway();
    cleanups.push(() => rmSync(gw.dataDir, { recursive: true, force: true }));
    let reported = 0;
    gw.app.ctx.calls.addObserver({ turnCompleted: (_c: CallSummary, t: TurnRecord) => void (t.index === 1 && reported++) });
    const phones = Array.from({ length: 4 }, (_, i) => {
      const p = new PhoneSim(gw.url, gw.bearer, `+4917012345${i}0`);
      p.localAddress = `127.0.0.${2 + i}`; // four phones (one address is one phone)
      return p;
    });
    for (const p of phones) await p.greeting('Hello.');
    const audio = phones.map((_, i) => utterance(2, 24000, 20 + i));
    const gate = holdWrites();
    // the server cuts connections at stop (forceCloseConnections): these phones get no answer
    const said = phones.map((p, i) => p.say(audio[i], { skipAsrProbe: true }).catch(() => null));
    for (let i = 0; i < 200 && reported < phones.length; i++) await tick(10);
    expect(reported).toBe(phones.length); // every turn reached the store; its recordings are held
    const stopped = gw.app.stop();
    await tick(100);
    gate.release(); // stop waits for them
    await stopped;
    await Promise.all(said);

    const store = CallStore.open(gw.dataDir, { retentionIntervalMs: 0 });
    try {
      for (const [i, p] of phones.entries()) {
        const id = store.listCalls({ number: p.callerNumber }).calls[0].id;
        const d = store.getCall(id)!;
        expect(d.call).toMatchObject({ end_reason: 'shutdown', turn_count: 2 });
        expect(d.turns[1].recordings.caller).toEqual({ sha256: sha(audio[i]), bytes: audio[i].length });
        const f = store.recordingFile(id, 1, 'caller');
        expect(f.ok && readFileSync(f.path)).toEqual(Buffer.from(audio[i]));
        expect(store.recordingFile(id, 1, 'reply').ok).toBe(true);
      }
      expect(await store.recordingsChecked).toMatchObject({ missing: 0, truncated: 0 });
    } finally {
      store.close();
    }
  });

  it('hashes the caller audio once per request: the ASR cache key is the recording name', async () => {
    const gw = await gateway();
    const records: TurnRecord[] = [];
    gw.app.ctx.calls.addObserver({ turnCompleted: (_c: CallSummary, t: TurnRecord) => void records.push(t) });
    const phone = new PhoneSim(gw.url, gw.bearer);
    await phone.greeting('Hello.');
    const keys = vi.spyOn(AsrCache, 'key');
    const wav = utterance(2, 24000, 9);
    await phone.say(wav); // /api/asr, then /api/turn with the same bytes
    expect(keys).toHaveBeenCalledTimes(2); // once per request body
    const t = records.find((r) => r.index === 1)!;
    expect(t.callerAudioSha256).toBe(sha(wav));
    const list = (await fetch(`${gw.url}/api/calls`).then((r) => r.json())) as { calls: { id: string }[] };
    const detail = (await fetch(`${gw.url}/api/calls/${list.calls[0].id}`).then((r) => r.json())) as { turns: { recordings: { caller: { sha256: string } | null } }[] };
    expect(detail.turns[1].recordings.caller?.sha256).toBe(sha(wav));
  });
});
