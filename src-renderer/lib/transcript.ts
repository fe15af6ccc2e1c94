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
      out.push({ id: `h${sid}-${t.index}-r`, at: t.completed_at, kind: p.role, label: p.label, text: t.reply, producer: t.producer, metrics: t.metrics });
    }
  }
  return out;
}
