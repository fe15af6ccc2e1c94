/**
 * Wire shapes of our settings sections `GET|POST /api/config/engines`, `/api/config/network` and
 * `/api/config/mock-call` (the upstream call / llm / tts sections keep their upstream shapes). Pure
 * types: the gateway builds these views, the console edits them.
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

/** The mock-call endpointing / VAD / device keys (src-shared/config/sections/mock-call.ts). */
export interface MockCallSettingValues {
  mock_barge_in: boolean;
  mock_barge_in_min_speech_ms: number;
  mock_vad_engine: 'silero' | 'energy';
  mock_vad_threshold: number;
  mock_vad_energy_threshold: number;
  mock_vad_pre_roll_ms: number;
  mock_vad_min_speech_ms: number;
  mock_vad_end_silence_ms: number;
  mock_vad_max_utterance_ms: number;
  /** ALSA/sox device name; '' = system default */
  mock_input_device: string;
  mock_output_device: string;
  mock_recorder: 'auto' | 'arecord' | 'sox' | 'rec';
  mock_level_interval_ms: number;
}

export interface MockCallConfigView extends MockCallSettingValues {
  /** the schema defaults of these keys (the endpointing ones mirror the phone's constants) */
  defaults: MockCallSettingValues;
  /** a mock call reads these settings when it starts: calls already running keep theirs */
  applies: 'next_mock_call';
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
