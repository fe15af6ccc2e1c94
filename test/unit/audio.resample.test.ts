/** Sample-rate conversion: lengths, level, waveform fidelity and anti-aliasing. */
import { describe, expect, it } from 'vitest';
import { floatToPcm, resample, resampleToFloat32 } from '../../src-shared/audio/resample';
import { rms, type PcmAudio } from '../../src-shared/audio/wav';

function sine(rate: number, hz: number, seconds: number, amp = 10000): PcmAudio {
  const n = Math.round(rate * seconds);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return { sampleRate: rate, samples };
}

/** Signal-to-error ratio (dB) of the output against the ideal sine at the output rate, edges excluded. */
function snrDb(out: PcmAudio, hz: number, amp = 10000, edge = 64): number {
  let sig = 0;
  let err = 0;
  for (let i = edge; i < out.samples.length - edge; i++) {
    const ideal = amp * Math.sin((2 * Math.PI * hz * i) / out.sampleRate);
    sig += ideal * ideal;
    err += (out.samples[i] - ideal) ** 2;
  }
  return 10 * Math.log10(sig / err);
}

const interior = (s: Int16Array, edge = 64) => s.subarray(edge, s.length - edge);

describe('resample', () => {
  it('returns the input unchanged at the same rate', () => {
    const a = sine(16000, 440, 0.1);
    expect(resample(a, 16000)).toBe(a);
  });

  it('produces length × target/source samples for the rates the phone and engines use', () => {
    const pairs: [number, number][] = [[48000, 16000], [24000, 16000], [44100, 16000], [22050, 16000], [8000, 16000], [16000, 24000], [22050, 24000], [24000, 48000], [11025, 24000]];
    for (const [from, to] of pairs) {
      for (const n of [0, 1, 997, 24000, 72001]) {
        const out = resample({ sampleRate: from, samples: new Int16Array(n) }, to);
        expect(out.sampleRate).toBe(to);
        expect(Math.abs(out.samples.length - (n * to) / from), `${from}→${to} n=${n}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('preserves a DC level when down- and upsampling', () => {
    for (const [from, to] of [[48000, 16000], [24000, 16000], [44100, 16000], [16000, 24000], [8000, 22050]] as const) {
      const out = resample({ sampleRate: from, samples: new Int16Array(from / 2).fill(12000) }, to);
      for (const v of interior(out.samples)) expect(Math.abs(v - 12000), `${from}→${to}`).toBeLessThanOrEqual(2);
    }
  });

  it('keeps an in-band tone at its level and shape (integer and fractional ratios)', () => {
    const cases: [number, number, number, number][] = [
      // from, to, tone Hz, minimum SNR in dB
      [48000, 16000, 1000, 45],
      [24000, 16000, 1000, 45], // the phone's usual rate into the ASR rate
      [24000, 16000, 3000, 45],
      [44100, 16000, 3000, 45],
      [22050, 24000, 1000, 30], // TTS output, linear interpolation
      [16000, 24000, 1000, 30],
    ];
    for (const [from, to, hz, minSnr] of cases) {
      const input = sine(from, hz, 0.5);
      const out = resample(input, to);
      const level = rms(interior(out.samples)) / rms(input.samples);
      expect(level, `${from}→${to} @${hz}`).toBeGreaterThan(0.97);
      expect(level, `${from}→${to} @${hz}`).toBeLessThan(1.03);
      expect(snrDb(out, hz), `${from}→${to} @${hz}`).toBeGreaterThan(minSnr);
    }
  });

  it('strongly attenuates content above the new Nyquist instead of aliasing it (10 kHz, 48k → 16k)', () => {
    const input = sine(48000, 10000, 0.5);
    const out = resample(input, 16000);
    // unfiltered decimation would fold it to 6 kHz at full level
    expect(rms(interior(out.samples)) / rms(input.samples)).toBeLessThan(0.05);
    const input24 = sine(24000, 11000, 0.5);
    expect(rms(interior(resample(input24, 16000).samples)) / rms(input24.samples)).toBeLessThan(0.05);
  });

  it('does not overflow int16 on full-scale input', () => {
    const full = sine(48000, 1000, 0.2, 32767);
    const out = resample(full, 16000);
    expect(Math.max(...out.samples)).toBeLessThanOrEqual(32767);
    expect(Math.min(...out.samples)).toBeGreaterThanOrEqual(-32768);
    expect(Math.max(...interior(out.samples))).toBeGreaterThan(32000);
  });
});

describe('resampleToFloat32 / floatToPcm', () => {
  it('scales int16 to [-1, 1) floats', () => {
    const f = resampleToFloat32({ sampleRate: 16000, samples: Int16Array.from([0, 16384, -32768, 32767]) }, 16000);
    expect(Array.from(f)).toEqual([0, 0.5, -1, 32767 / 32768]);
  });

  it('converts floats back to int16 with clamping', () => {
    const p = floatToPcm(Float32Array.from([0, 0.5, -0.5, 1, -1, 2, -3]), 22050);
    expect(p.sampleRate).toBe(22050);
    expect(Array.from(p.samples)).toEqual([0, Math.round(0.5 * 32767), Math.round(-0.5 * 32767), 32767, -32767, 32767, -32768]);
  });
});
