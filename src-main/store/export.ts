/** Human-readable transcript of one call (the `txt` export). */
import type { CallDetail } from './types';

function iso(epochS: number | null): string {
  return epochS === null ? '—' : new Date(epochS * 1000).toISOString();
}

export function callAsText(d: CallDetail): string {
  const c = d.call;
  const lines = [
    `Call ${c.id}`,
    `Session: ${c.session_id}`,
    `Direction: ${c.direction}${c.number ? `  Number: ${c.number}` : ''}`,
    `Started: ${iso(c.started_at)}  Ended: ${iso(c.ended_at)}  (${c.end_reason ?? 'still open'})`,
    `Outcome: ${c.outcome}  Turns: ${c.turn_count}  Handled by: ${c.handled_by.join(', ') || '—'}`,
    '',
  ];
  for (const t of d.turns) {
    const time = iso(t.completed_at).slice(11, 19);
    const flags = [t.kind !== 'normal' ? t.kind : '', t.stale ? 'stale' : ''].filter(Boolean).join(', ');
    lines.push(`[${time}] #${t.index}${flags ? ` (${flags})` : ''}`);
    if (t.transcript) lines.push(`  Caller: ${t.transcript}`);
    lines.push(`  ${t.producer || 'reply'}: ${t.reply}`);
    if (typeof t.reply_heard === 'string') {
      lines.push(t.reply_heard ? `  (interrupted: the caller heard only "${t.reply_heard}")` : '  (interrupted: the caller heard none of it)');
    }
    lines.push(`  asr ${t.metrics.asr_ms} ms · llm ${t.metrics.llm_ms} ms · tts ${t.metrics.tts_ms} ms · total ${t.metrics.total_ms} ms`);
  }
  if (d.events.length) {
    lines.push('', 'Events:');
    for (const e of d.events) lines.push(`  [${iso(e.at).slice(11, 19)}] ${e.type} ${JSON.stringify(e.data)}`);
  }
  return lines.join('\n') + '\n';
}
