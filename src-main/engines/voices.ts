/**
 * The static voice catalogues the upstream gateway hard-codes (spec §10.6), as `GET /api/config/tts`
 * returns them (§3.6). Group names and order are part of the observable API.
 */

export type VoiceCatalogue = Readonly<Record<string, readonly string[]>>;

export const KOKORO_VOICES: VoiceCatalogue = {
  'American Female': ['af_heart', 'af_alloy', 'af_aoede', 'af_bella', 'af_jessica', 'af_kore', 'af_nicole', 'af_nova', 'af_river', 'af_sarah', 'af_sky'],
  'American Male': ['am_adam', 'am_echo', 'am_eric', 'am_fenrir', 'am_liam', 'am_michael', 'am_onyx', 'am_puck', 'am_santa'],
  'British Female': ['bf_alice', 'bf_emma', 'bf_isabella', 'bf_lily'],
  'British Male': ['bm_daniel', 'bm_fable', 'bm_george', 'bm_lewis'],
};

export const PIPER_VOICES: VoiceCatalogue = {
  Male: ['thorsten-high', 'thorsten-medium', 'thorsten-low', 'karlsson-low', 'pavoque-low'],
  Female: ['eva_k-x_low', 'kerstin-low', 'ramona-low'],
  Emotional: ['thorsten_emotional-medium'],
};

/** Emotion → Piper `speaker_id` of the thorsten_emotional model. */
export const PIPER_EMOTIONS: Readonly<Record<string, number>> = {
  amused: 0,
  angry: 1,
  disgusted: 2,
  drunk: 3,
  neutral: 4,
  sleepy: 5,
  surprised: 6,
  whisper: 7,
};

/** The `voices` field for English TTS: the Kokoro catalogue only when the model is a Kokoro one. */
export function voicesForModel(ttsModel: string): VoiceCatalogue {
  return ttsModel.toLowerCase().includes('kokoro') ? KOKORO_VOICES : {};
}

/** Plain copies for JSON responses (callers may mutate them). */
export function catalogueJson(c: VoiceCatalogue): Record<string, string[]> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, [...v]]));
}
