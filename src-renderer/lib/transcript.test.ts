/** Stored turns → transcript lines, and the heard / unheard split of a reply cut by barge-in. */
import { describe, expect, it } from 'vitest';
import type { StoredTurn } from '../api/types';
import { linesFromTurns, splitHeard } from './transcript';

const LONG = 'We are open from nine to five on weekdays.';

function stored(index: number, over: Partial<StoredTurn> = {}): StoredTurn {
  return {
    index, kind: 'normal', started_at: 1000 + index, completed_at: 1000.5 + index, transcript: `said ${index}`, reply: LONG,
    producer: 'local:qwen', producer_kind: 'local',
    metrics: { asr_ms: 1, llm_ms: 2, tts_ms: 3, total_ms: 6, llm_model: 'qwen', transcriptionDelayMs: 1, llmTtftMs: 1, ttsTtfbMs: 1, e2eLatencyMs: 4 },
    stale: false, no_speech_prob: null, segments: null, recordings: { caller: null, reply: null }, reply_heard: null, ...over,
  };
}

describe('history transcript lines', () => {
  it('a reply cut by barge-in carries what was heard; a reply heard in full does not', () => {
    const lines = linesFromTurns('c1', [stored(0), stored(1, { reply_heard: 'We are open' }), stored(2, { reply_heard: '' })]);
    const replies = lines.filter((l) => l.kind === 'assistant');
    expect(replies.map((l) => l.heard)).toEqual([undefined, 'We are open', '']);
    expect('heard' in replies[0]).toBe(false);
  });

  it('tolerates an older gateway without reply_heard', () => {
    const old = stored(0) as Partial<StoredTurn>;
    delete old.reply_heard;
    expect(linesFromTurns('c1', [old as StoredTurn])[1].heard).toBeUndefined();
  });
});

describe('splitHeard', () => {
  it('splits the reply at the heard words', () => {
    expect(splitHeard(LONG, 'We are open')).toEqual({ heard: 'We are open', unheard: 'from nine to five on weekdays.' });
    expect(splitHeard(LONG, '')).toEqual({ heard: '', unheard: LONG });
    expect(splitHeard(` ${LONG} `, LONG)).toEqual({ heard: LONG, unheard: '' });
  });

  it('heard words that are not the start of the reply: the whole reply counts as unheard', () => {
    expect(splitHeard(LONG, 'Something else')).toEqual({ heard: 'Something else', unheard: LONG });
  });
});
