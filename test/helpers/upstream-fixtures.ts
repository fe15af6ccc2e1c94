/**
 * Writes an upstream gateway's data folder in its on-disk formats (gateway spec §8.9, §8.10):
 * `sessions/<sid>.json` (pretty-printed, 2-space indent) and `caller_history/<number>.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface UpstreamTurn {
  transcript: string;
  reply: string;
  metrics: { asr_ms: number; llm_ms: number; tts_ms: number; total_ms: number; llm_model: string };
  forced_reply: boolean;
  timestamp: number;
}

export interface UpstreamSessionFile {
  session_id: string;
  created_at: number | null;
  turns: UpstreamTurn[];
}

export interface UpstreamCallerFile {
  number: string;
  history: { role: 'user' | 'assistant'; content: string }[];
  summary: string;
  last_call_at: number;
  total_calls: number;
}

export function upstreamTurn(transcript: string, reply: string, timestamp: number, over: Partial<UpstreamTurn> = {}): UpstreamTurn {
  return {
    transcript,
    reply,
    metrics: { asr_ms: 410.2, llm_ms: 350.0, tts_ms: 620.5, total_ms: 1401.3, llm_model: 'local/mlx-community/Qwen2.5-3B' },
    forced_reply: false,
    timestamp,
    ...over,
  };
}

export function upstreamSession(sessionId: string, createdAt: number, turns: UpstreamTurn[]): UpstreamSessionFile {
  return { session_id: sessionId, created_at: createdAt, turns };
}

export function upstreamCaller(number: string, lastCallAt: number, totalCalls: number, messages: [string, string][]): UpstreamCallerFile {
  return {
    number,
    history: messages.flatMap(([u, a]) => [
      { role: 'user' as const, content: u },
      { role: 'assistant' as const, content: a },
    ]),
    summary: `Caller ${number} called ${totalCalls} times.`,
    last_call_at: lastCallAt,
    total_calls: totalCalls,
  };
}

/** Write the folder; `raw` adds files with exact contents (malformed or hostile cases). */
export function writeUpstreamDir(
  root: string,
  data: { sessions?: UpstreamSessionFile[]; callers?: UpstreamCallerFile[]; rawSessions?: Record<string, string>; rawCallers?: Record<string, string> },
): void {
  const sessions = join(root, 'sessions');
  const callers = join(root, 'caller_history');
  mkdirSync(sessions, { recursive: true });
  mkdirSync(callers, { recursive: true });
  for (const s of data.sessions ?? []) writeFileSync(join(sessions, `${s.session_id}.json`), JSON.stringify(s, null, 2));
  for (const c of data.callers ?? []) writeFileSync(join(callers, `${c.number}.json`), JSON.stringify(c));
  for (const [name, body] of Object.entries(data.rawSessions ?? {})) writeFileSync(join(sessions, name), body);
  for (const [name, body] of Object.entries(data.rawCallers ?? {})) writeFileSync(join(callers, name), body);
}
