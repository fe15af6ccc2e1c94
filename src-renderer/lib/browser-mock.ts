/**
 * A mock call from the browser: the microphone (getUserMedia) is cut into utterances by the
 * endpointer and posted to the gateway's `/api/mock-call/turn` in the phone's `/api/turn` form
 * (multipart with the WAV, session id, greeting as a forced reply), so it runs as a mock session
 * (history direction `mock`); each reply is played in the page. Half-duplex like the phone: the
 * microphone is ignored while the reply plays. Leaving the page ends the call (`endOnUnload`).
 */
import { encodeWav } from '../../src-shared/audio/wav';
import { floatToPcm, resample } from '../../src-shared/audio/resample';
import { Endpointer } from './endpointer';

export type MockPhase = 'idle' | 'starting' | 'listening' | 'sending' | 'playing' | 'stopped' | 'error';

export interface TurnAnswer {
  session_id?: string;
  reply?: string;
  transcript?: string;
  audio_base64?: string;
  hangup?: boolean;
  rejected?: boolean;
  no_speech?: boolean;
}

export interface BrowserMockOptions {
  /** POST /api/mock-call/turn with this form; resolves the JSON */
  postTurn: (form: FormData) => Promise<TurnAnswer>;
  /** POST /api/mock-call/stop {id: session id} */
  endSession: (sid: string) => Promise<unknown>;
  /** the page is going away: end the session with a request that outlives the page (sendBeacon) */
  endOnUnload?: (sid: string) => void;
  greeting: string;
  onPhase: (p: MockPhase, detail?: string) => void;
  onLevel?: (rms: number) => void;
  onTurn?: (t: { transcript: string; reply: string }) => void;
}

export function wavForm(fields: Record<string, string>, wav: Uint8Array): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('audio', new Blob([wav as BlobPart], { type: 'audio/wav' }), 'turn.wav');
  return form;
}

export class BrowserMockCall {
  sessionId = '';
  private stream: MediaStream | null = null;
  private ctx: AudioContext | null = null;
  private node: ScriptProcessorNode | null = null;
  private endpointer: Endpointer | null = null;
  private busy = false;
  private stopped = false;
  private player: HTMLAudioElement | null = null;

  private readonly onPageHide = () => {
    if (this.stopped) return;
    if (this.sessionId) this.o.endOnUnload?.(this.sessionId);
    this.sessionId = ''; // already ended: stop() must not try again from a page being torn down
    void this.stop();
  };

  constructor(private readonly o: BrowserMockOptions) {}

  async start(): Promise<void> {
    this.o.onPhase('starting');
    window.addEventListener('pagehide', this.onPageHide);
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('This browser cannot use the microphone here (it needs a secure page such as http://127.0.0.1).');
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 } });
    const ctx = new AudioContext();
    this.ctx = ctx;
    this.endpointer = new Endpointer({ sampleRate: ctx.sampleRate });
    // greeting first, like the phone: a forced reply on a fresh session
    this.busy = true;
    const greeted = await this.turn({ reset_session: 'true', transcript_hint: this.o.greeting, forced_reply: this.o.greeting }, encodeWav({ sampleRate: 16000, samples: new Int16Array(4800) }));
    if (this.stopped) return;
    if (!greeted) {
      await this.stop('error');
      return;
    }
    const src = ctx.createMediaStreamSource(this.stream);
    const node = ctx.createScriptProcessor(2048, 1, 1);
    node.onaudioprocess = (ev) => this.onAudio(ev.inputBuffer.getChannelData(0));
    src.connect(node);
    node.connect(ctx.destination);
    this.node = node;
    this.busy = false;
    this.o.onPhase('listening');
  }

  private onAudio(data: Float32Array): void {
    if (this.stopped || this.busy || !this.endpointer) return;
    const utt = this.endpointer.push(new Float32Array(data));
    this.o.onLevel?.(this.endpointer.level);
    if (!utt || !this.ctx) return;
    const pcm = resample(floatToPcm(utt, this.ctx.sampleRate), 16000);
    this.busy = true;
    void this.turn({ reset_session: 'false', ...(this.sessionId ? { session_id: this.sessionId } : {}) }, encodeWav(pcm)).then(async (ok) => {
      this.busy = false;
      this.endpointer?.reset();
      if (!ok) await this.stop('error');
      else if (!this.stopped) this.o.onPhase('listening');
    });
  }

  /** One request/answer; false when the gateway could not be reached or refused. */
  private async turn(fields: Record<string, string>, wav: Uint8Array): Promise<boolean> {
    this.o.onPhase('sending');
    let r: TurnAnswer;
    try {
      r = await this.o.postTurn(wavForm(fields, wav));
    } catch (e) {
      this.error = (e as Error).message;
      this.o.onPhase('error', this.error);
      return false;
    }
    if (r.session_id) this.sessionId = r.session_id;
    if (r.reply && !r.no_speech) this.o.onTurn?.({ transcript: r.transcript ?? '', reply: r.reply });
    const b64 = r.audio_base64;
    if (b64 && !r.no_speech && !this.stopped) await this.play(b64);
    if (r.hangup || r.rejected) await this.stop();
    return true;
  }

  private play(b64: string): Promise<void> {
    this.o.onPhase('playing');
    return new Promise((resolve) => {
      const a = new Audio(`data:audio/wav;base64,${b64}`);
      this.player = a;
      a.onended = () => resolve();
      a.onerror = () => resolve();
      a.play().catch(() => resolve());
    });
  }

  /** what went wrong last, for the view */
  error = '';

  async stop(end: 'stopped' | 'error' = 'stopped'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    window.removeEventListener('pagehide', this.onPageHide);
    this.player?.pause();
    this.node?.disconnect();
    this.stream?.getTracks().forEach((t) => t.stop());
    await this.ctx?.close().catch(() => undefined);
    if (this.sessionId) await this.o.endSession(this.sessionId).catch(() => undefined);
    this.o.onPhase(end, end === 'error' ? this.error : undefined);
  }
}
