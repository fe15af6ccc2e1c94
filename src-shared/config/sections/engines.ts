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

  // ---- embedded whisper.cpp ASR ----
  /** Whisper ggml model: a catalogue id (`whisper-base.en`), a file name in models_dir, or an absolute path; empty = the best installed one. */
  whisper_model: z.string().default(''),
  /** Threads for whisper.cpp; 0 = the free cores (cores − 1, at least 1: a thread more than free cores spin-waits and crawls). */
  whisper_threads: z.number().int().min(0).max(64).default(0),
  /** Encode only as much of the 30 s window as the utterance needs (audio_ctx); much faster on short turns. */
  whisper_short_audio: z.boolean().default(true),
  /** Upper bound of tokens per segment (bounds the time a noisy clip can take); 0 = no bound. */
  whisper_max_tokens: z.number().int().min(0).max(448).default(128),

  // ---- embedded llama.cpp LLM ----
  /** GGUF chat model: a catalogue id, a file name in models_dir, or an absolute path; empty = `llm_model` if it names a .gguf file, else the best installed one. */
  llama_model: z.string().default(''),
  /** Threads for llama.cpp; 0 = automatic: every core on 1–2 cores, else the free cores (cores − 1). */
  llama_threads: z.number().int().min(0).max(64).default(0),
  /** Context window per call in tokens; 0 = min(model's, 4096). */
  llama_context_size: z.number().int().min(0).max(131072).default(0),
  /** Calls whose conversation (KV cache) is kept warm at once; older ones are evicted. */
  llama_max_sessions: z.number().int().min(1).max(16).default(2),

  // ---- embedded espeak-ng TTS ----
  /** `wasm`: the bundled espeak-ng (WebAssembly, child process, no download); `system`: the `espeak-ng` program on PATH. */
  espeak_backend: z.enum(['wasm', 'system']).default('wasm'),
  /** espeak-ng voice (`en-us`, `en-gb`, `de`, … or `en-us+f3`); empty = from `tts_lang`. */
  espeak_voice: z.string().max(64).regex(/^[A-Za-z0-9_+\-/]*$/).default(''),
  /** Speaking rate in words per minute before `speed` is applied (espeak-ng's default is 175). */
  espeak_rate: z.number().int().min(80).max(450).default(175),
  /** Base pitch 0–99. */
  espeak_pitch: z.number().int().min(0).max(99).default(50),

  // ---- Piper voices ----
  /** `http`: a Piper server at `piper_base` (upstream); `local`: a downloaded Piper voice run in-process (onnxruntime). */
  piper_backend: z.enum(['http', 'local']).default('http'),
  /** Local Piper voice: a catalogue id (`piper-de_DE-thorsten-medium`), an .onnx file name in models_dir, or a path; empty = the best installed voice for `tts_lang`. */
  piper_local_voice: z.string().default(''),
  /** Threads for a local Piper voice; 0 = the free cores. */
  piper_threads: z.number().int().min(0).max(64).default(0),
};
