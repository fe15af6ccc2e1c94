/**
 * WAV codec. Pure: works on Uint8Array so both main and renderer can use it.
 * `parseWav` accepts PCM 8/16/24/32-bit integer and 32-bit float, any channel count, and
 * down-mixes to mono 16-bit. `encodeWav` always writes the canonical 44-byte header the phone's
 * strict parser expects (exact chunk sizes, PCM, 16-bit).
 */
export interface PcmAudio {
  /** samples per second */
  sampleRate: number;
  /** mono signed 16-bit samples */
  samples: Int16Array;
}

export class WavError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavError';
  }
}

export interface WavLimits {
  minRate?: number;
  maxRate?: number;
  maxChannels?: number;
  /** accept only 16-bit PCM (the input contract of the phone API) */
  pcm16Only?: boolean;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function ascii(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[off + i]);
  return s;
}

export function parseWav(bytes: Uint8Array, limits: WavLimits = {}): PcmAudio {
  if (bytes.length < 12) throw new WavError(`not a WAV file: ${bytes.length} bytes is too short`);
  if (ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WAVE') throw new WavError('not a WAV file: missing RIFF/WAVE header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let data: Uint8Array | undefined;
  while (off + 8 <= bytes.length) {
    const id = ascii(bytes, off, 4);
    let size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'data') {
      // tolerate streaming headers (0xFFFFFFFF / 0) and truncated data by clamping to what is there
      if (size === 0 || body + size > bytes.length) size = bytes.length - body;
      data = bytes.subarray(body, body + size);
      break;
    }
    if (body + size > bytes.length) throw new WavError(`WAV chunk '${id}' declares ${size} bytes but only ${bytes.length - body} remain`);
    if (id === 'fmt ') {
      if (size < 16) throw new WavError('WAV fmt chunk is too short');
      let format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const rate = view.getUint32(body + 4, true);
      const bits = view.getUint16(body + 14, true);
      if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE sub-format
      fmt = { format, channels, rate, bits };
    }
    off = body + size + (size & 1);
  }
  if (!fmt) throw new WavError('WAV file has no fmt chunk before its data');
  if (!data) throw new WavError('WAV file has no data chunk');
  const { format, channels, rate, bits } = fmt;
  if (format !== 1 && format !== 3) throw new WavError(`unsupported WAV encoding (format tag ${format}); send PCM`);
  if (format === 3 && bits !== 32) throw new WavError(`unsupported float WAV with ${bits} bits`);
  if (format === 1 && ![8, 16, 24, 32].includes(bits)) throw new WavError(`unsupported PCM bit depth ${bits}`);
  if (limits.pcm16Only && (format !== 1 || bits !== 16)) throw new WavError(`expected 16-bit PCM WAV, got ${format === 3 ? 'float' : 'PCM'} ${bits}-bit`);
  if (channels < 1 || channels > (limits.maxChannels ?? 8)) throw new WavError(`unsupported channel count ${channels}`);
  if (rate < (limits.minRate ?? 1000) || rate > (limits.maxRate ?? 192000)) {
    throw new WavError(`unsupported sample rate ${rate} Hz (accepted ${limits.minRate ?? 1000}–${limits.maxRate ?? 192000} Hz)`);
  }
  const bytesPerSample = bits / 8;
  const frameBytes = bytesPerSample * channels;
  const frames = Math.floor(data.length / frameBytes);
  if (format === 1 && bits === 16 && channels === 1 && LITTLE_ENDIAN) {
    // fast path (the phone's format): one copy, no per-sample decoding
    const copy = new Uint8Array(frames * 2);
    copy.set(data.subarray(0, frames * 2));
    return { sampleRate: rate, samples: new Int16Array(copy.buffer) };
  }
  const out = new Int16Array(frames);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let f = 0; f < frames; f++) {
    let acc = 0;
    for (let c = 0; c < channels; c++) {
      const p = f * frameBytes + c * bytesPerSample;
      let v: number;
      if (format === 3) v = Math.max(-1, Math.min(1, dv.getFloat32(p, true))) * 32767;
      else if (bits === 16) v = dv.getInt16(p, true);
      else if (bits === 8) v = (dv.getUint8(p) - 128) << 8;
      else if (bits === 24) v = ((dv.getUint8(p) | (dv.getUint8(p + 1) << 8) | (dv.getInt8(p + 2) << 16)) >> 8);
      else v = dv.getInt32(p, true) >> 16;
      acc += v;
    }
    out[f] = Math.round(acc / channels);
  }
  return { sampleRate: rate, samples: out };
}

/** Canonical 44-byte-header mono 16-bit PCM WAV. */
export function encodeWav(audio: PcmAudio): Uint8Array {
  const dataBytes = audio.samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  const w = (off: number, s: string) => { for (let i = 0; i < s.length; i++) out[off + i] = s.charCodeAt(i); };
  w(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  w(8, 'WAVE');
  w(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, audio.sampleRate, true);
  v.setUint32(28, audio.sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  w(36, 'data');
  v.setUint32(40, dataBytes, true);
  if (LITTLE_ENDIAN) out.set(new Uint8Array(audio.samples.buffer, audio.samples.byteOffset, dataBytes), 44);
  else for (let i = 0; i < audio.samples.length; i++) v.setInt16(44 + i * 2, audio.samples[i], true);
  return out;
}

/** Strict check the way the phone validates a reply WAV (phone spec §2.4). Returns a reason or null. */
export function phoneWavProblem(bytes: Uint8Array): string | null {
  if (bytes.length < 44) return 'shorter than 44 bytes';
  if (ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WAVE') return 'no RIFF/WAVE header';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 12;
  let sawFmt = false;
  while (off + 8 <= bytes.length) {
    const id = ascii(bytes, off, 4);
    const size = view.getUint32(off + 4, true);
    if (off + 8 + size > bytes.length) return `chunk '${id}' overruns the file`;
    if (id === 'fmt ') sawFmt = true;
    if (id === 'data') {
      if (!sawFmt) return 'data before fmt';
      if (size === 0) return 'empty data chunk';
      return null;
    }
    off += 8 + size + (size & 1);
  }
  return 'no data chunk';
}

export function durationMs(audio: PcmAudio): number {
  return (audio.samples.length / audio.sampleRate) * 1000;
}

export function silence(sampleRate: number, ms: number): PcmAudio {
  return { sampleRate, samples: new Int16Array(Math.round((sampleRate * ms) / 1000)) };
}

/** Concatenate mono clips of the same rate. */
export function concatPcm(parts: PcmAudio[], sampleRate?: number): PcmAudio {
  const rate = sampleRate ?? parts[0]?.sampleRate ?? 16000;
  let n = 0;
  for (const p of parts) {
    if (p.sampleRate !== rate) throw new WavError(`cannot concatenate ${p.sampleRate} Hz audio onto ${rate} Hz`);
    n += p.samples.length;
  }
  const out = new Int16Array(n);
  let o = 0;
  for (const p of parts) { out.set(p.samples, o); o += p.samples.length; }
  return { sampleRate: rate, samples: out };
}

/** Root-mean-square level of the samples (int16 units). */
export function rms(samples: Int16Array, start = 0, end = samples.length): number {
  let acc = 0;
  const n = Math.max(0, end - start);
  if (n === 0) return 0;
  for (let i = start; i < end; i++) acc += samples[i] * samples[i];
  return Math.sqrt(acc / n);
}
