/**
 * Utterance endpointing over scored 32 ms frames (the phone's rules, phone spec §2.2, on our VAD):
 * speech starts at a frame scoring ≥ threshold and continues while frames score ≥ threshold −
 * 0.15; up to `preRollMs` of audio before onset is prepended; `endSilenceMs` of continuous
 * non-speech ends the utterance, which is kept only with ≥ `minSpeechMs` of speech; an utterance
 * is cut hard at `maxUtteranceMs` (pre-roll included). Pure and synchronous.
 */
import type { PcmAudio } from '../../src-shared/audio/wav';
import { FRAME_MS } from './vad/classifier';
import { SOURCE_RATE } from './types';

export interface EndpointerSettings {
  preRollMs: number;
  minSpeechMs: number;
  endSilenceMs: number;
  maxUtteranceMs: number;
  /** score that starts speech */
  threshold: number;
  /** score that keeps speech going (hysteresis); default threshold − 0.15 */
  negativeThreshold?: number;
}

export type CutReason = 'silence' | 'max_length' | 'end_of_input';

export interface Utterance {
  audio: PcmAudio;
  /** speech frames in it, ms */
  speechMs: number;
  /** non-speech after the last speech frame, ms (the end-of-speech hangover) */
  trailingSilenceMs: number;
  /** audio before the first speech frame, ms */
  preRollMs: number;
  cut: CutReason;
}

export type EndpointerEvent =
  | { type: 'onset' }
  | { type: 'utterance'; utterance: Utterance }
  | { type: 'discarded'; speechMs: number };

export class Endpointer {
  private preRoll: Int16Array[] = [];
  private frames: Int16Array[] = [];
  private inUtterance = false;
  private speakingNow = false;
  private speechFrames = 0;
  private silenceRun = 0;
  private preRollFrames = 0;
  private readonly neg: number;

  constructor(private readonly s: EndpointerSettings) {
    this.neg = s.negativeThreshold ?? Math.max(0.01, s.threshold - 0.15);
  }

  /** inside an utterance (speech started, not yet cut) */
  get active(): boolean {
    return this.inUtterance;
  }

  /** speech so far in the current utterance, ms */
  get speechMs(): number {
    return this.speechFrames * FRAME_MS;
  }

  /** the last frame counted as speech */
  get speaking(): boolean {
    return this.speakingNow;
  }

  /** Feed the next frame and its speech score. */
  push(frame: Int16Array, score: number): EndpointerEvent | null {
    const speech = score >= (this.speakingNow ? this.neg : this.s.threshold);
    this.speakingNow = speech;
    if (!this.inUtterance) {
      if (!speech) {
        this.remember(frame);
        return null;
      }
      this.inUtterance = true;
      this.frames = this.preRoll;
      this.preRollFrames = this.preRoll.length;
      this.preRoll = [];
      this.frames.push(frame);
      this.speechFrames = 1;
      this.silenceRun = 0;
      return { type: 'onset' };
    }
    this.frames.push(frame);
    if (speech) {
      this.speechFrames++;
      this.silenceRun = 0;
    } else {
      this.silenceRun++;
    }
    if (this.silenceRun * FRAME_MS >= this.s.endSilenceMs) return this.close('silence');
    if (this.frames.length * FRAME_MS >= this.s.maxUtteranceMs) return this.close('max_length');
    return null;
  }

  /** The input ended: hand over what is pending, if it holds enough speech. */
  finish(): EndpointerEvent | null {
    if (!this.inUtterance) return null;
    return this.close('end_of_input');
  }

  /** Forget everything (after a gap in the audio). */
  reset(): void {
    this.preRoll = [];
    this.frames = [];
    this.inUtterance = false;
    this.speakingNow = false;
    this.speechFrames = 0;
    this.silenceRun = 0;
  }

  private remember(frame: Int16Array): void {
    this.preRoll.push(frame);
    const max = Math.floor(this.s.preRollMs / FRAME_MS);
    while (this.preRoll.length > max) this.preRoll.shift();
  }

  private close(cut: CutReason): EndpointerEvent {
    const frames = this.frames;
    const speechMs = this.speechFrames * FRAME_MS;
    const trailing = this.silenceRun * FRAME_MS;
    const preRollMs = this.preRollFrames * FRAME_MS;
    this.frames = [];
    this.inUtterance = false;
    this.speechFrames = 0;
    this.silenceRun = 0;
    if (speechMs < this.s.minSpeechMs) {
      // too short: the audio stays available as pre-roll for the next onset
      for (const f of frames) this.remember(f);
      return { type: 'discarded', speechMs };
    }
    this.preRoll = [];
    let n = 0;
    for (const f of frames) n += f.length;
    const samples = new Int16Array(n);
    let o = 0;
    for (const f of frames) {
      samples.set(f, o);
      o += f.length;
    }
    return {
      type: 'utterance',
      utterance: { audio: { sampleRate: SOURCE_RATE, samples }, speechMs, trailingSilenceMs: trailing, preRollMs, cut },
    };
  }
}
