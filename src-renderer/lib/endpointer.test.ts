/** Browser mock-call endpointing on synthetic audio: speech cut after silence, blips ignored, hard cut. */
import { describe, expect, it } from 'vitest';
import { Endpointer } from './endpointer';

const RATE = 16000;
const FRAME = 512;

function tone(ms: number, amp = 0.3): Float32Array {
  const n = Math.round((RATE * ms) / 1000);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * 220 * i) / RATE);
  return out;
}
const quiet = (ms: number) => new Float32Array(Math.round((RATE * ms) / 1000));

/** Feed audio frame by frame; collect finished utterances. */
function run(e: Endpointer, ...parts: Float32Array[]): Float32Array[] {
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  const out: Float32Array[] = [];
  for (let i = 0; i + FRAME <= all.length; i += FRAME) {
    const u = e.push(all.subarray(i, i + FRAME));
    if (u) out.push(u);
  }
  return out;
}

describe('Endpointer', () => {
  it('cuts one utterance after the end silence, with the pre-roll in front', () => {
    const e = new Endpointer({ sampleRate: RATE, preRollMs: 200, endSilenceMs: 500 });
    const utts = run(e, quiet(600), tone(1000), quiet(900));
    expect(utts).toHaveLength(1);
    const ms = (utts[0].length / RATE) * 1000;
    // pre-roll (~200) + speech (1000) + the silence that ended it (~500)
    expect(ms).toBeGreaterThan(1500);
    expect(ms).toBeLessThan(1900);
    expect(Math.abs(utts[0][0])).toBeLessThan(0.01); // starts in the pre-roll, before the speech
  });

  it('ignores a blip shorter than the minimum speech', () => {
    const e = new Endpointer({ sampleRate: RATE, minSpeechMs: 180, endSilenceMs: 400 });
    expect(run(e, quiet(300), tone(60), quiet(800))).toHaveLength(0);
    expect(e.speaking).toBe(false);
  });

  it('cuts a long utterance at the maximum length and keeps listening', () => {
    const e = new Endpointer({ sampleRate: RATE, maxUtteranceMs: 2000, endSilenceMs: 500 });
    const utts = run(e, tone(3000), quiet(800));
    expect(utts).toHaveLength(2);
    expect((utts[0].length / RATE) * 1000).toBeLessThanOrEqual(2000 + (FRAME / RATE) * 1000);
  });

  it('two utterances separated by silence come out separately', () => {
    const e = new Endpointer({ sampleRate: RATE, endSilenceMs: 400 });
    expect(run(e, quiet(300), tone(500), quiet(700), tone(500), quiet(700))).toHaveLength(2);
  });
});
