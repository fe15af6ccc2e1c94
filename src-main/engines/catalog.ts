/** Static voice catalogues upstream serves in /api/config/tts (spec §10.6). */
export const KOKORO_VOICES: Record<string, string[]> = {
  'American Female': ['af_heart', 'af_alloy', 'af_aoede', 'af_bella', 'af_jessica', 'af_kore', 'af_nicole', 'af_nova', 'af_river', 'af_sarah', 'af_sky'],
  'American Male': ['am_adam', 'am_echo', 'am_eric', 'am_fenrir', 'am_liam', 'am_michael', 'am_onyx', 'am_puck', 'am_santa'],
  'British Female': ['bf_alice', 'bf_emma', 'bf_isabella', 'bf_lily'],
  'British Male': ['bm_daniel', 'bm_fable', 'bm_george', 'bm_lewis'],
};

export const PIPER_VOICES: Record<string, string[]> = {
  Male: ['thorsten-high', 'thorsten-medium', 'thorsten-low', 'karlsson-low', 'pavoque-low'],
  Female: ['eva_k-x_low', 'kerstin-low', 'ramona-low'],
  Emotional: ['thorsten_emotional-medium'],
};

export const PIPER_EMOTIONS: Record<string, number> = { amused: 0, angry: 1, disgusted: 2, drunk: 3, neutral: 4, sleepy: 5, surprised: 6, whisper: 7 };
