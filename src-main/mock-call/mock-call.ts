/**
 * One mock call: a real gateway session driven in-process. The caller's audio comes from an
 * AudioSource, is cut into utterances by our VAD endpointing, sent through `runTurn` exactly as
 * the phone would post it to /api/turn, and the reply is played on an AudioSink.
 *
 * Half-duplex like the phone by default: nothing is heard while a turn runs or a reply plays.
 * With barge-in the VAD keeps listening while the reply plays; once the caller has spoken for
 * `bargeInMinSpeechMs`, playback stops at once, the heard part of the reply is reported, and the
 * caller's words (pre-roll included) become the next utterance.
 *
 * Clocks: a live source (microphone, paced file) runs on the wall clock and its backlog is
 * flushed whenever the call was busy. An unpaced source runs on audio time: it is simply not read
 * while the call is busy, and during barge-in playback each frame read advances the reply by 32 ms.
 */
import { randomUUID } from 'node:crypto';
import type { RunTurn, TurnInput, TurnResponse } from '../calls/types';
import type { EventBus } from '../events/bus';
import { durationMs, encodeWav, parseWav, silence, type PcmAudio } from '../../src-shared/audio/wav';
import { Endpointer, type CutReason, type EndpointerEvent, type Utterance } from './endpointer';
import { FrameReader } from './frame-reader';
import { heardText } from './heard-text';
import type { MockCallSettings } from './settings';
import type { AudioSink, AudioSource, PlaybackHandle, PlaybackResult } from './types';
import { createClassifier, EnergyClassifier, FRAME_MS, type FrameClassifier, type VadEngine } from './vad';

/** Sent as transcript_hint when no greeting text is configured (what the phone does, spec §1.3.1). */
export const FALLBACK_GREETING_HINT = 'Output exactly this and nothing else: Hello, I am your assistant.';

export type MockCallState = 'starting' | 'greeting' | 'listening' | 'speaking' | 'thinking' | 'playing' | 'stopping' | 'ended' | 'failed';

export type MockEndReason =
  | 'stopped' // stop() (API, window closed)
  | 'shutdown' // the app quit
  | 'source_ended' // the replayed file is over
  | 'source_failed' // the recorder died
  | 'session_ended' // the gateway says the session is over (ended:true)
  | 'hangup' // the assistant hung up (hangup:true)
  | 'rejected' // caller policy
  | 'error';

/** How much of one reply was heard; what the lead annotates the turn record with. */
export interface PlaybackReport {
  mock_id: string;
  session_id: string | null;
  /** index of the mock turn (0 = greeting) */
  turn: number;
  reply: string;
  /** the words the caller heard: the whole reply unless barge-in cut it */
  heard_text: string;
  total_ms: number;
  played_ms: number;
  interrupted: boolean;
  /** interrupted because the caller spoke over it */
  barge_in: boolean;
  error?: string;
}

export interface MockTurnTimings {
  /** end of speech → utterance decided (end-of-speech silence + VAD); audio time on unpaced sources */
  vad_decision_ms: number | null;
  /** runTurn duration */
  turn_ms: number | null;
  /** turn answered → first reply sample at the device */
  playback_start_ms: number | null;
  /** end of speech → first reply sample */
  mouth_to_ear_ms: number | null;
}

export interface MockTurn {
  index: number;
  kind: 'greeting' | 'utterance';
  /** the WAV sent as turn audio, ms */
  utterance_ms: number;
  speech_ms: number;
  cut: CutReason | null;
  status: number | null;
  transcript: string;
  reply: string;
  error?: string;
  timings: MockTurnTimings;
  playback: PlaybackReport | null;
}

export interface MockCallSnapshot {
  id: string;
  session_id: string | null;
  state: MockCallState;
  source: { kind: string; label: string; live: boolean };
  sink: { kind: string; label: string };
  barge_in: boolean;
  vad: VadEngine | null;
  vad_warning: string | null;
  started_at: number;
  ended_at: number | null;
  end_reason: MockEndReason | null;
  error: string | null;
  turns: number;
  last_turn: MockTurn | null;
  last_playback: PlaybackReport | null;
}

export interface MockCallDeps {
  runTurn: RunTurn;
  bus?: EventBus;
  /** ends the gateway session when the mock call stops (CallManager; reason 'mock_stopped') */
  endSession?: (sessionId: string, reason: 'mock_stopped') => void | Promise<void>;
  /** every reply played (or cut): lets the call store annotate the turn with what was heard */
  onPlayback?: (report: PlaybackReport) => void;
}

type TurnOutcome = 'continue' | 'end';

const GATEWAY_ENDED: ReadonlySet<MockEndReason> = new Set(['session_ended', 'hangup', 'rejected']);

export class MockCall {
  readonly turns: MockTurn[] = [];
  readonly playbacks: PlaybackReport[] = [];
  private sessionId: string | null = null;
  private state: MockCallState = 'starting';
  private readonly abort = new AbortController();
  private readonly reader: FrameReader;
  private readonly endpointer: Endpointer;
  private classifier: FrameClassifier | null = null;
  private vadWarning: string | null = null;
  private playing: PlaybackHandle | null = null;
  private endReason: MockEndReason | null = null;
  private error: string | null = null;
  private readonly startedAt = Date.now() / 1000;
  private endedAt: number | null = null;
  private running: Promise<MockCallSnapshot> | null = null;
  private opened = false;
  /** barge-in left an utterance in progress: the next listen continues it */
  private carryOver = false;
  private lastSpeechAt = 0;
  private levelFrames: Int16Array[] = [];
  private levelSpeech = false;
  private levelProb = 0;

  constructor(
    readonly source: AudioSource,
    readonly sink: AudioSink,
    readonly settings: MockCallSettings,
    private readonly deps: MockCallDeps,
    readonly id: string = randomUUID(),
  ) {
    this.reader = new FrameReader(source);
    this.endpointer = new Endpointer(settings.endpointing);
  }

  get sessionIdOrNull(): string | null {
    return this.sessionId;
  }

  get currentState(): MockCallState {
    return this.state;
  }

  get aborted(): boolean {
    return this.abort.signal.aborted;
  }

  /** Loads the VAD, opens the source and the sink. Rejects (and releases everything) on failure. */
  async open(): Promise<void> {
    try {
      const { classifier, warning } = await createClassifier(this.settings.vad);
      this.classifier = classifier;
      this.vadWarning = warning;
      await this.source.start();
      await this.sink.open();
      this.opened = true;
    } catch (e) {
      this.error = (e as Error).message;
      this.endReason = 'error';
      await this.release();
      this.endedAt = Date.now() / 1000;
      this.setState('failed');
      throw e;
    }
  }

  /** Runs the call until it ends; resolves with the final snapshot. Call once, after open(). */
  run(): Promise<MockCallSnapshot> {
    if (!this.opened) throw new Error('open() the mock call first');
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops the call (mid-turn too: the turn's AbortSignal fires) and waits until all is released. */
  async stop(reason: MockEndReason = 'stopped'): Promise<MockCallSnapshot> {
    if (!this.aborted) {
      this.endReason ??= reason;
      if (this.state !== 'ended' && this.state !== 'failed') this.setState('stopping');
      this.abort.abort();
      this.playing?.stop();
      await this.source.stop();
      if (!this.running && this.opened) {
        // opened but never run: nothing else will release the devices
        await this.release();
        this.endedAt = Date.now() / 1000;
        this.setState('ended');
      }
    }
    return this.running ?? this.snapshot();
  }

  snapshot(): MockCallSnapshot {
    return {
      id: this.id,
      session_id: this.sessionId,
      state: this.state,
      source: { kind: this.source.kind, label: this.source.label, live: this.source.live },
      sink: { kind: this.sink.kind, label: this.sink.label },
      barge_in: this.settings.bargeIn,
      vad: this.classifier?.engine ?? null,
      vad_warning: this.vadWarning,
      started_at: this.startedAt,
      ended_at: this.endedAt,
      end_reason: this.endReason,
      error: this.error,
      turns: this.turns.length,
      last_turn: this.turns.at(-1) ?? null,
      last_playback: this.playbacks.at(-1) ?? null,
    };
  }

  // ---- the loop -------------------------------------------------------------------------------

  private async loop(): Promise<MockCallSnapshot> {
    try {
      let outcome = await this.greet();
      while (outcome === 'continue' && !this.aborted) {
        const heard = await this.listen();
        if (!heard) {
          if (!this.aborted) this.endReason ??= this.source.error ? 'source_failed' : 'source_ended';
          if (this.source.error) this.error ??= this.source.error;
          break;
        }
        outcome = await this.utteranceTurn(heard.utterance, heard.vadDecisionMs, heard.decidedAt);
      }
    } catch (e) {
      if (!this.aborted) {
        this.error = (e as Error).message;
        this.endReason ??= 'error';
      }
    }
    this.abort.abort();
    await this.release();
    if (this.sessionId && this.deps.endSession && !GATEWAY_ENDED.has(this.endReason ?? 'stopped')) {
      try {
        await this.deps.endSession(this.sessionId, 'mock_stopped');
      } catch (e) {
        this.error ??= `ending the session failed: ${(e as Error).message}`;
      }
    }
    this.endedAt = Date.now() / 1000;
    this.endReason ??= 'stopped';
    this.setState('ended');
    return this.snapshot();
  }

  private async release(): Promise<void> {
    this.playing?.stop();
    await Promise.allSettled([this.source.stop(), this.sink.close()]);
  }

  private async greet(): Promise<TurnOutcome> {
    this.setState('greeting');
    const audio = encodeWav(silence(16000, 300));
    const g = this.settings.greeting;
    const input: TurnInput = {
      resetSession: true,
      transcriptHint: g || FALLBACK_GREETING_HINT,
      ...(g ? { forcedReply: g } : {}),
      callerNumber: this.settings.callerNumber,
      callDirection: 'mock',
      audio,
    };
    const turn = this.newTurn('greeting', 300, 0, null);
    return this.runAndPlay(turn, input, null, performance.now());
  }

  private async utteranceTurn(u: Utterance, vadDecisionMs: number, decidedAt: number): Promise<TurnOutcome> {
    this.setState('thinking');
    const turn = this.newTurn('utterance', durationMs(u.audio), u.speechMs, u.cut);
    turn.timings.vad_decision_ms = vadDecisionMs;
    const input: TurnInput = {
      resetSession: false,
      ...(this.sessionId ? { sessionId: this.sessionId } : {}),
      callerNumber: this.settings.callerNumber,
      callDirection: 'mock',
      audio: encodeWav(u.audio),
    };
    return this.runAndPlay(turn, input, vadDecisionMs, decidedAt);
  }

  private newTurn(kind: MockTurn['kind'], utteranceMs: number, speechMs: number, cut: CutReason | null): MockTurn {
    const turn: MockTurn = {
      index: this.turns.length,
      kind,
      utterance_ms: Math.round(utteranceMs),
      speech_ms: speechMs,
      cut,
      status: null,
      transcript: '',
      reply: '',
      timings: { vad_decision_ms: null, turn_ms: null, playback_start_ms: null, mouth_to_ear_ms: null },
      playback: null,
    };
    this.turns.push(turn);
    return turn;
  }

  private async runAndPlay(turn: MockTurn, input: TurnInput, vadDecisionMs: number | null, decidedAt: number): Promise<TurnOutcome> {
    const t0 = performance.now();
    let resp: TurnResponse | null;
    try {
      resp = await this.callTurn(input);
    } catch (e) {
      // like the phone: a failed turn is dropped and the call listens again
      turn.error = (e as Error).message;
      this.publishState('turn_error', { turn: turn.index, error: turn.error });
      return 'continue';
    }
    if (!resp) return 'end'; // stopped
    const answeredAt = performance.now();
    turn.timings.turn_ms = round(answeredAt - t0);
    turn.status = resp.status;
    const body = resp.body;
    const sid = typeof body.session_id === 'string' ? body.session_id.trim() : '';
    if (sid) this.sessionId = sid;
    turn.transcript = typeof body.transcript === 'string' ? body.transcript : '';
    turn.reply = typeof body.reply === 'string' ? body.reply : '';
    if (resp.status < 200 || resp.status >= 300) {
      turn.error = typeof body.detail === 'string' ? body.detail : `turn failed with HTTP ${resp.status}`;
      this.publishState('turn_error', { turn: turn.index, status: resp.status, error: turn.error });
      return 'continue';
    }
    if (body.ended === true) {
      this.endReason ??= 'session_ended';
      return 'end';
    }
    const closing = body.hangup === true ? 'hangup' : body.rejected === true ? 'rejected' : null;
    const b64 = closing
      ? firstString(body.audio_base64, body.audio_wav_base64, body.audioBase64)
      : firstString(body.audio_wav_base64, body.audio_base64, body.audioBase64);
    // the phone plays nothing for a blank reply (spec §1.3.5), except on the hangup/rejected path
    if (b64 && (closing || turn.reply.trim())) {
      let audio: PcmAudio | null = null;
      try {
        audio = parseWav(new Uint8Array(Buffer.from(b64, 'base64')));
      } catch (e) {
        turn.error = `reply audio is not a playable WAV: ${(e as Error).message}`;
        this.publishState('turn_error', { turn: turn.index, error: turn.error });
      }
      if (audio && audio.samples.length > 0 && !this.aborted) {
        await this.play(turn, audio, answeredAt, vadDecisionMs, decidedAt);
      }
    }
    this.publishState('turn_done', { turn: turn.index });
    if (closing) {
      this.endReason ??= closing;
      return 'end';
    }
    return 'continue';
  }

  private async callTurn(input: TurnInput): Promise<TurnResponse | null> {
    const signal = this.abort.signal;
    if (signal.aborted) return null;
    const aborted = new Promise<null>((resolve) => signal.addEventListener('abort', () => resolve(null), { once: true }));
    try {
      return await Promise.race([this.deps.runTurn({ ...input, signal }), aborted]);
    } catch (e) {
      if (signal.aborted) return null;
      throw e;
    }
  }

  // ---- playback --------------------------------------------------------------------------------

  private async play(turn: MockTurn, audio: PcmAudio, answeredAt: number, vadDecisionMs: number | null, decidedAt: number): Promise<void> {
    this.setState('playing');
    const totalMs = durationMs(audio);
    const handle = this.sink.play(audio);
    this.playing = handle;
    let firstSampleAt: number | null = null;
    void handle.started.then((t) => (firstSampleAt = t));
    let result: PlaybackResult;
    let bargedIn = false;
    if (this.settings.bargeIn && !this.aborted) {
      const r = await this.listenWhilePlaying(handle, totalMs);
      result = r.result;
      bargedIn = r.bargedIn;
    } else {
      result = await handle.done;
    }
    this.playing = null;
    if (firstSampleAt === null) firstSampleAt = await handle.started;
    turn.timings.playback_start_ms = round(firstSampleAt - answeredAt);
    if (vadDecisionMs !== null) turn.timings.mouth_to_ear_ms = round(vadDecisionMs + (firstSampleAt - decidedAt));
    const report: PlaybackReport = {
      mock_id: this.id,
      session_id: this.sessionId,
      turn: turn.index,
      reply: turn.reply,
      heard_text: heardText(turn.reply, result.playedMs, result.totalMs),
      total_ms: round(result.totalMs),
      played_ms: round(result.playedMs),
      interrupted: result.interrupted,
      barge_in: bargedIn,
      ...(result.error ? { error: result.error } : {}),
    };
    turn.playback = report;
    this.playbacks.push(report);
    this.publishState(bargedIn ? 'barge_in' : result.error ? 'playback_failed' : 'played', { playback: report });
    try {
      this.deps.onPlayback?.(report);
    } catch {
      // an observer must not break the call
    }
  }

  /** Barge-in: keep the VAD running while the reply plays; stop playback once the caller talks. */
  private async listenWhilePlaying(handle: PlaybackHandle, totalMs: number): Promise<{ result: PlaybackResult; bargedIn: boolean }> {
    const live = this.source.live;
    this.startListening();
    const ended = handle.done.then(() => undefined);
    let audioMs = 0;
    let heardMs: number | null = null;
    while (!this.aborted) {
      if (live ? handle.finished : audioMs >= totalMs) break;
      const next = this.reader.peek();
      const frame = live ? await Promise.race([next, ended]) : await next;
      if (frame === undefined) break; // playback ended first; the frame stays for listen()
      this.reader.take();
      if (frame === null) break; // input over: the reply plays out
      audioMs += FRAME_MS;
      const ev = await this.feed(frame);
      if (this.endpointer.active && this.endpointer.speechMs >= this.settings.bargeInMinSpeechMs) {
        heardMs = live ? handle.position() : Math.min(audioMs, totalMs);
        handle.stop(live ? undefined : heardMs);
        this.carryOver = true;
        this.setState('speaking');
        break;
      }
      if (ev?.type === 'utterance') {
        // can only happen with a barge-in threshold above the minimum speech; treat as barge-in
        heardMs = live ? handle.position() : Math.min(audioMs, totalMs);
        handle.stop(live ? undefined : heardMs);
        this.pendingUtterance = ev.utterance;
        this.carryOver = true;
        break;
      }
    }
    if (this.aborted) handle.stop();
    const result = await handle.done;
    if (live || heardMs === null) return { result, bargedIn: heardMs !== null && result.interrupted };
    return { result: { ...result, playedMs: heardMs, interrupted: heardMs < totalMs }, bargedIn: heardMs < totalMs };
  }

  // ---- listening -------------------------------------------------------------------------------

  private pendingUtterance: Utterance | null = null;

  /** Fresh listening after the call was busy: live audio captured meanwhile is stale. */
  private startListening(): void {
    if (this.carryOver) return;
    if (this.source.live) {
      this.reader.flush();
      this.endpointer.reset();
      this.classifier?.reset();
    }
  }

  private async listen(): Promise<{ utterance: Utterance; vadDecisionMs: number; decidedAt: number } | null> {
    this.startListening();
    const continuing = this.carryOver;
    this.carryOver = false;
    this.setState(continuing ? 'speaking' : 'listening');
    const pending = this.pendingUtterance;
    if (pending) {
      this.pendingUtterance = null;
      return this.decided(pending);
    }
    while (!this.aborted) {
      const frame = await this.reader.next();
      if (!frame) {
        const ev = this.aborted ? null : this.endpointer.finish();
        return ev?.type === 'utterance' ? this.decided(ev.utterance) : null;
      }
      const ev = await this.feed(frame);
      if (ev?.type === 'onset') this.setState('speaking');
      else if (ev?.type === 'discarded') this.setState('listening');
      else if (ev?.type === 'utterance') return this.decided(ev.utterance);
    }
    return null;
  }

  private decided(u: Utterance): { utterance: Utterance; vadDecisionMs: number; decidedAt: number } {
    const decidedAt = performance.now();
    const vadDecisionMs = this.source.live ? decidedAt - this.lastSpeechAt : u.trailingSilenceMs;
    return { utterance: u, vadDecisionMs: round(vadDecisionMs), decidedAt };
  }

  /** Score one frame, run the endpointer, meter the level. */
  private async feed(frame: Int16Array): Promise<EndpointerEvent | null> {
    const at = performance.now();
    let prob: number;
    try {
      prob = await this.classifier!.classify(frame);
    } catch (e) {
      // Silero failed mid-call: carry on with the energy threshold rather than drop the call
      this.vadWarning = `Silero VAD failed (${(e as Error).message}); using the energy threshold instead`;
      this.classifier = new EnergyClassifier(this.settings.vad.energyThreshold);
      prob = await this.classifier.classify(frame);
      this.publishState('vad_fallback', {});
    }
    const ev = this.endpointer.push(frame, prob);
    if (this.endpointer.speaking) this.lastSpeechAt = at;
    this.meter(frame, prob);
    return ev;
  }

  private meter(frame: Int16Array, prob: number): void {
    this.levelFrames.push(frame);
    this.levelSpeech ||= this.endpointer.speaking;
    this.levelProb = Math.max(this.levelProb, prob);
    if (this.levelFrames.length * FRAME_MS < this.settings.levelIntervalMs) return;
    let sum = 0;
    let n = 0;
    let peak = 0;
    for (const f of this.levelFrames) {
      for (let i = 0; i < f.length; i++) {
        const v = f[i];
        sum += v * v;
        const a = v < 0 ? -v : v;
        if (a > peak) peak = a;
      }
      n += f.length;
    }
    const rmsLevel = Math.sqrt(sum / Math.max(1, n));
    this.deps.bus?.publish('mock.level', this.sessionId ?? '', {
      mock_id: this.id,
      rms: Math.round(rmsLevel),
      peak,
      dbfs: rmsLevel > 0 ? Math.round(20 * Math.log10(rmsLevel / 32768) * 10) / 10 : -120,
      speech: this.levelSpeech,
      vad_prob: Math.round(this.levelProb * 100) / 100,
    });
    this.levelFrames = [];
    this.levelSpeech = false;
    this.levelProb = 0;
  }

  // ---- events ----------------------------------------------------------------------------------

  private setState(state: MockCallState): void {
    if (this.state === state) return;
    this.state = state;
    this.publishState(null, {});
  }

  private publishState(event: string | null, extra: Record<string, unknown>): void {
    const s = this.snapshot();
    this.deps.bus?.publish('mock.state', this.sessionId ?? '', {
      mock_id: this.id,
      state: s.state,
      ...(event ? { event } : {}),
      source: s.source,
      sink: s.sink,
      barge_in: s.barge_in,
      vad: s.vad,
      vad_warning: s.vad_warning,
      turns: s.turns,
      end_reason: s.end_reason,
      error: s.error,
      last_playback: s.last_playback,
      ...extra,
    });
  }
}

function firstString(...vals: unknown[]): string {
  for (const v of vals) if (typeof v === 'string' && v.trim()) return v.trim();
  return '';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
