/**
 * Wire shapes of our settings sections `GET|POST /api/config/engines` and `/api/config/network`
 * (the upstream call / llm / tts sections keep their upstream shapes). Pure types: the gateway builds
 * these views, the console edits them.
 */

export interface EnginesConfigView {
  asr_engine: 'auto' | 'openai' | 'whisper';
  stt_model: string;
  stt_language: string;
  mlx_audio_base: string;
  engine_timeout_sec: number;
  models_dir: string;
  whisper_model: string;
  whisper_threads: number;
  whisper_short_audio: boolean;
  whisper_max_tokens: number;
  llama_model: string;
  llama_threads: number;
  llama_context_size: number;
  llama_max_sessions: number;
  espeak_backend: 'wasm' | 'system';
  espeak_voice: string;
  espeak_rate: number;
  espeak_pitch: number;
  piper_backend: 'http' | 'local';
  piper_local_voice: string;
  piper_threads: number;
  piper_base: string;
  /** the folder in use (`models_dir`, or the data folder's `models`) */
  models_dir_effective: string;
  /** the engine kind running each stage now */
  selected: { asr: string; tts: string; llm: string };
  /** keys a GATEWAY_* variable or the command line overrides (they win over the saved value) */
  overridden: Record<string, 'environment' | 'command line'>;
}

export interface NetworkConfigView {
  host: string;
  port: number;
  agent_token_required: boolean;
  /** what the running server was started with; address and port changes apply on the next start */
  listening: { host: string; port: number; bound_port: number } | null;
  restart_required: boolean;
  /** reachable from other machines (which need the operator token) */
  exposed: boolean;
  overridden: Record<string, 'environment' | 'command line'>;
}
