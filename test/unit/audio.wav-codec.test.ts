/** WAV codec: every input layout the gateway may receive, and the canonical WAV it answers with. */
import { describe, expect, it } from 'vitest';
import { concatPcm, durationMs, encodeWav, parseWav, phoneWavProblem, rms, silence, WavError, type PcmAudio } from '../../src-shared/audio/wav';

interface WavSpec {
  format?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  data: Uint8Array;
  /** write WAVE_FORMAT_EXTENSIBLE (0xFFFE) with this sub-format */
  extensibleSubFormat?: number;
  /** chunks written between fmt and data */
  extraChunks?: { id: string; body: Uint8Array }[];
  /** chunks written before fmt */
  leadingChunks?: { id: string; body: Uint8Array }[];
  /** value written as the data chunk size (default: the real length) */
  dataSize?: number;
  /** cut the file to this many bytes */
  truncateTo?: number;
}

function chunk(id: string, body: Uint8Array, declared = body.length): Uint8Array {
  const pad = body.length & 1;
  const out = new Uint8Array(8 + body.length + pad);
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, declared, true);
  out.set(body, 8);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Build a WAV file byte by byte, any layout. */
function buildWav(spec: WavSpec): Uint8Array {
  const format = spec.format ?? 1;
  const channels = spec.channels ?? 1;
  const rate = spec.rate ?? 16000;
  const bits = spec.bits ?? 16;
  const ext = spec.extensibleSubFormat !== undefined;
  const fmt = new Uint8Array(ext ? 40 : 16);
  const v = new DataView(fmt.buffer);
  v.setUint16(0, ext ? 0xfffe : format, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, (rate * channels * bits) / 8, true);
  v.setUint16(12, (channels * bits) / 8, true);
  v.setUint16(14, bits, true);
  if (ext) {
    v.setUint16(16, 22, true); // cbSize
    v.setUint16(18, bits, true); // valid bits
    v.setUint32(20, channels === 2 ? 3 : 4, true); // channel mask
    v.setUint16(24, spec.extensibleSubFormat!, true); // first two bytes of the sub-format GUID
    fmt.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  const body = concat([
    new Uint8Array([0x57, 0x41, 0x56, 0x45]), // WAVE
    ...(spec.leadingChunks ?? []).map((c) => chunk(c.id, c.body)),
    chunk('fmt ', fmt),
    ...(spec.extraChunks ?? []).map((c) => chunk(c.id, c.body)),
    chunk('data', spec.data, spec.dataSize ?? spec.data.length),
  ]);
  let file = concat([new Uint8Array([0x52, 0x49, 0x46, 0x46]), new Uint8Array(new Uint32Array([body.length]).buffer), body]);
  // the data chunk is last: drop its pad byte so the declared size matches what follows
  if (spec.data.length & 1) file = file.subarray(0, file.length - 1);
  if (spec.truncateTo !== undefined) file = file.subarray(0, spec.truncateTo);
  return file;
}

function le16(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setInt16(i * 2, x, true));
  return out;
}

describe('parseWav: PCM layouts', () => {
  it('reads 16-bit mono samples exactly', () => {
    const samples = [0, 1, -1, 32767, -32768, 1234, -4321];
    const a = parseWav(buildWav({ data: le16(samples), rate: 24000 }));
    expect(a.sampleRate).toBe(24000);
    expect(Array.from(a.samples)).toEqual(samples);
  });

  it('reads 8-bit unsigned PCM into 16-bit', () => {
    const a = parseWav(buildWav({ bits: 8, data: new Uint8Array([0x80, 0xff, 0x00, 0xc0]), rate: 8000 }));
    expect(Array.from(a.samples)).toEqual([0, 127 << 8, -32768, 64 << 8]);
    expect(a.sampleRate).toBe(8000);
  });

  it('reads 24-bit PCM keeping the top 16 bits, sign included', () => {
    // 0x7FFFFF (max), 0x800000 (min), 0xFFFFFF (-1), 0x123456
    const data = new Uint8Array([0xff, 0xff, 0x7f, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x56, 0x34, 0x12]);
    const a = parseWav(buildWav({ bits: 24, data }));
    expect(Array.from(a.samples)).toEqual([32767, -32768, -1, 0x1234]);
  });

  it('reads 32-bit integer PCM keeping the top 16 bits', () => {
    const data = new Uint8Array(12);
    const v = new DataView(data.buffer);
    v.setInt32(0, 0x7fffffff, true);
    v.setInt32(4, -0x80000000, true);
    v.setInt32(8, 0x12345678, true);
    expect(Array.from(parseWav(buildWav({ bits: 32, data })).samples)).toEqual([32767, -32768, 0x1234]);
  });

  it('reads 32-bit float, clamping values beyond ±1', () => {
    const data = new Uint8Array(20);
    const v = new DataView(data.buffer);
    [0, 0.5, -0.5, 1.5, -2].forEach((x, i) => v.setFloat32(i * 4, x, true));
    const a = parseWav(buildWav({ format: 3, bits: 32, data }));
    expect(Array.from(a.samples)).toEqual([0, Math.round(0.5 * 32767), Math.round(-0.5 * 32767), 32767, -32767]);
  });

  it('down-mixes stereo to mono by averaging the channels', () => {
    // frames: (1000, 3000), (-2000, 2000), (32767, 32767), (-32768, -32768)
    const a = parseWav(buildWav({ channels: 2, data: le16([1000, 3000, -2000, 2000, 32767, 32767, -32768, -32768]), rate: 44100 }));
    expect(a.sampleRate).toBe(44100);
    expect(Array.from(a.samples)).toEqual([2000, 0, 32767, -32768]);
  });

  it('down-mixes stereo 24-bit too', () => {
    const data = new Uint8Array([0x00, 0x00, 0x10, 0x00, 0x00, 0x30]); // one frame: 0x1000 and 0x3000 (top 16 bits)
    expect(Array.from(parseWav(buildWav({ channels: 2, bits: 24, data })).samples)).toEqual([0x2000]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE files by their sub-format (PCM and float)', () => {
    const pcm = parseWav(buildWav({ extensibleSubFormat: 1, channels: 2, data: le16([100, 300, -100, -300]) }));
    expect(Array.from(pcm.samples)).toEqual([200, -200]);
    const f = new Uint8Array(4);
    new DataView(f.buffer).setFloat32(0, -1, true);
    expect(Array.from(parseWav(buildWav({ extensibleSubFormat: 3, bits: 32, data: f })).samples)).toEqual([-32767]);
  });

  it('skips unknown chunks, including odd-sized ones and their pad byte, before and after fmt', () => {
    const a = parseWav(
      buildWav({
        data: le16([7, 8, 9]),
        leadingChunks: [{ id: 'JUNK', body: new Uint8Array(3) }],
        extraChunks: [
          { id: 'LIST', body: new Uint8Array([1, 2, 3, 4, 5]) },
          { id: 'fact', body: new Uint8Array(4) },
        ],
      }),
    );
    expect(Array.from(a.samples)).toEqual([7, 8, 9]);
  });

  it('accepts a streaming header (data size 0xFFFFFFFF or 0) by reading what is there', () => {
    expect(Array.from(parseWav(buildWav({ data: le16([1, 2, 3]), dataSize: 0xffffffff })).samples)).toEqual([1, 2, 3]);
    expect(Array.from(parseWav(buildWav({ data: le16([4, 5]), dataSize: 0 })).samples)).toEqual([4, 5]);
  });

  it('reads a truncated data chunk up to the last whole frame', () => {
    const full = buildWav({ data: le16([10, 20, 30, 40]) });
    // cut in the middle of the third sample
    const cut = parseWav(full.subarray(0, 44 + 5));
    expect(Array.from(cut.samples)).toEqual([10, 20]);
    const stereo = buildWav({ channels: 2, data: le16([1, 3, 5, 7, 9, 11]) });
    expect(Array.from(parseWav(stereo.subarray(0, 44 + 10)).samples)).toEqual([2, 6]);
  });

  it('reads a WAV that sits at an odd offset inside a larger buffer (pooled Node buffers)', () => {
    const wav = buildWav({ data: le16([11, -22, 33]) });
    const big = new Uint8Array(wav.length + 7);
    big.set(wav, 3);
    expect(Array.from(parseWav(big.subarray(3, 3 + wav.length)).samples)).toEqual([11, -22, 33]);
    const stereo = buildWav({ channels: 2, data: le16([2, 4]) });
    const big2 = new Uint8Array(stereo.length + 1);
    big2.set(stereo, 1);
    expect(Array.from(parseWav(big2.subarray(1)).samples)).toEqual([3]);
  });

  it('returns samples that do not alias the input bytes', () => {
    const wav = buildWav({ data: le16([5, 6]) });
    const a = parseWav(wav);
    wav[44] = 0x7f;
    expect(a.samples[0]).toBe(5);
  });

  it('reads an empty data chunk as zero samples', () => {
    expect(parseWav(buildWav({ data: new Uint8Array(0) })).samples.length).toBe(0);
  });
});

describe('parseWav: garbage and unsupported input → WavError', () => {
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['too short', new Uint8Array([0x52, 0x49, 0x46, 0x46])],
    ['random bytes', Uint8Array.from({ length: 200 }, (_, i) => (i * 37 + 11) & 0xff)],
    ['text', new TextEncoder().encode('this is not a wav file at all, just text')],
    ['RIFF but not WAVE', concat([new TextEncoder().encode('RIFF'), new Uint8Array(4), new TextEncoder().encode('AVI '), new Uint8Array(40)])],
    ['no chunks', concat([new TextEncoder().encode('RIFF'), new Uint8Array(4), new TextEncoder().encode('WAVE')])],
    ['data without fmt', concat([new TextEncoder().encode('RIFF'), new Uint8Array(4), new TextEncoder().encode('WAVE'), chunk('data', le16([1, 2]))])],
    ['fmt without data', buildWav({ data: le16([1]) }).subarray(0, 36)],
    ['a chunk overrunning the file', buildWav({ data: le16([1]), extraChunks: [{ id: 'LIST', body: new Uint8Array(10) }] }).subarray(0, 50)],
    ['fmt chunk too short', concat([new TextEncoder().encode('RIFF'), new Uint8Array(4), new TextEncoder().encode('WAVE'), chunk('fmt ', new Uint8Array(8)), chunk('data', le16([1]))])],
    ['ADPCM (format 2)', buildWav({ format: 2, bits: 4, data: new Uint8Array(8) })],
    ['µ-law (format 7)', buildWav({ format: 7, bits: 8, data: new Uint8Array(8) })],
    ['12-bit PCM', buildWav({ bits: 12, data: new Uint8Array(6) })],
    ['64-bit float', buildWav({ format: 3, bits: 64, data: new Uint8Array(16) })],
    ['zero channels', buildWav({ channels: 0, data: new Uint8Array(4) })],
    ['sample rate 0', buildWav({ rate: 0, data: le16([1]) })],
    ['extensible with an unknown sub-format', buildWav({ extensibleSubFormat: 0x55, data: new Uint8Array(4) })],
  ];
  for (const [name, bytes] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => parseWav(bytes)).toThrow(WavError);
    });
  }

  it('names the problem in the message', () => {
    expect(() => parseWav(buildWav({ format: 2, bits: 4, data: new Uint8Array(8) }))).toThrow(/format tag 2/);
    expect(() => parseWav(new Uint8Array(3))).toThrow(/too short/);
    expect(() => parseWav(buildWav({ bits: 12, data: new Uint8Array(6) }))).toThrow(/bit depth 12/);
  });

  it('enforces the limits of the phone API (16-bit PCM only, rate and channel bounds)', () => {
    const limits = { minRate: 8000, maxRate: 48000, maxChannels: 2, pcm16Only: true };
    expect(() => parseWav(buildWav({ bits: 8, data: new Uint8Array(4) }), limits)).toThrow(/expected 16-bit PCM/);
    expect(() => parseWav(buildWav({ format: 3, bits: 32, data: new Uint8Array(8) }), limits)).toThrow(/float 32-bit/);
    expect(() => parseWav(buildWav({ rate: 96000, data: le16([1]) }), limits)).toThrow(/96000 Hz/);
    expect(() => parseWav(buildWav({ rate: 4000, data: le16([1]) }), limits)).toThrow(/4000 Hz/);
    expect(() => parseWav(buildWav({ channels: 3, data: le16([1, 2, 3]) }), limits)).toThrow(/channel count 3/);
    expect(parseWav(buildWav({ rate: 8000, data: le16([1]) }), limits).sampleRate).toBe(8000);
    expect(parseWav(buildWav({ rate: 48000, channels: 2, data: le16([2, 4]) }), limits).samples[0]).toBe(3);
  });
});

describe('encodeWav: the canonical WAV the phone accepts', () => {
  const audio: PcmAudio = { sampleRate: 24000, samples: Int16Array.from([0, 1, -1, 32767, -32768, 42]) };

  it('writes a 44-byte header with exact sizes and PCM 16-bit mono fields', () => {
    const wav = encodeWav(audio);
    const v = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
    const ascii = (o: number) => String.fromCharCode(...wav.subarray(o, o + 4));
    expect(wav.length).toBe(44 + 12);
    expect(ascii(0)).toBe('RIFF');
    expect(v.getUint32(4, true)).toBe(wav.length - 8);
    expect(ascii(8)).toBe('WAVE');
    expect(ascii(12)).toBe('fmt ');
    expect(v.getUint32(16, true)).toBe(16);
    expect(v.getUint16(20, true)).toBe(1); // PCM
    expect(v.getUint16(22, true)).toBe(1); // mono
    expect(v.getUint32(24, true)).toBe(24000);
    expect(v.getUint32(28, true)).toBe(48000); // byte rate
    expect(v.getUint16(32, true)).toBe(2); // block align
    expect(v.getUint16(34, true)).toBe(16);
    expect(ascii(36)).toBe('data');
    expect(v.getUint32(40, true)).toBe(12);
    expect(v.getInt16(44 + 3 * 2, true)).toBe(32767);
    expect(v.getInt16(44 + 4 * 2, true)).toBe(-32768);
  });

  it('passes the phone strict check and round-trips exactly', () => {
    const wav = encodeWav(audio);
    expect(phoneWavProblem(wav)).toBeNull();
    const back = parseWav(wav);
    expect(back.sampleRate).toBe(audio.sampleRate);
    expect(Array.from(back.samples)).toEqual(Array.from(audio.samples));
  });

  it('encodes a view into a larger sample buffer from its own offset', () => {
    const big = Int16Array.from([9, 9, 1, 2, 3, 9]);
    const back = parseWav(encodeWav({ sampleRate: 16000, samples: big.subarray(2, 5) }));
    expect(Array.from(back.samples)).toEqual([1, 2, 3]);
  });

  it('round-trips a long clip through parse → encode → parse', () => {
    const s = new Int16Array(48000);
    for (let i = 0; i < s.length; i++) s[i] = Math.round(20000 * Math.sin(i / 7));
    const once = parseWav(encodeWav({ sampleRate: 48000, samples: s }));
    expect(once.samples).toEqual(s);
    expect(durationMs(once)).toBe(1000);
  });
});

describe('phoneWavProblem: the phone-side validity check', () => {
  it('flags what the phone rejects', () => {
    expect(phoneWavProblem(new Uint8Array(10))).toMatch(/44/);
    expect(phoneWavProblem(encodeWav(silence(16000, 0)))).toMatch(/empty data/);
    const wav = encodeWav({ sampleRate: 16000, samples: new Int16Array(10) });
    const bad = wav.slice();
    new DataView(bad.buffer).setUint32(40, 1000, true);
    expect(phoneWavProblem(bad)).toMatch(/overruns/);
    const noRiff = wav.slice();
    noRiff[0] = 0x58;
    expect(phoneWavProblem(noRiff)).toMatch(/RIFF/);
    const dataFirst = buildWav({ data: le16([1]) }).slice();
    dataFirst.set(new TextEncoder().encode('abcd'), 12); // rename fmt → unknown chunk
    expect(phoneWavProblem(dataFirst)).toMatch(/data before fmt/);
  });
});

describe('helpers', () => {
  it('silence has the exact number of zero samples', () => {
    const s = silence(16000, 300);
    expect(s.samples.length).toBe(4800);
    expect(rms(s.samples)).toBe(0);
    // the phone's greeting audio: 300 ms at 16 kHz is 9,644 bytes
    expect(encodeWav(s).length).toBe(9644);
  });

  it('concatPcm joins clips of one rate and refuses mixed rates', () => {
    const a = { sampleRate: 8000, samples: Int16Array.from([1, 2]) };
    const b = { sampleRate: 8000, samples: Int16Array.from([3]) };
    expect(Array.from(concatPcm([a, b]).samples)).toEqual([1, 2, 3]);
    expect(() => concatPcm([a, { sampleRate: 16000, samples: new Int16Array(1) }])).toThrow(WavError);
    expect(concatPcm([], 24000)).toEqual({ sampleRate: 24000, samples: new Int16Array(0) });
  });

  it('rms measures level over a range', () => {
    expect(rms(Int16Array.from([3, -4, 3, -4]))).toBeCloseTo(Math.sqrt(12.5));
    expect(rms(Int16Array.from([0, 0, 100, 100]), 2, 4)).toBe(100);
    expect(rms(new Int16Array(0))).toBe(0);
  });
});
