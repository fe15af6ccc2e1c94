/** Prompt assembly (spec §9.1/§9.2), sampling parameters and background compaction (§9.3, §16 #22). */
import { describe, expect, it } from 'vitest';
import { parseConfig, type AppConfig } from '../../src-shared/config/schema';
import { buildMessages, compact, EMPTY_LLM_REPLY, keepCount, KNOWLEDGE_HEADER, llmParams, needsCompaction, speakableReply, SUMMARY_PREFIX } from '../../src-main/calls/prompt';
import { Session } from '../../src-main/calls/session';
import type { ChatMessage, Llm, LlmRequest } from '../../src-main/engines/types';

const cfg = (o: Record<string, unknown> = {}): AppConfig => parseConfig(o);

function fakeLlm(opts: { window?: number; reply?: (req: LlmRequest) => Promise<string> } = {}): Llm & { calls: LlmRequest[] } {
  const calls: LlmRequest[] = [];
  return {
    kind: 'fake',
    calls,
    label: () => 'fake',
    contextWindow: () => opts.window ?? 0,
    async complete(req) {
      calls.push(req);
      return { text: opts.reply ? await opts.reply(req) : 'A summary.' };
    },
    health: async () => ({ ok: true }),
  };
}

const pairs = (n: number): ChatMessage[] => Array.from({ length: n }, (_, i) => [{ role: 'user' as const, content: `q${i}` }, { role: 'assistant' as const, content: `a${i}` }]).flat();

describe('buildMessages', () => {
  it('base prompt, summary, history, then the transcript', () => {
    const s = new Session('s1');
    s.summary = 'Caller is Grace.';
    s.history = pairs(1);
    const m = buildMessages(s, cfg({ llm_system_prompt: 'Base.' }), 'hello');
    expect(m).toEqual([
      { role: 'system', content: 'Base.' },
      { role: 'system', content: `${SUMMARY_PREFIX}\nCaller is Grace.` },
      { role: 'user', content: 'q0' },
      { role: 'assistant', content: 'a0' },
      { role: 'user', content: 'hello' },
    ]);
  });

  it('no base prompt (an upstream config with ""): no empty system message', () => {
    const s = new Session('s1');
    expect(buildMessages(s, cfg({ llm_system_prompt: '' }), 'hello')).toEqual([{ role: 'user', content: 'hello' }]);
  });

  it('a session override replaces the base; the turn supplement is appended once; knowledge last', () => {
    const s = new Session('s1');
    s.sessionInstruction = 'Override.';
    s.turnInstruction = 'Just this turn.';
    s.knowledge = 'Opening hours 9-5.';
    const first = buildMessages(s, cfg({ llm_system_prompt: 'Base.' }), 'x');
    expect(first[0].content).toBe(`Override.\n\nJust this turn.\n\n${KNOWLEDGE_HEADER}\nOpening hours 9-5.`);
    expect(KNOWLEDGE_HEADER).toBe('IMPORTANT \u2014 use the following facts when answering:');
    expect(s.turnInstruction).toBe('');
    expect(buildMessages(s, cfg({ llm_system_prompt: 'Base.' }), 'y')[0].content).toBe(`Override.\n\n${KNOWLEDGE_HEADER}\nOpening hours 9-5.`);
  });

  it('does not consume the supplement when asked not to', () => {
    const s = new Session('s1');
    s.turnInstruction = 'Keep me.';
    buildMessages(s, cfg(), 'x', false);
    expect(s.turnInstruction).toBe('Keep me.');
  });
});

describe('llmParams', () => {
  it('sends top_p/top_k/repeat penalty/stop only when they do something', () => {
    expect(llmParams(cfg())).toEqual({ maxTokens: 400, temperature: 0.2 });
    expect(llmParams(cfg({ llm_top_p: 0.9, llm_top_k: 40, llm_repeat_penalty: 1.1, llm_stop: ['END'] }))).toEqual({ maxTokens: 400, temperature: 0.2, topP: 0.9, topK: 40, repeatPenalty: 1.1, stop: ['END'] });
    expect(llmParams(cfg({ llm_top_p: 0.9, llm_top_p_enabled: false, llm_top_k: 40, llm_top_k_enabled: false }))).toEqual({ maxTokens: 400, temperature: 0.2 });
  });
});

describe('speakableReply', () => {
  it('cleans for speech and never returns nothing', () => {
    expect(speakableReply('<think>x</think>**Hi** there')).toBe('Hi there');
    expect(speakableReply('<think>only</think>')).toBe(EMPTY_LLM_REPLY);
    expect(speakableReply('%%%')).toBe('Got it. Please continue.');
  });
});

describe('compaction', () => {
  it('keeps max_history_turns pairs verbatim, shrinking to fit the context budget', () => {
    expect(keepCount(pairs(20), cfg(), fakeLlm())).toBe(16);
    expect(keepCount(pairs(20), cfg({ max_history_turns: 3 }), fakeLlm())).toBe(6);
    const long = pairs(10).map((m) => ({ ...m, content: m.content + 'x'.repeat(400) }));
    // 1000-token window − (400 + 300) reserve = 300 tokens ≈ 1200 chars ≈ 2 messages of ~400 chars
    expect(keepCount(long, cfg(), fakeLlm({ window: 1000 }))).toBe(2);
    expect(keepCount(long, cfg({ llm_context_tokens: 100_000 }), fakeLlm({ window: 1000 }))).toBe(16);
  });

  it('summarises the overflow, keeps the recent messages, and passes the old summary on', async () => {
    const s = new Session('s1');
    s.summary = 'Earlier: caller is Grace.';
    s.history = pairs(10);
    const llm = fakeLlm({ reply: async () => '<think>hmm</think> Grace booked a table. ' });
    expect(needsCompaction(s, cfg(), llm)).toBe(true);
    expect(await compact(s, cfg(), llm)).toBe('done');
    expect(s.history).toEqual(pairs(10).slice(4));
    expect(s.summary).toBe('Grace booked a table.');
    const input = llm.calls[0].messages[1].content;
    expect(input.split('\n').slice(0, 2)).toEqual(['Previous summary:', 'Earlier: caller is Grace.']);
    expect(input).toContain('user: q0\nassistant: a0\nuser: q1\nassistant: a1');
    expect(input).not.toContain('q2');
    expect(llm.calls[0].params.maxTokens).toBeGreaterThanOrEqual(512);
    expect(await compact(s, cfg(), llm)).toBe('skipped');
  });

  it('keeps the raw text as the summary when the summariser fails (nothing is lost)', async () => {
    const s = new Session('s1');
    s.history = pairs(9);
    const llm = fakeLlm({ reply: async () => { throw new Error('down'); } });
    expect(await compact(s, cfg(), llm)).toBe('failed');
    expect(s.summary).toBe('user: q0\nassistant: a0');
    expect(s.history).toHaveLength(16);
  });

  it('keeps turns that arrive while it runs, and gives up if the call was reset meanwhile', async () => {
    const s = new Session('s1');
    s.history = pairs(9);
    let release!: () => void;
    const llm = fakeLlm({ reply: () => new Promise<string>((r) => (release = () => r('Sum.'))) });
    const running = compact(s, cfg(), llm);
    expect(await compact(s, cfg(), llm)).toBe('skipped'); // one at a time per call
    s.history.push({ role: 'user', content: 'late q' }, { role: 'assistant', content: 'late a' });
    release();
    expect(await running).toBe('done');
    expect(s.history.slice(-2).map((m) => m.content)).toEqual(['late q', 'late a']);
    expect(s.history[0].content).toBe('q1');

    const t = new Session('s2');
    t.history = pairs(9);
    const llm2 = fakeLlm({ reply: () => new Promise<string>((r) => (release = () => r('Sum.'))) });
    const p = compact(t, cfg(), llm2);
    t.resetState();
    release();
    expect(await p).toBe('skipped');
    expect(t.history).toEqual([]);
    expect(t.summary).toBe('');
  });
});
