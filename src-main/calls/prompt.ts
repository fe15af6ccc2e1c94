/**
 * Prompt assembly (spec §9.2) and compaction (§9.3). Compaction runs in the background after a turn
 * has been answered and never blocks other calls (§16 #22): it summarises the oldest messages and
 * swaps them out only if the call was not reset or ended meanwhile.
 */
import type { AppConfig } from '../../src-shared/config/schema';
import { trimForTts } from '../../src-shared/text/sanitize';
import type { ChatMessage, Llm, LlmParams } from '../engines/types';
import type { Session } from './session';

export const KNOWLEDGE_HEADER = 'IMPORTANT — use the following facts when answering:';
export const SUMMARY_PREFIX = 'Summary of earlier conversation:';
export const EMPTY_LLM_REPLY = 'Got it. Please continue.';

const SUMMARISER_PROMPT =
  'You summarise a phone conversation for the assistant that continues it. Write one concise paragraph that keeps the ' +
  "caller's identity, key facts, decisions, open questions and commitments. Drop greetings, filler and repetition. " +
  'Output only the summary.';

export function llmParams(cfg: AppConfig): LlmParams {
  const p: LlmParams = { maxTokens: cfg.llm_max_tokens, temperature: cfg.llm_temperature };
  if (cfg.llm_top_p_enabled && cfg.llm_top_p < 1) p.topP = cfg.llm_top_p;
  if (cfg.llm_top_k_enabled && cfg.llm_top_k > 0) p.topK = cfg.llm_top_k;
  if (cfg.llm_repeat_penalty !== 1) p.repeatPenalty = cfg.llm_repeat_penalty;
  if (cfg.llm_stop.length) p.stop = [...cfg.llm_stop];
  return p;
}

/** The system text of a turn; `consumeTurn` removes the one-shot turn instruction. */
export function systemText(s: Session, cfg: AppConfig, consumeTurn: boolean): string {
  let text = s.sessionInstruction || cfg.llm_system_prompt;
  if (s.turnInstruction) {
    text += `\n\n${s.turnInstruction}`;
    if (consumeTurn) s.turnInstruction = '';
  }
  if (s.knowledge) text += `\n\n${KNOWLEDGE_HEADER}\n${s.knowledge}`;
  return text;
}

export function buildMessages(s: Session, cfg: AppConfig, transcript: string, consumeTurn = true): ChatMessage[] {
  const system = systemText(s, cfg, consumeTurn);
  // no base prompt set (an upstream config with ""): send no empty system message
  const messages: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
  if (s.summary) messages.push({ role: 'system', content: `${SUMMARY_PREFIX}\n${s.summary}` });
  messages.push(...s.history, { role: 'user', content: transcript });
  return messages;
}

/** Clean an LLM reply for speech; never empty. */
export function speakableReply(raw: string): string {
  return trimForTts(raw) || EMPTY_LLM_REPLY;
}

/** How many of the newest messages stay verbatim (spec §9.3 steps 2–4). */
export function keepCount(history: ChatMessage[], cfg: AppConfig, llm: Llm): number {
  let keep = Math.max(1, cfg.max_history_turns) * 2;
  const limit = cfg.llm_context_tokens > 0 ? cfg.llm_context_tokens : llm.contextWindow();
  if (limit > 0) {
    const budget = limit - (cfg.llm_max_tokens + 300);
    while (keep > 2) {
      const est = history.slice(-keep).reduce((n, m) => n + m.content.length, 0) / 4;
      if (est <= budget) break;
      keep -= 2;
    }
  }
  return keep;
}

export function needsCompaction(s: Session, cfg: AppConfig, llm: Llm): boolean {
  return s.history.length > keepCount(s.history, cfg, llm);
}

/**
 * Summarise the overflow of a call's history. Safe to run concurrently with turns: it snapshots the
 * prefix it summarises and only replaces it if the history still starts with that prefix.
 */
export async function compact(s: Session, cfg: AppConfig, llm: Llm, signal?: AbortSignal): Promise<'done' | 'skipped' | 'failed'> {
  if (s.compacting) return 'skipped';
  const keep = keepCount(s.history, cfg, llm);
  if (s.history.length <= keep) return 'skipped';
  s.compacting = true;
  const gen = s.generation;
  const old = s.history.slice(0, s.history.length - keep);
  const lines: string[] = [];
  if (s.summary) lines.push(`Previous summary:\n${s.summary}`);
  for (const m of old) lines.push(`${m.role}: ${m.content}`);
  const input = lines.join('\n');
  let summary: string;
  let result: 'done' | 'failed' = 'done';
  try {
    const r = await llm.complete({
      messages: [{ role: 'system', content: SUMMARISER_PROMPT }, { role: 'user', content: input }],
      // summaries get their own budget: not capped by the spoken-reply limit (§16 #22)
      params: { ...llmParams(cfg), maxTokens: Math.max(cfg.llm_max_tokens, 512), stop: undefined },
      signal,
      sessionKey: `${s.id}#summary`,
    });
    summary = r.text.replace(/<think>[\s\S]*?<\/think>/gi, ' ').replace(/\s+/g, ' ').trim();
    if (!summary) throw new Error('empty summary');
  } catch {
    // keep what would otherwise be lost: the previous summary plus the raw lines
    summary = input;
    result = 'failed';
  } finally {
    s.compacting = false;
  }
  if (s.generation !== gen) return 'skipped';
  const stillPrefix = old.every((m, i) => s.history[i] === m);
  if (!stillPrefix) return 'skipped';
  s.history = s.history.slice(old.length);
  s.summary = summary;
  return result;
}
