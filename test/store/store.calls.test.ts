import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndReason } from '../../src-main/calls/types';
import type { CallStore } from '../../src-main/store';
import { CallStore as Store } from '../../src-main/store';
import { call, ended, metrics, openStore, tempDir, turn } from './helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function store(): { s: CallStore; dir: string } {
  const t = tempDir();
  const s = openStore(t.dir);
  cleanups.push(t.cleanup, () => s.close());
  return { s, dir: t.dir };
}

describe('store call lifecycle', () => {
  it('records a call from start to end with its turns, metrics, flags and events', () => {
    const { s } = store();
    const c = call('sid1', { number: '+49 (30) 123-456', direction: 'outgoing' });
    s.callStarted(c);
    s.turnCompleted(c, turn('sid1', 0, { kind: 'forced', producer: 'forced', transcript: '', reply: 'Hello', metrics: metrics({ llm_model: '' }) }));
    s.callEvent(c, 'agent.takeover', { name: 'openclaw', mode: 'takeover' });
    s.callUpdated({ ...c, holder: { kind: 'agent', name: 'openclaw', mode: 'takeover' }, state: 'taken_over', authenticated: true });
    s.turnCompleted(c, turn('sid1', 1, { producer: 'agent:openclaw', asrSegments: [{ start: 0, end: 1.2, text: 'hi there' }], noSpeechProb: 0.02 }));
    s.turnCompleted(c, turn('sid1', 2, { stale: true, producer: 'local:qwen' }));
    s.callEnded(ended(c, 'phone_ended', c.started_at + 95));

    const d = s.getCall('sid1')!;
    expect(d.call).toMatchObject({
      id: 'sid1', session_id: 'sid1', direction: 'outgoing', number: '+4930123456', device: 'SERIAL1', state: 'ended',
      end_reason: 'phone_ended', outcome: 'completed', turn_count: 3, authenticated: true, holder: null, duration_s: 95, source: 'live',
    });
    expect(d.call.handled_by.sort()).toEqual(['agent', 'forced', 'local']);
    expect(d.call.total_turn_ms).toBeCloseTo(3 * 690.4, 5);
    expect(d.turns.map((t) => [t.index, t.kind, t.producer_kind, t.stale])).toEqual([
      [0, 'forced', 'forced', false],
      [1, 'normal', 'agent', false],
      [2, 'normal', 'local', true],
    ]);
    expect(d.turns[1]).toMatchObject({ segments: [{ start: 0, end: 1.2, text: 'hi there' }], no_speech_prob: 0.02, metrics: metrics() });
    expect(d.events).toEqual([{ at: expect.any(Number), type: 'agent.takeover', data: { name: 'openclaw', mode: 'takeover' } }]);
  });

  it('derives the outcome from the end reason and the turns', () => {
    const { s } = store();
    const cases: [string, EndReason, number, string][] = [
      ['a', 'rejected', 0, 'rejected'],
      ['b', 'auth_failed', 2, 'auth_failed'],
      ['c', 'hangup', 0, 'no_turns'],
      ['d', 'shutdown', 1, 'interrupted'],
      ['e', 'max_duration', 4, 'completed'],
    ];
    for (const [id, reason, turns] of cases) {
      const c = call(id);
      s.callStarted(c);
      for (let i = 0; i < turns; i++) s.turnCompleted(c, turn(id, i));
      s.callEnded(ended(c, reason));
    }
    for (const [id, , , outcome] of cases) expect(s.getCall(id)!.call.outcome).toBe(outcome);
  });

  it('a new call on the same session id (reset) gets its own row; late turns and events go to the call they belong to', () => {
    const { s } = store();
    const first = call('same');
    s.callStarted(first);
    s.turnCompleted(first, turn('same', 0, { transcript: 'first call' }));
    s.callEnded(ended(first, 'new_call'));
    // a stale turn of the first call finishing after it ended
    s.turnCompleted(first, turn('same', 1, { transcript: 'late', stale: true }));
    const second = call('same', { started_at: first.started_at + 100 });
    s.callStarted(second);
    s.turnCompleted(second, turn('same', 0, { transcript: 'second call' }));

    const page = s.listCalls();
    expect(page.calls).toHaveLength(2);
    const [newer, older] = page.calls;
    expect(older.id).toBe('same');
    expect(newer.id).toMatch(/^same-[0-9a-f]{8}$/);
    expect(newer.session_id).toBe('same');
    expect(s.getCall(older.id)!.turns.map((t) => t.transcript)).toEqual(['first call', 'late']);
    expect(s.getCall(newer.id)!.turns.map((t) => t.transcript)).toEqual(['second call']);
    expect(newer.end_reason).toBeNull();
    // upstream's view of a session id is its latest call
    expect(s.getSession('same')!.turns.map((t) => t.transcript)).toEqual(['second call']);
  });

  it('a turn reported before the call was announced creates the call, which the announcement then completes', () => {
    const { s } = store();
    const c = call('early', { number: '' });
    s.turnCompleted(c, turn('early', 0));
    s.callStarted({ ...c, number: '+4930555', direction: 'incoming' });
    const d = s.getCall('early')!;
    expect(d.turns).toHaveLength(1);
    expect(d.call.number).toBe('+4930555');
    expect(s.listCalls().calls).toHaveLength(1);
  });

  it('the same turn reported twice is stored once (newest wins)', () => {
    const { s } = store();
    const c = call('dup');
    s.callStarted(c);
    s.turnCompleted(c, turn('dup', 0, { reply: 'first version' }));
    s.turnCompleted(c, turn('dup', 0, { reply: 'second version' }));
    const d = s.getCall('dup')!;
    expect(d.turns.map((t) => t.reply)).toEqual(['second version']);
    expect(d.call.turn_count).toBe(1);
    expect(s.listCalls({ q: 'first' }).calls).toEqual([]);
    expect(s.listCalls({ q: 'second' }).calls.map((x) => x.id)).toEqual(['dup']);
  });

  it('session ids that are unsafe in a URL get a safe call id and keep their session id', () => {
    const { s } = store();
    const c = call('../../etc/passwd ünïcode');
    s.callStarted(c);
    const [item] = s.listCalls().calls;
    expect(item.id).toMatch(/^call-[0-9a-f]{8}$/);
    expect(item.session_id).toBe('../../etc/passwd ünïcode');
    expect(s.getSession('../../etc/passwd ünïcode')).toMatchObject({ session_id: '../../etc/passwd ünïcode' });
  });

  it('stores oversized or unserialisable event data without failing the call', () => {
    const { s } = store();
    const c = call('ev');
    s.callStarted(c);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    s.callEvent(c, 'turn.error', circular);
    s.callEvent(c, 'turn.error', { error: 'x'.repeat(100_000) });
    const [a, b] = s.getCall('ev')!.events;
    expect(a.data).toEqual({ unserialisable: true });
    expect(b.data).toMatchObject({ truncated: true });
    expect(JSON.stringify(b.data).length).toBeLessThan(20_000);
  });

  it('storage failures go to onError and never throw into the call', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const errors: string[] = [];
    const s = Store.open(t.dir, { retentionIntervalMs: 0, onError: (e, context) => errors.push(`${context}: ${(e as Error).message}`) });
    s.close();
    const c = call('after-close');
    expect(() => s.turnCompleted(c, turn('after-close', 0))).not.toThrow();
    expect(() => s.callStarted(c)).not.toThrow();
    expect(errors).toEqual(['turnCompleted: call store is closed', 'callStarted: call store is closed']);
  });

  it('many interleaved calls writing concurrently keep every turn in its own call and order', async () => {
    const { s } = store();
    const CALLS = 40;
    const TURNS = 15;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const tick = () => new Promise<void>((r) => (rnd() < 0.5 ? setImmediate(r) : queueMicrotask(r)));
    await Promise.all(
      Array.from({ length: CALLS }, async (_, k) => {
        const id = `conc${k}`;
        const c = call(id, { started_at: 1_700_000_000 + k, number: `+49301${String(k).padStart(4, '0')}` });
        await tick();
        s.callStarted(c);
        for (let i = 0; i < TURNS; i++) {
          await tick();
          s.turnCompleted(c, turn(id, i, { transcript: `call ${k} turn ${i}`, producer: k % 2 ? 'agent:a' : 'local:m' }));
          if (rnd() < 0.2) s.callEvent(c, 'operator.typing', { turn: i });
        }
        await tick();
        s.callEnded(ended(c, 'phone_ended'));
      }),
    );
    const all = [];
    for (let cursor: string | undefined, page; (page = s.listCalls({ limit: 7, cursor })); cursor = page.next_cursor) {
      all.push(...page.calls);
      if (!page.next_cursor) break;
    }
    expect(all).toHaveLength(CALLS);
    for (let k = 0; k < CALLS; k++) {
      const d = s.getCall(`conc${k}`)!;
      expect(d.call).toMatchObject({ turn_count: TURNS, end_reason: 'phone_ended', number: `+49301${String(k).padStart(4, '0')}` });
      expect(d.turns.map((t) => t.transcript)).toEqual(Array.from({ length: TURNS }, (_, i) => `call ${k} turn ${i}`));
    }
    expect(s.listCalls({ handledBy: ['agent'], limit: 200 }).calls).toHaveLength(CALLS / 2);
  });
});

describe('store caller memory', () => {
  it('keeps upstream semantics: history and summary replaced, total_calls counted, newest first', () => {
    let now = 1000;
    const t = tempDir();
    cleanups.push(t.cleanup);
    const s = openStore(t.dir, { now: () => now });
    cleanups.push(() => s.close());
    s.save('+4930111', [{ role: 'user', content: 'a' }], 'one');
    now = 2000;
    s.save('+4930222', [{ role: 'user', content: 'b' }, { role: 'assistant', content: 'c' }], 'two');
    now = 3000;
    s.save('+4930111', [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'd' }], 'three');
    expect(s.load('+4930111')).toEqual({ history: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'd' }], summary: 'three' });
    expect(s.list()).toEqual([
      { number: '+4930111', total_calls: 2, last_call_at: 3000, turn_count: 3 },
      { number: '+4930222', total_calls: 1, last_call_at: 2000, turn_count: 2 },
    ]);
    expect(s.delete('+4930222')).toBe(true);
    expect(s.delete('+4930222')).toBe(false);
    expect(s.load('+4930222')).toBeNull();
  });

  it('rejects keys that are not validated normalised numbers', () => {
    const { s } = store();
    for (const bad of ['../../etc/passwd', '+49 30 111', '$(reboot)', '١٢٣', '', '+1;ls']) {
      expect(() => s.save(bad, [], '')).toThrow(/invalid caller number/);
      expect(s.load(bad)).toBeNull();
      expect(s.delete(bad)).toBe(false);
    }
    expect(s.list()).toEqual([]);
  });

  it('survives a restart', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const a = openStore(t.dir);
    a.save('+4930111', [{ role: 'user', content: 'remember me' }], 'sum');
    a.close();
    const b = openStore(t.dir);
    expect(b.load('+4930111')).toEqual({ history: [{ role: 'user', content: 'remember me' }], summary: 'sum' });
    b.close();
  });
});

describe('store durability', () => {
  it("'async' fsyncs the WAL after commits off the event loop, coalescing bursts", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const s = openStore(t.dir, { durability: 'async' });
    cleanups.push(() => s.close());
    const c = call('dur');
    s.callStarted(c);
    await s.whenDurable();
    const afterStart = s.backgroundSyncs;
    expect(afterStart).toBeGreaterThanOrEqual(1);
    // a burst of commits in one tick: one fsync is in flight, one more covers the rest
    for (let i = 0; i < 50; i++) s.turnCompleted(c, turn('dur', i));
    await s.whenDurable();
    expect(s.backgroundSyncs - afterStart).toBeGreaterThanOrEqual(1);
    expect(s.backgroundSyncs - afterStart).toBeLessThanOrEqual(2);
    expect(s.getCall('dur')!.turns).toHaveLength(50);
  });

  it("'full' commits synchronously and has nothing left to sync", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const s = openStore(t.dir, { durability: 'full' });
    cleanups.push(() => s.close());
    const c = call('full');
    s.callStarted(c);
    s.turnCompleted(c, turn('full', 0));
    await s.whenDurable();
    expect(s.backgroundSyncs).toBe(0);
  });
});

describe('store recovery from a failed write', () => {
  it('a turn that fails mid-transaction leaves no half call behind and the next turns commit', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const errors: string[] = [];
    const s = Store.open(t.dir, { retentionIntervalMs: 0, onError: (e, context) => errors.push(`${context}: ${(e as Error).message}`) });
    cleanups.push(() => s.close());
    // stands in for a write failure such as a full disk: the turn insert fails after the call row was created
    const raw = new Database(join(t.dir, 'history.sqlite'));
    raw.exec("CREATE TRIGGER fail_boom BEFORE INSERT ON turns WHEN new.transcript = 'boom' BEGIN SELECT RAISE(ABORT, 'disk says no'); END;");
    raw.close();
    const c = call('rollback');
    s.turnCompleted(c, turn('rollback', 0, { transcript: 'boom' }));
    expect(errors).toEqual(['turnCompleted: disk says no']);
    expect(s.getCall('rollback')).toBeNull();
    s.turnCompleted(c, turn('rollback', 0));
    s.turnCompleted(c, turn('rollback', 1));
    expect(errors).toHaveLength(1);
    expect(s.getCall('rollback')!.turns.map((x) => x.index)).toEqual([0, 1]);
  });
});
