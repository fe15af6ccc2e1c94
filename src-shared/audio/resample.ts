/**
 * Sample-rate conversion for mono audio. Windowed-sinc low-pass when downsampling (so 48/24 kHz
 * phone audio does not alias into the 16 kHz ASR band), linear interpolation when upsampling.
 */
import type { PcmAudio } from './wav';

/** Sub-sample positions the low-pass kernel is tabulated at (phase error ≤ 1/256 input sample). */
const PHASES = 128;

/**
 * Hamming-windowed sinc low-pass weights for input samples at offsets k − frac (k = −half … half+1) from
 * the exact output position, normalised to unity gain. Evaluating the kernel at the fractional position
 * matters for non-integer ratios (24 kHz → 16 kHz): snapping to the nearest input sample jitters the
 * timing by up to half a sample and adds audible distortion.
 */
function lowpassTaps(cutoff: number, half: number, frac: number): Float32Array {
  const taps = new Float32Array(half * 2 + 2);
  const width = half + 1;
  let sum = 0;
  for (let k = -half; k <= half + 1; k++) {
    const d = k - frac;
    const x = d === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * d) / (Math.PI * d);
    const w = Math.abs(d) >= width ? 0 : 0.54 + 0.46 * Math.cos((Math.PI * d) / width); // Hamming
    taps[k + half] = x * w;
    sum += x * w;
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

/** Resample to float samples in [-1, 1] (what whisper.cpp wants). */
export function resampleToFloat32(input: PcmAudio, targetRate: number): Float32Array {
  const src = input.samples;
  const ratio = input.sampleRate / targetRate;
  const outLen = Math.floor(src.length / ratio);
  const out = new Float32Array(outLen);
  if (ratio === 1) {
    for (let i = 0; i < src.length; i++) out[i] = src[i] / 32768;
    return out;
  }
  if (ratio < 1) {
    for (let i = 0; i < outLen; i++) {
      const pos = i * ratio;
      const i0 = Math.floor(pos);
      const i1 = Math.min(i0 + 1, src.length - 1);
      const frac = pos - i0;
      out[i] = (src[i0] * (1 - frac) + src[i1] * frac) / 32768;
    }
    return out;
  }
  const half = 16;
  const bank: Float32Array[] = [];
  for (let p = 0; p <= PHASES; p++) bank.push(lowpassTaps(0.5 / ratio, half, p / PHASES));
  for (let i = 0; i < outLen; i++) {
    const pos = i * ratio;
    const base = Math.floor(pos);
    const taps = bank[Math.round((pos - base) * PHASES)];
    let acc = 0;
    for (let k = -half; k <= half + 1; k++) {
      const j = base + k;
      if (j >= 0 && j < src.length) acc += src[j] * taps[k + half];
    }
    out[i] = acc / 32768;
  }
  return out;
}

export function resample(input: PcmAudio, targetRate: number): PcmAudio {
  if (input.sampleRate === targetRate) return input;
  const f = resampleToFloat32(input, targetRate);
  const samples = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) samples[i] = Math.max(-32768, Math.min(32767, Math.round(f[i] * 32768)));
  return { sampleRate: targetRate, samples };
}

export function floatToPcm(samples: Float32Array, sampleRate: number): PcmAudio {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767)));
  return { sampleRate, samples: out };
}
