/**
 * Text → the WAV we answer with. Splits text into sentences and synthesises them in order, so the
 * first sentence's audio is ready while the LLM is still writing the rest (pipelining); resamples to
 * `tts_output_rate` and encodes the canonical WAV the phone's strict parser accepts. Fixed phrases
 * (rejections, goodbyes, holding phrase) are cached.
 */
import type { AppConfig } from '../../src-shared/config/schema';
import { concatPcm, encodeWav, silence, type PcmAudio } from '../../src-shared/audio/wav';
import { resample } from '../../src-shared/audio/resample';
import { splitSentences, trimForTts } from '../../src-shared/text/sanitize';
import type { Tts } from '../engines/types';

export interface SpokenAudio {
  wav: Uint8Array;
  /** total synthesis time */
  ttsMs: number;
  /** TTS request → first sentence's audio */
  ttfbMs: number;
  /** performance.now() when the first sentence's audio was ready */
  firstAudioAt: number;
  durationMs: number;
  /** false when nothing speakable was synthesised (the WAV is a short silence) */
  hadSpeech: boolean;
}

/** Accepts streamed LLM text and synthesises each complete sentence as soon as it exists. */
export interface SentenceStream {
  push(piece: string): void;
  /** flush the rest and wait for all audio */
  finish(): Promise<SpokenAudio>;
}

export class SpeechOut {
  private readonly cache = new Map<string, Uint8Array>();

  constructor(private readonly tts: () => Tts, private readonly config: () => AppConfig) {}

  private async synthOne(text: string, signal?: AbortSignal): Promise<PcmAudio> {
    const clean = trimForTts(text);
    if (!clean) return silence(this.config().tts_output_rate, 0);
    const cfg = this.config();
    const pcm = await this.tts().synthesize(clean, { voice: cfg.tts_voice, speed: cfg.tts_speed, signal });
    return resample(pcm, cfg.tts_output_rate);
  }

  async speak(text: string, signal?: AbortSignal): Promise<SpokenAudio> {
    const s = this.stream(signal);
    s.push(text);
    return s.finish();
  }

  /** Speak a fixed phrase, cached by text/voice/engine. */
  async phrase(text: string, signal?: AbortSignal): Promise<Uint8Array> {
    const cfg = this.config();
    const key = `${this.tts().kind}|${cfg.tts_voice}|${cfg.tts_speed}|${cfg.tts_output_rate}|${text}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const { wav } = await this.speak(text, signal);
    if (this.cache.size > 64) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, wav);
    return wav;
  }

  silenceWav(ms = 100): Uint8Array {
    return encodeWav(silence(this.config().tts_output_rate, ms));
  }

  stream(signal?: AbortSignal): SentenceStream {
    const rate = this.config().tts_output_rate;
    const parts: Promise<PcmAudio>[] = [];
    let buffer = '';
    let chain: Promise<unknown> = Promise.resolve();
    const started = performance.now();
    let firstAudioAt = 0;
    let busyMs = 0;
    const enqueue = (sentence: string) => {
      const p = chain.then(async () => {
        const t0 = performance.now();
        const pcm = await this.synthOne(sentence, signal);
        busyMs += performance.now() - t0;
        if (!firstAudioAt && pcm.samples.length) firstAudioAt = performance.now();
        return pcm;
      });
      chain = p.catch(() => undefined);
      parts.push(p);
    };
    const drain = (final: boolean) => {
      // hold back text inside an unfinished <think> block
      const open = buffer.toLowerCase().lastIndexOf('<think>');
      if (open >= 0 && buffer.toLowerCase().indexOf('</think>', open) < 0 && !final) return;
      buffer = buffer.replace(/<think>[\s\S]*?<\/think>/gi, ' ');
      if (final) {
        for (const s of splitSentences(buffer)) enqueue(s);
        buffer = '';
        return;
      }
      const m = /^[\s\S]*[.!?]["')\]]*\s/.exec(buffer);
      if (!m) return;
      const done = m[0];
      buffer = buffer.slice(done.length);
      for (const s of splitSentences(done)) enqueue(s);
    };
    return {
      push: (piece: string) => {
        buffer += piece;
        drain(false);
      },
      finish: async () => {
        drain(true);
        const pcms = await Promise.all(parts);
        const audio = pcms.length ? concatPcm(pcms, rate) : silence(rate, 100);
        const wav = encodeWav(audio.samples.length ? audio : silence(rate, 100));
        const first = firstAudioAt || performance.now();
        return { wav, ttsMs: busyMs, ttfbMs: first - started, firstAudioAt: first, durationMs: (audio.samples.length / rate) * 1000, hadSpeech: firstAudioAt > 0 };
      },
    };
  }
}
