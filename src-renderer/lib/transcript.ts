/** Stored turns (history API) → transcript lines, the same shape the live reducer builds. */
import type { StoredTurn } from '../api/types';
import type { TranscriptLine } from '../store/live-reducer';
import { parseProducer } from './producer';

export function linesFromTurns(sid: string, turns: StoredTurn[]): TranscriptLine[] {
  const out: TranscriptLine[] = [];
  for (const t of turns) {
    if (t.kind === 'no_speech' || t.stale) continue;
    if (t.transcript) out.push({ id: `h${sid}-${t.index}-c`, at: t.started_at, kind: 'caller', label: 'Caller', text: t.transcript });
    if (t.reply) {
      const p = parseProducer(t.producer);
      const line: TranscriptLine = { id: `h${sid}-${t.index}-r`, at: t.completed_at, kind: p.role, label: p.label, text: t.reply, producer: t.producer, metrics: t.metrics };
      // older gateways do not send reply_heard
      if (typeof t.reply_heard === 'string') line.heard = t.reply_heard;
      out.push(line);
    }
  }
  return out;
}

/**
 * A reply cut by barge-in, split into the part the caller heard and the rest they did not. `heard`
 * is normally the start of `text` (the gateway cuts the reply at a word boundary); when it is not,
 * the whole reply counts as unheard after the heard words.
 */
export function splitHeard(text: string, heard: string): { heard: string; unheard: string } {
  const t = text.trim();
  const h = heard.trim();
  if (!h) return { heard: '', unheard: t };
  if (t.startsWith(h)) return { heard: h, unheard: t.slice(h.length).trim() };
  return { heard: h, unheard: t };
}
