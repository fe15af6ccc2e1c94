/**
 * Engine selection per stage from config, and live re-selection when the relevant keys change.
 * `auto` keeps upstream semantics (a server named by the upstream keys wins); explicit `*_engine`
 * keys choose embedded engines. Any stage without an implementation answers with a clear error that
 * says what to install or configure — the gateway itself always starts.
 */
import type { Logger } from 'pino';
import type { AppConfig } from '../../src-shared/config/schema';
import { EngineUnavailableError, type Asr, type EngineHealth, type Engines, type Llm, type Tts } from './types';

export type AsrKind = 'openai' | 'whisper';
export type TtsKind = 'openai' | 'piper' | 'espeak';
export type LlmKind = 'openai' | 'llama';

export interface EngineProviders {
  asr: Partial<Record<AsrKind, () => Asr>>;
  tts: Partial<Record<TtsKind, () => Tts>>;
  llm: Partial<Record<LlmKind, () => Llm>>;
}

export interface EngineChoice {
  asr: AsrKind;
  tts: TtsKind;
  llm: LlmKind;
  notes: string[];
}

export function chooseEngines(cfg: AppConfig): EngineChoice {
  const notes: string[] = [];
  let asr: AsrKind;
  if (cfg.asr_engine === 'auto') asr = cfg.mlx_audio_base ? 'openai' : 'whisper';
  else {
    asr = cfg.asr_engine;
    if (asr === 'whisper' && cfg.mlx_audio_base) notes.push(`asr_engine=whisper: speech recognition runs embedded although mlx_audio_base is set (${cfg.mlx_audio_base})`);
  }
  let tts: TtsKind;
  if (cfg.tts_engine === 'auto') tts = cfg.tts_lang === 'de' ? 'piper' : cfg.mlx_audio_base ? 'openai' : 'espeak';
  else {
    tts = cfg.tts_engine;
    if (tts !== 'openai' && tts !== 'piper' && cfg.mlx_audio_base) notes.push(`tts_engine=${tts}: speech is synthesised embedded although mlx_audio_base is set`);
  }
  let llm: LlmKind;
  if (cfg.llm_engine === 'auto') llm = cfg.llm_base_url ? 'openai' : 'llama';
  else {
    llm = cfg.llm_engine;
    if (llm === 'llama' && cfg.llm_base_url) notes.push(`llm_engine=llama: replies come from the embedded model although llm_base_url is set (${cfg.llm_base_url})`);
  }
  return { asr, tts, llm, notes };
}

const HOW_TO: Record<string, string> = {
  openai: 'set mlx_audio_base / llm_base_url to an OpenAI-compatible server',
  whisper: 'download a whisper model in Settings → Models',
  llama: 'download a GGUF chat model in Settings → Models, or set llm_base_url to an OpenAI-compatible server',
  espeak: 'the embedded espeak-ng voice is not available in this build',
  piper: 'start a Piper HTTP server at piper_base',
};

function unavailable(stage: 'asr' | 'llm' | 'tts', kind: string): Asr & Tts & Llm {
  const message = `no ${stage.toUpperCase()} engine: "${kind}" is not available — ${HOW_TO[kind] ?? 'check the engine settings'}`;
  const fail = async (): Promise<never> => {
    throw new EngineUnavailableError(stage, message);
  };
  return {
    kind: `unavailable:${kind}`,
    transcribe: fail,
    synthesize: fail,
    complete: fail,
    label: () => '',
    contextWindow: () => 0,
    health: async (): Promise<EngineHealth> => ({ ok: false, error: message }),
  };
}

export class EngineSet {
  private engines!: Engines;
  private choice!: EngineChoice;
  private readonly closing: Promise<void>[] = [];
  private piperBackend = '';

  constructor(private readonly providers: EngineProviders, private readonly config: () => AppConfig, private readonly logger?: Logger) {
    this.rebuild(true);
  }

  current(): Engines {
    return this.engines;
  }

  get selected(): EngineChoice {
    return this.choice;
  }

  /** Re-select after a config change; only stages whose choice changed are rebuilt. */
  rebuild(initial = false): void {
    const next = chooseEngines(this.config());
    const make = <K extends string, T>(stage: 'asr' | 'llm' | 'tts', kind: K, table: Partial<Record<K, () => T>>): T => {
      const f = table[kind];
      if (!f) return unavailable(stage, kind) as unknown as T;
      try {
        return f();
      } catch (e) {
        this.logger?.error({ err: e, stage, kind }, 'engine failed to start');
        return unavailable(stage, kind) as unknown as T;
      }
    };
    const prev = this.engines;
    const prevChoice = this.choice;
    const asr = !initial && prevChoice?.asr === next.asr ? prev.asr : make('asr', next.asr, this.providers.asr);
    // the piper kind has two backends (HTTP server or local voice): a backend switch rebuilds it too
    const piperBackend = String((this.config() as Record<string, unknown>).piper_backend ?? '');
    const sameTts = prevChoice?.tts === next.tts && (next.tts !== 'piper' || piperBackend === this.piperBackend);
    this.piperBackend = piperBackend;
    const tts = !initial && sameTts ? prev.tts : make('tts', next.tts, this.providers.tts);
    const llm = !initial && prevChoice?.llm === next.llm ? prev.llm : make('llm', next.llm, this.providers.llm);
    if (prev) {
      for (const [old, cur] of [[prev.asr, asr], [prev.tts, tts], [prev.llm, llm]] as const) {
        if (old !== cur && old.close) this.closing.push(old.close().catch(() => undefined));
      }
    }
    this.engines = { asr, tts, llm };
    this.choice = next;
    for (const n of next.notes) this.logger?.info(n);
    this.logger?.info({ asr: next.asr, tts: next.tts, llm: next.llm }, 'engines selected');
  }

  async warmup(): Promise<void> {
    await Promise.all(
      Object.entries(this.engines).map(async ([stage, e]) => {
        try {
          await e.warmup?.();
        } catch (err) {
          this.logger?.warn({ err, stage }, 'engine warm-up failed');
        }
      }),
    );
  }

  async health(): Promise<{ asr: EngineHealth; tts: EngineHealth; llm: EngineHealth }> {
    const safe = async (e: { health(): Promise<EngineHealth> }) => {
      try {
        return await e.health();
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    };
    const [asr, tts, llm] = await Promise.all([safe(this.engines.asr), safe(this.engines.tts), safe(this.engines.llm)]);
    return { asr: { kind: this.engines.asr.kind, ...asr }, tts: { kind: this.engines.tts.kind, ...tts }, llm: { kind: this.engines.llm.kind, ...llm } };
  }

  async close(): Promise<void> {
    await Promise.all([...Object.values(this.engines).map((e) => e.close?.().catch(() => undefined)), ...this.closing]);
  }
}
