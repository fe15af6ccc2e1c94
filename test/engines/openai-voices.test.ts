import { describe, expect, it } from 'vitest';
import { catalogueJson, KOKORO_VOICES, PIPER_EMOTIONS, PIPER_VOICES, voicesForModel } from '../../src-main/engines/voices';

describe('voice catalogues (spec §10.6)', () => {
  it('lists the Kokoro voices in the upstream groups and order', () => {
    expect(Object.keys(KOKORO_VOICES)).toEqual(['American Female', 'American Male', 'British Female', 'British Male']);
    expect(Object.values(KOKORO_VOICES).map((v) => v.length)).toEqual([11, 9, 4, 4]);
    expect(KOKORO_VOICES['American Female'][0]).toBe('af_heart');
    expect(KOKORO_VOICES['American Male']).toContain('am_adam');
    expect(KOKORO_VOICES['British Male']).toEqual(['bm_daniel', 'bm_fable', 'bm_george', 'bm_lewis']);
  });

  it('lists the Piper voices and emotion speaker ids', () => {
    expect(PIPER_VOICES).toEqual({
      Male: ['thorsten-high', 'thorsten-medium', 'thorsten-low', 'karlsson-low', 'pavoque-low'],
      Female: ['eva_k-x_low', 'kerstin-low', 'ramona-low'],
      Emotional: ['thorsten_emotional-medium'],
    });
    expect(PIPER_EMOTIONS).toEqual({ amused: 0, angry: 1, disgusted: 2, drunk: 3, neutral: 4, sleepy: 5, surprised: 6, whisper: 7 });
  });

  it('offers the Kokoro catalogue only for a Kokoro model (case-insensitive)', () => {
    expect(voicesForModel('mlx-community/Kokoro-82M-bf16')).toBe(KOKORO_VOICES);
    expect(voicesForModel('hexgrad/kokoro')).toBe(KOKORO_VOICES);
    expect(voicesForModel('tts-1')).toEqual({});
  });

  it('gives JSON copies that do not alias the catalogue', () => {
    const copy = catalogueJson(KOKORO_VOICES);
    copy['British Male'].push('bm_new');
    expect(KOKORO_VOICES['British Male']).toHaveLength(4);
  });
});
