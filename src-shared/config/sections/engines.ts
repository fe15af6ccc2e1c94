/** Engine selection keys (ours). Owned by the engines capability; see README "Configuration". */
import { z } from 'zod';

export const engineKeys = {
  /**
   * Which implementation runs each stage. `auto` keeps upstream semantics: an OpenAI-compatible
   * server when the upstream keys point at one (`mlx_audio_base` for ASR/TTS, `tts_lang: "de"` → Piper,
   * a non-empty `llm_base_url` for the LLM), otherwise the embedded engine.
   */
  asr_engine: z.enum(['auto', 'openai', 'whisper']).default('auto'),
  tts_engine: z.enum(['auto', 'openai', 'piper', 'espeak']).default('auto'),
  llm_engine: z.enum(['auto', 'openai', 'llama']).default('auto'),
  /** Folder holding downloaded model files; empty = `<data dir>/models`. */
  models_dir: z.string().default(''),
  /** Timeout of one request to an OpenAI-compatible engine server, seconds. */
  engine_timeout_sec: z.number().min(1).max(600).default(60),
};
