/**
 * Energy endpointing for the browser mock call: an utterance starts when frames rise above an
 * adaptive noise floor, keeps a short pre-roll, and ends after continuous silence (or a hard cut),
 * with defaults near the phone's (phone spec §2.2). Pure: unit-tested in Node.
 */
export interface EndpointerOptions {
  sampleRate: number;
  preRollMs?: number;
  minSpeechMs?: number;
  endSilenceMs?: number;
  maxUtteranceMs?: number;
  /** speech needs RMS ≥ max(minRms, noiseFloor × ratio) */
  minRms?: number;
  ratio?: number;
}

export class Endpointer {
  private pre: Float32Array[] = [];
  private preLen = 0;
  private speech: Float32Array[] = [];
  private speechLen = 0;
  private voicedLen = 0;
  private silenceLen = 0;
  private noise = 0.003;
  private active = false;
  readonly o: Required<EndpointerOptions>;

  constructor(o: EndpointerOptions) {
    this.o = { preRollMs: 400, minSpeechMs: 180, endSilenceMs: 700, maxUtteranceMs: 8000, minRms: 0.01, ratio: 3, ...o };
  }

  get speaking(): boolean {
    return this.active;
  }

  /** RMS of the last frame (for a level meter). */
  level = 0;

  private ms(samples: number): number {
    return (samples / this.o.sampleRate) * 1000;
  }

  reset(): void {
    this.pre = [];
    this.preLen = 0;
    this.speech = [];
    this.speechLen = 0;
    this.voicedLen = 0;
    this.silenceLen = 0;
    this.active = false;
  }

  /** Feed one frame; returns a finished utterance (pre-roll included) or null. */
  push(frame: Float32Array): Float32Array | null {
    let sum = 0;
    for (let i = 0; i < frame.length; i++) sum += frame[i] * frame[i];
    const rms = Math.sqrt(sum / Math.max(1, frame.length));
    this.level = rms;
    const threshold = Math.max(this.o.minRms, this.noise * this.o.ratio);
    const voiced = rms >= threshold;
    if (!this.active) {
      if (!voiced) this.noise = this.noise * 0.95 + rms * 0.05;
      this.pre.push(frame);
      this.preLen += frame.length;
      while (this.pre.length > 1 && this.ms(this.preLen - this.pre[0].length) >= this.o.preRollMs) this.preLen -= this.pre.shift()!.length;
      if (!voiced) return null;
      this.active = true;
      this.speech = this.pre;
      this.speechLen = this.preLen;
      this.pre = [];
      this.preLen = 0;
      this.voicedLen = frame.length;
      this.silenceLen = 0;
      return null;
    }
    this.speech.push(frame);
    this.speechLen += frame.length;
    if (voiced) {
      this.voicedLen += frame.length;
      this.silenceLen = 0;
    } else this.silenceLen += frame.length;
    const cut = this.ms(this.speechLen) >= this.o.maxUtteranceMs;
    if (this.ms(this.silenceLen) < this.o.endSilenceMs && !cut) return null;
    const enough = this.ms(this.voicedLen) >= this.o.minSpeechMs;
    const out = new Float32Array(this.speechLen);
    let off = 0;
    for (const f of this.speech) {
      out.set(f, off);
      off += f.length;
    }
    this.reset();
    return enough ? out : null;
  }
}
