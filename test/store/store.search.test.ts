import { afterEach, describe, expect, it } from 'vitest';
import type { CallSummary } from '../../src-main/calls/types';
import { StoreQueryError, type CallStore } from '../../src-main/store';
import { ftsExpression } from '../../src-main/store/query';
import { makeSnippet, snippetTerms } from '../../src-main/store/snippet';
import { call, ended, openStore, tempDir, turn } from './helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function open(searchCap?: number): CallStore {
  const t = tempDir();
  const s = openStore(t.dir, { searchCap });
  cleanups.push(t.cleanup, () => s.close());
  return s;
}
function add(s: CallStore, id: string, lines: [string, string, string?][], over: Partial<CallSummary> = {}, reason: CallSummary['end_reason'] = 'hangup'): void {
  const c = call(id, over);
  s.callStarted(c);
  lines.forEach(([transcript, reply, producer], i) => s.turnCompleted(c, turn(id, i, { transcript, reply, producer: producer ?? 'local:m' })));
  if (reason) s.callEnded(ended(c, reason));
}
const ids = (s: CallStore, q: Parameters<CallStore['listCalls']>[0]) => s.listCalls(q).calls.map((c) => c.id);

describe('store search', () => {
  it('ranks the call that matches best first and shows where it matched', () => {
    const s = open();
    add(s, 'weak', [['I called about the weather today', 'It is sunny.'], ['And my dentist appointment next year maybe', 'Noted.']]);
    add(s, 'strong', [['Dentist appointment, dentist appointment!', 'Your dentist appointment is on Monday.']]);
    add(s, 'none', [['Pizza delivery please', 'On its way.']]);
    const page = s.listCalls({ q: 'dentist appointment' });
    expect(page.calls.map((c) => c.id)).toEqual(['strong', 'weak']);
    expect(page.truncated).toBe(false);
    expect(page.calls[0].match).toMatchObject({ turn: 0, snippet: '[Dentist] [appointment], [dentist] [appointment]!' });
    expect(page.calls[1].match).toMatchObject({ turn: 1 });
    expect(page.calls[0].match!.score).toBeLessThan(page.calls[1].match!.score);
  });

  it('matches word forms, prefixes, phrases and accents', () => {
    const s = open();
    add(s, 'forms', [['She was calling about her appointments', 'ok']]);
    add(s, 'phrase', [['the red car is parked', 'ok']]);
    add(s, 'order', [['the car is red', 'ok']]);
    add(s, 'accent', [['Ich möchte ein Café reservieren', 'gern']]);
    expect(ids(s, { q: 'appointment call' })).toEqual(['forms']);
    expect(ids(s, { q: 'appoint*' })).toEqual(['forms']);
    expect(ids(s, { q: '"red car"' })).toEqual(['phrase']);
    expect(ids(s, { q: 'red car' }).sort()).toEqual(['order', 'phrase']);
    expect(ids(s, { q: 'cafe' })).toEqual(['accent']);
    expect(ids(s, { q: 'reply-only-word' })).toEqual([]);
  });

  it('searches replies too', () => {
    const s = open();
    add(s, 'r', [['hello', 'Your parcel number is tracked']]);
    expect(ids(s, { q: 'parcel' })).toEqual(['r']);
  });

  it('treats FTS syntax in the query as plain words', () => {
    const s = open();
    add(s, 'x', [['NEAR the OR gate transcript: AND "quoted" (brackets) ^caret -minus', 'ok']]);
    for (const q of ['NEAR(', 'OR', 'transcript:', '"unbalanced', 'AND NOT', '(brackets)', '^caret', '-minus', 'gate*)', 'reply:ok']) {
      expect(() => s.listCalls({ q }), q).not.toThrow();
    }
    expect(ids(s, { q: 'OR' })).toEqual(['x']);
    expect(ids(s, { q: 'transcript:' })).toEqual(['x']);
    expect(ids(s, { q: '"unbalanced' })).toEqual([]);
    expect(ftsExpression('a "b c" dd* e"f')).toBe('"a" "b c" "dd"* "e f"');
  });

  it('rejects queries with nothing searchable and one-letter prefixes, naming q', () => {
    const s = open();
    for (const q of ['***', '"" ""', '!!!', 'a*']) {
      let err: unknown;
      try {
        s.listCalls({ q });
      } catch (e) {
        err = e;
      }
      expect(err, q).toBeInstanceOf(StoreQueryError);
      expect((err as StoreQueryError).field).toBe('q');
    }
  });

  it('filters by date range, direction, outcome or end reason, who handled it and number', () => {
    const s = open();
    add(s, 'in-local', [['refund please', 'ok', 'local:m']], { started_at: 1000, direction: 'incoming', number: '+4930111222' });
    add(s, 'out-agent', [['refund now', 'ok', 'agent:bob']], { started_at: 2000, direction: 'outgoing', number: '+4940333444' });
    add(s, 'in-operator', [['refund maybe', 'ok', 'operator:me']], { started_at: 3000, direction: 'incoming', number: '+4930555666' }, 'max_duration');
    add(s, 'rejected', [], { started_at: 4000, direction: 'incoming', number: '+4930999000' }, 'rejected');
    add(s, 'open', [['refund still', 'ok']], { started_at: 5000, direction: 'mock', number: '' }, null);

    expect(ids(s, {}).length).toBe(5);
    expect(ids(s, { from: 2000, to: 3000 })).toEqual(['in-operator', 'out-agent']);
    expect(ids(s, { q: 'refund', from: 2500 }).sort()).toEqual(['in-operator', 'open']);
    expect(ids(s, { q: 'refund', to: 1500 })).toEqual(['in-local']);
    expect(ids(s, { q: 'refund', from: 9000 })).toEqual([]);
    expect(ids(s, { direction: 'outgoing' })).toEqual(['out-agent']);
    expect(ids(s, { direction: 'mock' })).toEqual(['open']);
    expect(ids(s, { outcome: 'rejected' })).toEqual(['rejected']);
    expect(ids(s, { outcome: 'active' })).toEqual(['open']);
    expect(ids(s, { outcome: 'completed' }).sort()).toEqual(['in-local', 'in-operator', 'out-agent']);
    expect(ids(s, { outcome: 'max_duration' })).toEqual(['in-operator']); // an end reason
    expect(ids(s, { handledBy: ['agent', 'operator'] })).toEqual(['in-operator', 'out-agent']);
    expect(ids(s, { q: 'refund', handledBy: ['local'] }).sort()).toEqual(['in-local', 'open']);
    expect(ids(s, { number: '0555' })).toEqual(['in-operator']);
    expect(ids(s, { number: '+4930' })).toEqual(['rejected', 'in-operator', 'in-local']);
    expect(ids(s, { q: 'refund', direction: 'incoming', number: '111' })).toEqual(['in-local']);
  });

  it('pages a listing with a cursor that stays stable while new calls arrive', () => {
    const s = open();
    for (let i = 0; i < 10; i++) add(s, `p${i}`, [['hi', 'ok']], { started_at: 1000 + (i % 5) }); // equal start times too
    const p1 = s.listCalls({ limit: 4 });
    expect(p1.calls).toHaveLength(4);
    add(s, 'newest', [['hi', 'ok']], { started_at: 99_999 });
    const p2 = s.listCalls({ limit: 4, cursor: p1.next_cursor! });
    const p3 = s.listCalls({ limit: 4, cursor: p2.next_cursor! });
    expect(p3.next_cursor).toBeNull();
    const seen = [...p1.calls, ...p2.calls, ...p3.calls].map((c) => c.id);
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
    expect(seen).not.toContain('newest');
    expect(ids(s, { limit: 3, offset: 9 })).toEqual(['p5', 'p0']);
  });

  it('pages search results by rank and rejects mixed or foreign cursors', () => {
    const s = open();
    for (let i = 0; i < 7; i++) add(s, `s${i}`, [[`boiler ${'boiler '.repeat(i)} repair`, 'ok']]);
    const p1 = s.listCalls({ q: 'boiler', limit: 3 });
    const p2 = s.listCalls({ q: 'boiler', limit: 3, cursor: p1.next_cursor! });
    const p3 = s.listCalls({ q: 'boiler', limit: 3, cursor: p2.next_cursor! });
    expect([...p1.calls, ...p2.calls, ...p3.calls].map((c) => c.id)).toEqual(ids(s, { q: 'boiler', limit: 50 }));
    expect(p3.calls).toHaveLength(1);
    expect(p3.next_cursor).toBeNull();
    const listCursor = s.listCalls({ limit: 2 }).next_cursor!;
    expect(() => s.listCalls({ q: 'boiler', cursor: listCursor })).toThrow(/cursor/);
    expect(() => s.listCalls({ cursor: p1.next_cursor! })).toThrow(/cursor/);
    expect(() => s.listCalls({ cursor: 'garbage!' })).toThrow(/cursor/);
    expect(() => s.listCalls({ cursor: p1.next_cursor!, offset: 3, q: 'boiler' })).toThrow(/cursor/);
  });

  it('ranks only the newest matches past the cap, says so, and a date range reaches older calls', () => {
    const s = open(4);
    for (let i = 0; i < 8; i++) add(s, `cap${i}`, [['heating broken', 'ok']], { started_at: 1000 + i * 100 });
    const page = s.listCalls({ q: 'heating' });
    expect(page.truncated).toBe(true);
    expect(page.calls.map((c) => c.id).sort()).toEqual(['cap4', 'cap5', 'cap6', 'cap7']);
    const older = s.listCalls({ q: 'heating', to: 1250 });
    expect(older.truncated).toBe(false);
    expect(older.calls.map((c) => c.id).sort()).toEqual(['cap0', 'cap1', 'cap2']);
  });

  it('finds turns that were committed a moment ago (indexing catches up before searching)', () => {
    const s = open();
    const c = call('fresh');
    s.callStarted(c);
    for (let i = 0; i < 3; i++) {
      s.turnCompleted(c, turn('fresh', i, { transcript: `kangaroo number ${i}` }));
      expect(s.listCalls({ q: `kangaroo ${i}` }).calls.map((x) => x.id)).toEqual(['fresh']);
    }
    // and deleting a call removes it from the index, indexed or not
    s.turnCompleted(c, turn('fresh', 3, { transcript: 'platypus' }));
    s.callEnded(ended(c));
    expect(s.deleteCall('fresh')).toBe('deleted');
    expect(s.listCalls({ q: 'kangaroo' }).calls).toEqual([]);
    expect(s.listCalls({ q: 'platypus' }).calls).toEqual([]);
    expect(s.flushSearchIndex()).toBe(0);
  });

  it('makes readable snippets around the first match', () => {
    const terms = snippetTerms(ftsExpression('bookings tab*')!);
    expect(makeSnippet(['nothing here', 'I made two Bookings for a table at eight tonight, and then some more words follow here'], terms, 8)).toBe(
      '…made two [Bookings] for a [table] at eight…',
    );
    expect(makeSnippet(['one two three four five six seven eight nine ten eleven booking twelve'], terms, 6)).toBe('…eight nine ten eleven [booking] twelve');
  });
});
