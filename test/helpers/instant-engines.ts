/**
 * In-process engines for gateway tests and bench:gateway: instant, deterministic, observable.
 * ASR answers from a script (silence → ''), the LLM streams a reply word by word, TTS returns a tone
 * whose length follows the text. Knobs make each stage slow or failing.
 */
import { rms, type PcmAudio } from '../../src-shared/audio/wav';
import type { Asr, AsrInput, ChatMessage, EngineHealth, Llm, LlmRequest, Tts } from '../../src-main/engines/types';
import type { EngineProviders } from '../../src-main/engines/select';

export interface InstantEngines {
  providers: EngineProviders;
  asr: Asr;
  llm: Llm;
  tts: Tts;
  /** next transcripts for non-silent audio (FIFO); when empty, `defaultTranscript` */
  transcripts: string[];
  defaultTranscript: (audio: PcmAudio, n: number) => string;
  reply: (messages: ChatMessage[]) => string;
  asrCalls: AsrInput[];
  llmCalls: LlmRequest[];
  ttsCalls: string[];
  /** milliseconds each stage waits (honours AbortSignal) */
  delay: { asr: number; llm: number; tts: number; tokenMs: number };
  fail: { asr: string | null; llm: string | null; tts: string | null };
  /** resolves the next LLM call when set: lets a test hold a turn in flight */
  gate: Promise<void> | null;
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    }, { once: true });
  });
}

export function tone(text: string, rate = 22050): PcmAudio {
  const words = Math.max(1, text.split(/\s+/).filter(Boolean).length);
  const n = Math.round(rate * 0.06 * words);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return { sampleRate: rate, samples };
}

export function createInstantEngines(): InstantEngines {
  const health = async (): Promise<EngineHealth> => ({ ok: true });
  const e: InstantEngines = {
    transcripts: [],
    defaultTranscript: (_a: PcmAudio, n: number) => `caller utterance number ${n}`,
    reply: (messages: ChatMessage[]) => `You said: ${messages[messages.length - 1].content}. Anything else?`,
    asrCalls: [],
    llmCalls: [],
    ttsCalls: [],
    delay: { asr: 0, llm: 0, tts: 0, tokenMs: 0 },
    fail: { asr: null, llm: null, tts: null },
    gate: null,
  } as unknown as InstantEngines;
  let utterances = 0;
  e.asr = {
    kind: 'instant',
    async transcribe(input) {
      e.asrCalls.push(input);
      await wait(e.delay.asr, input.signal);
      if (e.fail.asr) throw new Error(e.fail.asr);
      if (rms(input.audio.samples) < 30) return { text: '' };
      return { text: e.transcripts.shift() ?? e.defaultTranscript(input.audio, ++utterances) };
    },
    health,
  };
  e.llm = {
    kind: 'instant',
    label: () => 'instant-llm',
    contextWindow: () => 4096,
    async complete(req) {
      e.llmCalls.push(req);
      const t0 = performance.now();
      if (e.gate) await e.gate;
      await wait(e.delay.llm, req.signal);
      if (e.fail.llm) throw new Error(e.fail.llm);
      const text = e.reply(req.messages);
      let ttft: number | undefined;
      if (req.onToken) {
        for (const piece of text.match(/\S+\s*/g) ?? []) {
          await wait(e.delay.tokenMs, req.signal);
          ttft ??= performance.now() - t0;
          req.onToken(piece);
        }
      }
      return { text, ttftMs: ttft };
    },
    health,
  };
  e.tts = {
    kind: 'instant',
    async synthesize(text, opts) {
      e.ttsCalls.push(text);
      await wait(e.delay.tts, opts?.signal);
      if (e.fail.tts) throw new Error(e.fail.tts);
      return tone(text);
    },
    health,
  };
  e.providers = {
    asr: { whisper: () => e.asr, openai: () => e.asr },
    tts: { espeak: () => e.tts, openai: () => e.tts, piper: () => e.tts },
    llm: { llama: () => e.llm, openai: () => e.llm },
  };
  return e;
}
