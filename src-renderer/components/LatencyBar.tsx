/** Per-turn latency: proportional ASR / LLM / TTS segments, the first-audio mark, and the numbers. */
import type { TurnMetrics } from '../api/types';
import { formatMs } from '../lib/format';

export function LatencyBar({ m }: { m: Partial<TurnMetrics> }) {
  const asr = m.asr_ms ?? 0;
  const llm = m.llm_ms ?? 0;
  const tts = m.tts_ms ?? 0;
  const total = Math.max(m.total_ms ?? 0, asr + llm + tts, 1);
  const first = m.e2eLatencyMs ?? 0;
  const pct = (v: number) => `${Math.max(v > 0 ? 2 : 0, (v / total) * 100)}%`;
  const parts = [`ASR ${formatMs(asr)}`, `LLM ${formatMs(llm)}${m.llmTtftMs ? ` (first token ${formatMs(m.llmTtftMs)})` : ''}`, `TTS ${formatMs(tts)}`];
  if (first) parts.push(`first audio ${formatMs(first)}`);
  parts.push(`total ${formatMs(m.total_ms ?? total)}`);
  const summary = parts.join(' · ');
  return (
    <div className="latency" aria-label={`Latency: ${summary}`} role="img">
      <div className="latency-track" aria-hidden="true">
        <span className="seg seg-asr" style={{ width: pct(asr) }} />
        <span className="seg seg-llm" style={{ width: pct(llm) }} />
        <span className="seg seg-tts" style={{ width: pct(tts) }} />
        {first > 0 ? <span className="first-audio" style={{ left: `${Math.min(100, (first / total) * 100)}%` }} /> : null}
      </div>
      <div className="latency-nums" aria-hidden="true">
        <span className="k-asr">ASR {formatMs(asr)}</span>
        <span className="k-llm">LLM {formatMs(llm)}</span>
        <span className="k-tts">TTS {formatMs(tts)}</span>
        {first ? <span className="k-first">first audio {formatMs(first)}</span> : null}
        <span className="k-total">total {formatMs(m.total_ms ?? total)}</span>
      </div>
    </div>
  );
}
