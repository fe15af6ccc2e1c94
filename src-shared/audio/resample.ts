/**
 * Sample-rate conversion for mono audio. Windowed-sinc low-pass when downsampling (so 48/24 kHz
 * phone audio does not alias into the 16 kHz ASR band), linear interpolation when upsampling.
 */
import type { PcmAudio } from './wav';

function lowpassTaps(cutoff: number, halfWidth: number): Float32Array {
  const taps = new Float32Array(halfWidth * 2 + 1);
  let sum = 0;
  for (let i = -halfWidth; i <= halfWidth; i++) {
    const x = i === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * i) / (Math.PI * i);
    const w = 0.54 + 0.46 * Math.cos((Math.PI * i) / halfWidth); // Hamming
    taps[i + halfWidth] = x * w;
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
  const taps = lowpassTaps(0.5 / ratio, half);
  for (let i = 0; i < outLen; i++) {
    const center = Math.round(i * ratio);
    let acc = 0;
    for (let k = -half; k <= half; k++) {
      const j = center + k;
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
