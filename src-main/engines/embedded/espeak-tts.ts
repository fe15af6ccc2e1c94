/**
 * The zero-download voice: espeak-ng. Backend `wasm` (default) runs the bundled WebAssembly build in a
 * child process (see espeak-child.mjs for why); backend `system` runs the `espeak-ng` program on PATH
 * with an argv array and the text on stdin (never a shell, never text in argv). Output: mono 16-bit PCM
 * at espeak's own rate (22050 Hz); the gateway resamples. Long text is spoken sentence by sentence.
 */
import { spawn } from 'node:child_process';
import { concatPcm, parseWav, silence, type PcmAudio } from '../../../src-shared/audio/wav';
import { splitSentences, trimForTts } from '../../../src-shared/text/sanitize';
import { EngineUnavailableError, type EngineHealth, type Tts, type TtsOptions } from '../types';
import { abortError, errorMessage, type GetConfig } from './common';
import { EspeakProcess, type EspeakProcessOptions, type EspeakVoice } from './espeak-process';

export const ESPEAK_RATE = 22050;
const GAP_MS = 60; // pause between sentences of one synthesize() call

export interface EspeakTtsOptions {
  process?: EspeakProcessOptions;
  /** the system program (tests point this at something else) */
  systemBinary?: string;
}

export interface SpeakParams { voice: string; rate: number; pitch: number }

/** Voice for a language when `espeak_voice` is empty. */
function voiceForLang(lang: string): string {
  const l = lang.trim().toLowerCase();
  if (!l || l === 'en') return 'en-us';
  return l;
}

const VOICE_RE = /^[A-Za-z0-9_+\-/]{1,64}$/;

export class EspeakTts implements Tts {
  readonly kind = 'espeak';
  private proc: EspeakProcess | null = null;
  private voiceList: EspeakVoice[] | null = null;
  private lastBackend: string;

  constructor(private readonly getConfig: GetConfig, private readonly opts: EspeakTtsOptions = {}) {
    this.lastBackend = getConfig().espeak_backend;
  }

  private backend(): 'wasm' | 'system' {
    const b = this.getConfig().espeak_backend;
    if (b !== this.lastBackend) {
      this.lastBackend = b;
      this.proc?.reset(); // a settings change clears a give-up state
    }
    return b;
  }

  /** The voice process (share it with a Piper voice for phonemes: one GPL child instead of two). */
  process(): EspeakProcess {
    if (!this.proc) this.proc = new EspeakProcess(this.opts.process);
    return this.proc;
  }

  /** Voice, rate and pitch for one request. `opts.voice` wins only when it is an espeak voice name. */
  params(opts: TtsOptions = {}): SpeakParams {
    const cfg = this.getConfig();
    let voice = cfg.espeak_voice || voiceForLang(cfg.tts_lang);
    if (opts.voice && VOICE_RE.test(opts.voice) && this.voiceList?.some((v) => { const id = v.id.toLowerCase(); const want = opts.voice!.toLowerCase(); return id === want || id.endsWith(`/${want}`); })) voice = opts.voice;
    const speed = opts.speed && Number.isFinite(opts.speed) ? opts.speed : 1;
    const rate = Math.max(80, Math.min(450, Math.round(cfg.espeak_rate * speed)));
    return { voice, rate, pitch: cfg.espeak_pitch };
  }

  async synthesize(text: string, opts: TtsOptions = {}): Promise<PcmAudio> {
    const clean = trimForTts(text);
    const sentences = splitSentences(clean);
    if (sentences.length === 0) return silence(ESPEAK_RATE, 200);
    const p = this.params(opts);
    const parts: PcmAudio[] = [];
    for (const s of sentences) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      if (parts.length) parts.push(silence(ESPEAK_RATE, GAP_MS));
      parts.push(await this.speakOne(s, p, opts.signal));
    }
    return concatPcm(parts, ESPEAK_RATE);
  }

  /** One sentence (or any short text) as it is; `onChunk` receives audio while it is produced (wasm). */
  async speakOne(text: string, p: SpeakParams, signal?: AbortSignal, onChunk?: (samples: Int16Array) => void): Promise<PcmAudio> {
    try {
      if (this.backend() === 'system') return await this.speakSystem(text, p, signal);
      const r = await this.process().synth({ text, ...p }, signal, onChunk);
      if (r.samples.length === 0) throw new Error(`espeak-ng produced no audio (voice '${p.voice}'?)`);
      return { sampleRate: r.sampleRate, samples: r.samples };
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new EngineUnavailableError('tts', `espeak-ng (${this.lastBackend}) failed: ${errorMessage(e)}`);
    }
  }

  private speakSystem(text: string, p: SpeakParams, signal?: AbortSignal): Promise<PcmAudio> {
    const bin = this.opts.systemBinary ?? 'espeak-ng';
    const args = ['--stdout', '-v', p.voice, '-s', String(p.rate), '-p', String(p.pitch)];
    return new Promise<PcmAudio>((resolve, reject) => {
      const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], signal, windowsHide: true });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-1000); });
      child.stdin.on('error', () => undefined);
      child.on('error', (e) => reject((e as Error).name === 'AbortError' ? abortError(signal) : new Error(`cannot run ${bin}: ${e.message}`)));
      child.on('close', (code) => {
        if (signal?.aborted) return reject(abortError(signal));
        if (code !== 0) return reject(new Error(`${bin} exited with code ${code}${err.trim() ? `: ${err.trim()}` : ''}`));
        try {
          const audio = parseWav(new Uint8Array(Buffer.concat(out)));
          if (audio.samples.length === 0) return reject(new Error(`${bin} produced no audio${err.trim() ? `: ${err.trim()}` : ''}`));
          resolve(audio);
        } catch (e) {
          reject(new Error(`${bin} output is not a WAV: ${errorMessage(e)}`));
        }
      });
      child.stdin.end(text);
    });
  }

  async voices(): Promise<EspeakVoice[]> {
    if (!this.voiceList) this.voiceList = await this.process().voices();
    return this.voiceList;
  }

  async health(): Promise<EngineHealth> {
    const backend = this.backend();
    const p = this.params();
    if (backend === 'wasm') {
      const failure = this.proc?.failure;
      if (failure) return { ok: false, backend: 'espeak-ng-wasm', voice: p.voice, error: failure };
      return { ok: true, backend: 'espeak-ng-wasm', voice: p.voice, rate: p.rate, sample_rate: ESPEAK_RATE, running: !!this.proc?.pid, restarts: this.proc?.restarts ?? 0 };
    }
    try {
      await this.speakSystem('test', p);
      return { ok: true, backend: 'espeak-ng-system', voice: p.voice, rate: p.rate, sample_rate: ESPEAK_RATE };
    } catch (e) {
      return { ok: false, backend: 'espeak-ng-system', voice: p.voice, error: `${errorMessage(e)} — install espeak-ng or set espeak_backend to "wasm"` };
    }
  }

  /** Start the voice process and speak a few sentences so its JIT is warm for the first real one. */
  async warmup(): Promise<void> {
    if (this.backend() === 'system') return;
    await this.process().ensureStarted();
    await this.voices().catch(() => undefined);
    const p = this.params();
    for (const s of ['Hello, how can I help you today?', 'Sure, I can book a table for four people tomorrow at seven in the evening.', 'Thank you. Goodbye.']) {
      await this.speakOne(s, p);
    }
  }

  async close(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    await proc?.close();
  }
}
