/**
 * Barge-in in the history: what the caller heard of a reply they spoke over is kept with the turn
 * (`turns.reply_heard`, schema version 6), served by the call detail and the exports, and added to
 * databases of earlier versions without touching their calls.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { callAsText, type CallStore } from '../../src-main/store';
import { MIGRATIONS, migrate, schemaVersion } from '../../src-main/store/migrations';
import { call, ended, openStore, tempDir, turn } from './helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function dataDir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
function store(dir = dataDir()): CallStore {
  const s = openStore(dir);
  cleanups.unshift(() => s.isOpen && s.close());
  return s;
}

const FULL = 'We are open from nine to five on weekdays and from ten to two on Saturdays.';
const cut = (heard: string, reply = FULL) => ({ reply, heard_text: heard, played_ms: 900, total_ms: 4000 });

describe('reply heard in part (barge-in) in the call store', () => {
  it('keeps the heard text with the newest played turn of the call whose reply was cut; others stay null', () => {
    const s = store();
    const c = call('sid1', { direction: 'mock' });
    s.callStarted(c);
    s.turnCompleted(c, turn('sid1', 0, { kind: 'forced', producer: 'forced', transcript: '', reply: 'Hello.' }));
    s.turnCompleted(c, turn('sid1', 1, { reply: FULL }));
    s.turnCompleted(c, turn('sid1', 2, { reply: FULL }));
    s.turnCompleted(c, turn('sid1', 3, { reply: FULL, stale: true })); // never played
    s.replyInterrupted(c, cut('We are open from nine'));
    const d = s.getCall('sid1')!;
    expect(d.turns.map((t) => t.reply_heard)).toEqual([null, null, 'We are open from nine', null]);
  });

  it('nothing heard is stored as "" (not null), and the greeting can be cut too', () => {
    const s = store();
    const c = call('sid2');
    s.callStarted(c);
    s.turnCompleted(c, turn('sid2', 0, { kind: 'forced', producer: 'forced', transcript: '', reply: 'Hello, this is the assistant.' }));
    s.turnCompleted(c, turn('sid2', 1, { reply: FULL }));
    s.replyInterrupted(c, cut('', FULL));
    s.replyInterrupted(c, cut('Hello,', 'Hello, this is the assistant.'));
    expect(s.getCall('sid2')!.turns.map((t) => t.reply_heard)).toEqual(['Hello,', '']);
  });

  it('an unknown call or reply changes nothing and creates no call', () => {
    const s = store();
    const c = call('sid3');
    s.callStarted(c);
    s.turnCompleted(c, turn('sid3', 0, { reply: FULL }));
    s.replyInterrupted(c, cut('Something', 'A reply nobody gave.'));
    s.replyInterrupted(call('ghost'), cut('We are'));
    expect(s.getCall('sid3')!.turns[0].reply_heard).toBeNull();
    expect(s.getCall('ghost')).toBeNull();
  });

  it('still lands after the call ended (playback is reported after the turn)', () => {
    const s = store();
    const c = call('sid4');
    s.callStarted(c);
    s.turnCompleted(c, turn('sid4', 0, { reply: FULL }));
    s.callEnded(ended(c, 'mock_stopped'));
    s.replyInterrupted(c, cut('We are open'));
    expect(s.getCall('sid4')!.turns[0].reply_heard).toBe('We are open');
  });

  it('a turn reported again with another reply loses the old annotation; with the same reply keeps it', () => {
    const s = store();
    const c = call('sid5');
    s.callStarted(c);
    s.turnCompleted(c, turn('sid5', 0, { reply: FULL }));
    s.replyInterrupted(c, cut('We are'));
    s.turnCompleted(c, turn('sid5', 0, { reply: FULL }));
    expect(s.getCall('sid5')!.turns[0].reply_heard).toBe('We are');
    s.turnCompleted(c, turn('sid5', 0, { reply: 'Another reply.' }));
    expect(s.getCall('sid5')!.turns[0].reply_heard).toBeNull();
  });

  it('exports carry it: JSON has reply_heard, the text export says what was heard; the upstream session view is unchanged', () => {
    const s = store();
    const c = call('sid6');
    s.callStarted(c);
    s.turnCompleted(c, turn('sid6', 0, { reply: FULL }));
    s.turnCompleted(c, turn('sid6', 1, { reply: 'Anything else?' }));
    s.replyInterrupted(c, cut('We are open from nine'));
    const all = [...s.exportCalls()];
    expect(all[0].turns.map((t) => t.reply_heard)).toEqual(['We are open from nine', null]);
    const text = callAsText(s.getCall('sid6')!);
    expect(text).toContain(`: ${FULL}\n  (interrupted: the caller heard only "We are open from nine")\n`);
    expect(text.match(/interrupted:/g)).toHaveLength(1);
    const session = s.getSession('sid6')!;
    expect(Object.keys(session.turns[0]).sort()).toEqual(['forced_reply', 'metrics', 'reply', 'timestamp', 'transcript']);
    expect(session.turns[0].reply).toBe(FULL);
  });

  it('the text export says when none of a reply was heard', () => {
    const s = store();
    const c = call('sid7');
    s.callStarted(c);
    s.turnCompleted(c, turn('sid7', 0, { reply: FULL }));
    s.replyInterrupted(c, cut(''));
    expect(callAsText(s.getCall('sid7')!)).toContain('(interrupted: the caller heard none of it)');
  });

  it('migration 6 adds reply_heard to a version 5 database: old turns read null, new cuts are kept across reopen', () => {
    expect(MIGRATIONS.find((m) => m.version === 6)?.sql).toMatch(/ALTER TABLE turns ADD COLUMN reply_heard TEXT/);
    const dir = dataDir();
    const db = new Database(join(dir, 'history.sqlite'));
    db.pragma('journal_mode = WAL');
    migrate(db, 5);
    db.exec(`
      INSERT INTO calls (pk, id, session_id, direction, number, started_at, ended_at, last_activity_at, end_reason, state, outcome, turn_count)
      VALUES (1, 'old1', 'old1', 'mock', '', 1600000000, 1600000100, 1600000100, 'mock_stopped', 'ended', 'completed', 1);
      INSERT INTO turns (call_pk, idx, kind, started_at, completed_at, transcript, reply, producer, producer_kind)
      VALUES (1, 0, 'normal', 1600000010, 1600000011, 'When are you open?', '${FULL}', 'local:m', 'local');
    `);
    expect(db.prepare("SELECT count(*) AS n FROM pragma_table_info('turns') WHERE name = 'reply_heard'").get()).toEqual({ n: 0 });
    db.close();

    const s = store(dir);
    expect(s.migrated).toEqual([6]);
    expect(s.getCall('old1')!.turns[0]).toMatchObject({ reply: FULL, reply_heard: null });
    s.replyInterrupted(call('old1'), cut('We are open'));
    s.close();

    const check = new Database(join(dir, 'history.sqlite'), { readonly: true });
    expect(schemaVersion(check)).toBe(6);
    expect(check.prepare('SELECT reply, reply_heard FROM turns').all()).toEqual([{ reply: FULL, reply_heard: 'We are open' }]);
    check.close();
    const again = store(dir);
    expect(again.migrated).toEqual([]);
    expect(again.getCall('old1')!.turns[0].reply_heard).toBe('We are open');
  });
});
