/**
 * One caller turn, end to end (spec §4, with the defects of §16 fixed): session and reset handling,
 * caller policy, caller memory, forced replies, injects, ASR (cached), the passphrase gate, the reply
 * (takeover broker or local model, streamed into sentence-by-sentence TTS), stale checks before any
 * history is written, metrics, events, and the turn handed to the store — then the phone's JSON.
 */
import type { Logger } from 'pino';
import { fillOwner, type AppConfig } from '../../src-shared/config/schema';
import { parseWav, WavError } from '../../src-shared/audio/wav';
import { callerKeys, normalizeNumber, numberKey } from '../../src-shared/text/phone-number';
import { safeText } from '../../src-shared/text/sanitize';
import type { EventBus } from '../events/bus';
import type { Engines } from '../engines/types';
import { AsrCache, type TimedAsr } from './asr-cache';
import type { ReplyBroker } from './broker';
import { noBroker } from './broker';
import { CallManager, isSafeSessionId, newSessionId } from './manager';
import { buildMessages, compact, llmParams, needsCompaction, speakableReply } from './prompt';
import type { Session, SessionSource } from './session';
import { SpeechOut, type SpokenAudio } from './speech';
import type { CallDirection, TurnInput, TurnKind, TurnMetrics, TurnRecord, TurnResponse } from './types';

export const TEXT = {
  authOk: 'Authentication successful. How can I help you?',
  authRetry: "That's not correct. Please try again.",
  couldNotHear: 'I could not hear that clearly. Please try again.',
  llmFailed: "I'm sorry, I'm having trouble answering right now. Please say that again.",
  ended: 'session ended',
  stale: 'session reset during turn',
} as const;

/** Speech synthesis failed while the reply was being generated: not an LLM failure (no apology turn). */
class SpeechFailed extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
    this.name = 'SpeechFailed';
  }
}

/** Input audio accepted by the phone API (issue: 8–48 kHz, mono/stereo, 16-bit PCM). */
const INPUT_LIMITS = { minRate: 8000, maxRate: 48000, maxChannels: 2, pcm16Only: true };

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface PipelineCounters {
  totalTurns: number;
  errors: number;
}

export interface PipelineOptions {
  calls: CallManager;
  engines: () => Engines;
  config: () => AppConfig;
  bus: EventBus;
  logger?: Logger;
  broker?: () => ReplyBroker;
  /** serials of the connected phones; a new phone call ends older open phone calls only when ≤ 1 */
  phones?: () => string[];
  /**
   * The live call on a phone as the phone bridge observed it (null: none known). On a phone call's
   * greeting turn it is preferred over the turn's caller fields, which can be the previous call's (§8.5).
   */
  phoneCall?: (serial: string) => { direction: 'incoming' | 'outgoing' | null; number: string | null } | null;
}

const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
const ms1 = (n: number) => Math.round(n * 10) / 10;

/** What the phone's `writeBytes` does to text: keep the low 8 bits of each UTF-16 unit. */
function lossyLatin1(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(s.charCodeAt(i) & 0xff);
  return out;
}

function normPassphrase(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}_\s]/gu, '').replace(/\s+/g, ' ').trim();
}

export class TurnPipeline {
  readonly counters: PipelineCounters = { totalTurns: 0, errors: 0 };
  readonly asrCache: AsrCache;
  readonly speech: SpeechOut;

  constructor(private readonly o: PipelineOptions) {
    this.asrCache = new AsrCache(() => o.config().asr_cache_ttl_sec * 1000);
    this.speech = new SpeechOut(() => o.engines().tts, o.config);
  }

  private get broker(): ReplyBroker {
    return this.o.broker?.() ?? noBroker;
  }

  /** /api/asr: transcribe (and cache for the following /api/turn). `key`: the bytes' sha256 when known. */
  async transcribe(wav: Uint8Array, key?: string): Promise<TimedAsr> {
    const { value } = this.asrCache.get(wav, async () => {
      let audio;
      try {
        audio = parseWav(wav, INPUT_LIMITS);
      } catch (e) {
        throw new HttpError(400, `invalid audio: ${(e as Error).message}`);
      }
      const t0 = performance.now();
      // shared by every request with these bytes (the phone's /api/asr and /api/turn), so it is not
      // tied to the first requester's connection: one client going away must not fail the other
      const r = await this.o.engines().asr.transcribe({ wav, audio, language: this.o.config().stt_language });
      return { ...r, text: safeText(r.text), asrMs: ms1(performance.now() - t0) };
    }, key);
    return value;
  }

  /** The sha256 of the turn's audio, hashed once per request: the ASR cache key and the recording's name. */
  private audioKey(input: TurnInput): string {
    return (input.audioSha256 ??= AsrCache.key(input.audio));
  }

  /** Resolve a forced reply to the gateway's own copy when the phone's Latin-1 mangling hit it. */
  private ownCopy(forced: string, cfg: AppConfig): string {
    const candidates = [
      fillOwner(cfg.greeting_incoming, cfg.greeting_owner),
      fillOwner(cfg.greeting_outgoing, cfg.greeting_owner),
      cfg.max_duration_message,
    ];
    // mangle the raw text as the phone does, then sanitise it as the forced reply was ("–" → 0x13 is dropped)
    for (const c of candidates) if (safeText(lossyLatin1(c)) === forced) return safeText(c);
    return forced;
  }

  async run(input: TurnInput, source: SessionSource = 'phone'): Promise<TurnResponse> {
    const t0 = performance.now();
    const cfg = this.o.config();
    const { calls, bus } = this.o;
    let sid = safeText(input.sessionId ?? '');
    if (sid && !isSafeSessionId(sid)) return { status: 400, body: { detail: 'invalid session_id: use letters, digits, ".", "_" or "-" (at most 128)' } };
    if (!sid) sid = newSessionId();
    const reset = input.resetSession === true;

    // an ended call: answer so the phone actually hangs up (upstream's ok:false was ignored by the phone)
    if (calls.isEnded(sid) && !reset) return this.endedResponse(sid, input.signal);

    let s = calls.ensure(sid, source);
    if (reset) {
      // a phone has one call at a time and never says a call ended: its new call ends its previous one
      if (source === 'phone') this.endPreviousCallOfPhone(s, input.peer ?? null);
      calls.reset(s);
      s = calls.ensure(sid, source);
      s.peer = input.peer ?? null;
    }
    const turnGen = s.generation;

    const rawNumber = safeText(input.callerNumber ?? '');
    if (rawNumber) {
      s.number = normalizeNumber(rawNumber);
      const dir = safeText(input.callDirection ?? '').toLowerCase();
      s.direction = source === 'mock' ? 'mock' : ((['incoming', 'outgoing'].includes(dir) ? dir : 'unknown') as CallDirection);
    } else if (source === 'mock') s.direction = 'mock';
    else if (input.callDirection && s.direction === 'unknown') {
      const dir = safeText(input.callDirection).toLowerCase();
      if (dir === 'incoming' || dir === 'outgoing') s.direction = dir;
    }
    if (reset && source === 'phone') this.crossCheckCall(s);
    // a dial's options (device, greeting, instructions) apply to the outgoing call it connects
    const dial = reset && source === 'phone' && s.direction === 'outgoing' && s.number ? calls.dials.take(s.number) : undefined;
    if (dial) {
      if (dial.serial) s.device = dial.serial;
      if (dial.instructions) s.sessionInstruction = dial.instructions;
    }
    if (source === 'phone' && !s.device) {
      const phones = this.o.phones?.() ?? [];
      if (phones.length === 1) s.device = phones[0];
    }
    calls.announce(s);

    // caller policy: incoming/unknown calls only — an outgoing call was placed on purpose (§16 #25)
    if (s.direction !== 'outgoing' && s.direction !== 'mock') {
      const rejected = this.policy(s, cfg);
      if (rejected) return this.reject(s, rejected, input.signal);
    }

    // caller memory is loaded only once the caller passed the policy (§16 #26)
    if (reset && s.number) {
      // earlier versions keyed callers by the number as written (0049…, 0170…): found there, it moves
      const { key, legacy } = callerKeys(s.number, cfg.caller_country_code);
      s.memoryKey = key;
      if (key) {
        if (cfg.keep_history) {
          let mem = this.callerMemory(key);
          if (!mem && legacy) {
            mem = this.callerMemory(legacy);
            if (mem) s.memoryLegacyKey = legacy;
          }
          if (mem) {
            s.history.push(...mem.history);
            if (mem.summary) s.summary = mem.summary;
          }
        } else {
          this.forgetCaller(key);
          if (legacy) this.forgetCaller(legacy);
        }
      }
    }

    s.lastActivity = Date.now() / 1000;
    calls.sweep();

    // the greeting turn (reset) speaks a dial's greeting override instead of the configured one
    const forced = dial?.greeting ? safeText(fillOwner(dial.greeting, cfg.greeting_owner)) : safeText(input.forcedReply ?? '');
    // a pending inject is delivered on a caller turn, never instead of a greeting or goodbye (§16 #24)
    if (!forced && s.injects.length) return this.deliverInject(s, input, t0, turnGen);

    this.counters.totalTurns++;
    bus.publish('turn.started', sid, { session_id: sid });
    try {
      if (forced) {
        const text = this.ownCopy(forced, cfg);
        bus.publish('turn.reply', sid, { reply: text });
        const spoken = await this.speech.speak(text, input.signal);
        return this.complete(s, turnGen, { kind: 'forced', transcript: '', reply: text, producer: 'forced', model: '', spoken, t0, asrMs: 0, llmMs: 0, llmTtftMs: 0, transcriptAt: t0, input });
      }

      // ASR (or the client's hint)
      const hint = safeText(input.transcriptHint ?? '');
      let transcript = '';
      let asrMs = 0;
      let asr: TimedAsr | undefined;
      if (input.skipAsr && hint) transcript = hint;
      else {
        try {
          asr = await this.transcribe(input.audio, this.audioKey(input));
        } catch (e) {
          if (e instanceof HttpError) {
            // unusable audio: close the turn the console saw start
            bus.publish('turn.error', sid, { error: e.message });
            throw e;
          }
          this.counters.errors++;
          bus.publish('turn.error', sid, { error: `ASR failed: ${(e as Error).message}` });
          throw new HttpError(400, `ASR failed: ${(e as Error).message}`);
        }
        transcript = asr.text;
        asrMs = asr.asrMs;
        if (!transcript && hint) transcript = hint;
      }
      const transcriptAt = performance.now();

      // a passphrase made only of symbols still gates the call (and can never match): fail closed (§16 #6)
      const gate = cfg.auth_passphrase.trim() !== '' && !s.auth.validated;
      bus.publish('turn.transcript', sid, { transcript: gate && transcript ? '[passphrase attempt]' : transcript });

      if (!transcript) return this.noSpeech(s, turnGen, input, t0, asrMs, asr);
      if (gate) return this.passphrase(s, turnGen, transcript, input, t0, asrMs, transcriptAt);
      return await this.answer(s, turnGen, transcript, input, t0, asrMs, transcriptAt, asr);
    } catch (e) {
      if (e instanceof HttpError) return { status: e.status, body: { detail: e.message } };
      this.counters.errors++;
      const message = (e as Error).message || String(e);
      this.o.logger?.error({ err: e, session_id: sid }, 'turn failed');
      bus.publish('turn.error', sid, { error: message });
      calls.notify('callEvent', s.summaryView(), 'turn.error', { error: message });
      return { status: 500, body: { detail: message } };
    }
  }

  /** The phone can send the previous call's metadata (§8.5): the bridge's view of the phone's call wins. */
  private crossCheckCall(s: Session): void {
    if (!this.o.phoneCall) return;
    const phones = this.o.phones?.() ?? [];
    const serial = s.device ?? (phones.length === 1 ? phones[0] : null);
    if (!serial) return;
    let call: ReturnType<NonNullable<PipelineOptions['phoneCall']>>;
    try {
      call = this.o.phoneCall(serial);
    } catch {
      return;
    }
    if (!call) return;
    const sent = { direction: s.direction, number: s.number };
    let changed = false;
    if (call.direction && call.direction !== s.direction) {
      s.direction = call.direction;
      changed = true;
    }
    const observed = call.number ? normalizeNumber(call.number) : '';
    if (observed && numberKey(observed) !== numberKey(s.number)) {
      s.number = observed;
      changed = true;
    }
    if (!changed) return;
    s.device ??= serial;
    this.o.logger?.warn(
      { session_id: s.id, serial, sent, phone: { direction: s.direction, number: s.number } },
      "the phone's caller fields disagree with its call state (left over from the previous call?): using the call state",
    );
  }

  /**
   * Which open calls are the same phone's: the same adb device when the bridge knows it (exactly one
   * phone connected), else — at most one phone connected or none visible (Wi-Fi, adb down) — the same
   * client address. Calls of other phones stay up.
   */
  private endPreviousCallOfPhone(s: Session, peer: string | null): void {
    const phones = this.o.phones?.() ?? [];
    const device = phones.length === 1 ? phones[0] : null;
    for (const other of this.o.calls.active()) {
      if (other === s || other.source !== 'phone') continue;
      const sameDevice = device !== null && other.device === device;
      const samePeer = phones.length <= 1 && other.peer === peer && (other.device === null || other.device === device);
      if (sameDevice || samePeer) this.o.calls.end(other.id, 'new_call');
    }
  }

  private policy(s: Session, cfg: AppConfig): 'blocklisted' | 'not_allowlisted' | 'unknown_caller' | null {
    const norm = s.number;
    const block = cfg.caller_blocklist.map(normalizeNumber);
    const allow = cfg.caller_allowlist.map(normalizeNumber);
    if (norm && block.includes(norm)) return 'blocklisted';
    if (allow.length && norm && !allow.includes(norm)) return 'not_allowlisted';
    if (!norm && !cfg.unknown_callers_allowed) return 'unknown_caller';
    return null;
  }

  private callerMemory(key: string) {
    try {
      return this.o.calls.callerMemory.load(key);
    } catch (e) {
      this.o.logger?.error({ err: e }, 'loading caller memory failed');
      return null;
    }
  }

  private forgetCaller(key: string) {
    try {
      this.o.calls.callerMemory.delete(key);
    } catch (e) {
      this.o.logger?.error({ err: e }, 'deleting caller memory failed');
    }
  }

  private async endedResponse(sid: string, signal?: AbortSignal): Promise<TurnResponse> {
    const text = this.o.config().ended_message;
    let wav: Uint8Array;
    try {
      wav = await this.speech.phrase(text, signal);
    } catch {
      wav = this.speech.silenceWav(300);
    }
    const audio = b64(wav);
    return { status: 200, body: { ok: false, session_id: sid, ended: true, detail: TEXT.ended, hangup: true, reply: text, audio_base64: audio } };
  }

  private async reject(s: Session, reason: string, signal?: AbortSignal): Promise<TurnResponse> {
    const cfg = this.o.config();
    this.o.bus.publish('turn.caller_rejected', s.id, { number: s.number, reason });
    this.o.calls.notify('callEvent', s.summaryView(), 'turn.caller_rejected', { number: s.number, reason });
    const text = cfg.auth_reject_message;
    let wav: Uint8Array;
    try {
      wav = await this.speech.phrase(text, signal);
    } catch {
      wav = this.speech.silenceWav(300);
    }
    this.o.calls.end(s.id, 'rejected');
    const audio = b64(wav);
    return { status: 200, body: { ok: false, rejected: true, reason, session_id: s.id, reply: text, audio_base64: audio } };
  }

  private async deliverInject(s: Session, input: TurnInput, t0: number, turnGen: number): Promise<TurnResponse> {
    const inj = s.injects.shift()!;
    const { bus } = this.o;
    bus.publish('turn.started', s.id, { session_id: s.id });
    // the caller's words of this poll are still heard and kept (upstream threw them away)
    let transcript = '';
    let asrMs = 0;
    try {
      const r = await this.transcribe(input.audio, this.audioKey(input));
      transcript = r.text;
      asrMs = r.asrMs;
    } catch {
      transcript = '';
    }
    if (transcript) bus.publish('turn.transcript', s.id, { transcript });
    bus.publish('turn.reply', s.id, { reply: inj.text });
    const stale = s.generation !== turnGen;
    if (!stale) {
      if (transcript) s.history.push({ role: 'user', content: transcript });
      s.history.push({ role: 'assistant', content: inj.text });
    }
    const now = performance.now();
    const metrics: TurnMetrics = { asr_ms: asrMs, llm_ms: 0, tts_ms: 0, total_ms: 0, llm_model: 'inject', transcriptionDelayMs: ms1(now - t0), llmTtftMs: 0, ttsTtfbMs: 0, e2eLatencyMs: ms1(now - t0) };
    this.record(s, { kind: 'inject', transcript, reply: inj.text, producer: inj.producer, metrics, stale, input, replyWav: inj.wav });
    bus.publish('turn.complete', s.id, { metrics: { asr_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0 }, transcript: '', reply: inj.text, model: 'inject', session_id: s.id, producer: inj.producer });
    const audio = b64(inj.wav);
    return {
      status: 200,
      body: { ok: true, session_id: s.id, transcript, reply: inj.text, audio_base64: audio, asr_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0, model: 'inject' },
    };
  }

  private async noSpeech(s: Session, turnGen: number, input: TurnInput, t0: number, asrMs: number, asr?: TimedAsr): Promise<TurnResponse> {
    // the phone swallows this exact wording and listens again without a beep (phone spec §1.3.5),
    // so no speech is synthesised for it
    const reply = TEXT.couldNotHear;
    const wav = this.speech.silenceWav(100);
    this.o.bus.publish('turn.no_speech', s.id, { session_id: s.id });
    const now = performance.now();
    const metrics: TurnMetrics = { asr_ms: asrMs, llm_ms: 0, tts_ms: 0, total_ms: ms1(now - t0), llm_model: '', transcriptionDelayMs: ms1(now - t0), llmTtftMs: 0, ttsTtfbMs: 0, e2eLatencyMs: ms1(now - t0) };
    this.record(s, { kind: 'no_speech', transcript: '', reply: '', producer: 'system', metrics, stale: s.generation !== turnGen, input, replyWav: undefined, asr });
    this.o.bus.publish('turn.complete', s.id, { metrics: this.upstreamMetrics(metrics), transcript: '', reply, session_id: s.id, no_speech: true, producer: 'system' });
    const audio = b64(wav);
    return { status: 200, body: { ok: true, session_id: s.id, transcript: '', reply, audio_base64: audio, metrics: this.upstreamMetrics(metrics), no_speech: true } };
  }

  private async passphrase(s: Session, turnGen: number, transcript: string, input: TurnInput, t0: number, asrMs: number, transcriptAt: number): Promise<TurnResponse> {
    const cfg = this.o.config();
    const { bus } = this.o;
    const pass = normPassphrase(cfg.auth_passphrase);
    const said = ` ${normPassphrase(transcript)} `;
    let reply: string;
    let hangup = false;
    if (pass && said.includes(` ${pass} `)) {
      s.auth.validated = true;
      reply = TEXT.authOk;
      bus.publish('turn.authenticated', s.id, { session_id: s.id });
      this.o.calls.notify('callEvent', s.summaryView(), 'turn.authenticated', {});
    } else {
      s.auth.attempts++;
      bus.publish('turn.auth_failed', s.id, { session_id: s.id, attempt: s.auth.attempts });
      this.o.calls.notify('callEvent', s.summaryView(), 'turn.auth_failed', { attempt: s.auth.attempts });
      if (cfg.auth_max_attempts > 0 && s.auth.attempts >= cfg.auth_max_attempts) {
        reply = cfg.auth_reject_message;
        hangup = true;
      } else reply = TEXT.authRetry;
    }
    bus.publish('turn.reply', s.id, { reply });
    const spoken = await this.speech.speak(reply, input.signal);
    const res = await this.complete(s, turnGen, { kind: 'auth', transcript: '[passphrase attempt]', reply, producer: 'system', model: '', spoken, t0, asrMs, llmMs: 0, llmTtftMs: 0, transcriptAt, input, spokenTranscript: '' });
    if (hangup && res.status === 200) {
      res.body.hangup = true;
      this.o.calls.end(s.id, 'auth_failed');
    }
    return res;
  }

  private async answer(s: Session, turnGen: number, transcript: string, input: TurnInput, t0: number, asrMs: number, transcriptAt: number, asr?: TimedAsr): Promise<TurnResponse> {
    const cfg = this.o.config();
    const engines = this.o.engines();
    const signal = input.signal ?? new AbortController().signal;
    let reply = '';
    let producer = '';
    let model = '';
    let kind: TurnKind = 'normal';
    let llmMs = 0;
    let llmTtftMs = 0;
    let spoken: SpokenAudio | undefined;

    await s.lock.run(async () => {
      const runLlm = async (stream: boolean) => {
        const supplement = s.turnInstruction;
        const messages = buildMessages(s, cfg, transcript, true);
        const tts = stream ? this.speech.stream(signal) : undefined;
        let streamed = false;
        const onToken = tts
          ? (p: string) => {
              streamed = true;
              tts.push(p);
            }
          : undefined;
        const l0 = performance.now();
        try {
          const r = await engines.llm.complete({ messages, params: llmParams(cfg), signal, sessionKey: s.id, onToken });
          llmMs = ms1(performance.now() - l0);
          llmTtftMs = ms1(r.ttftMs ?? llmMs);
          const text = speakableReply(r.text);
          if (tts) {
            // sentences were synthesised while the model wrote; an engine that did not stream, or a reply
            // that cleaned up to nothing (then the fallback phrase is spoken), is synthesised whole
            try {
              const finished = await tts.finish();
              spoken = streamed && finished.hadSpeech ? finished : await this.speech.speak(text, signal);
            } catch (e) {
              throw signal.aborted ? e : new SpeechFailed(e);
            }
          }
          return text;
        } catch (e) {
          s.turnInstruction = supplement; // not consumed by a failed generation (§16 #20)
          throw e;
        }
      };
      const brokered = this.broker.requestReply({ session: s, transcript, turnIndex: s.nextTurnIndex, signal, turnStartedAt: t0, draft: () => runLlm(false) });
      const b = brokered ? await brokered : null;
      if (b?.kind === 'reply' && safeText(b.text)) {
        reply = safeText(b.text);
        producer = b.producer;
        // a draft spoken as the local model proposed it (approved, or not approved in time) is the model's reply
        model = producer.startsWith('local:') ? producer.slice('local:'.length) : producer.startsWith('operator') ? 'operator' : 'agent';
      } else if (b?.kind === 'holding') {
        reply = safeText(b.text) || cfg.holding_phrase;
        producer = 'holding';
        kind = 'holding';
      } else {
        try {
          reply = await runLlm(true);
          producer = `local:${engines.llm.label()}`;
          model = engines.llm.label();
        } catch (e) {
          if ((e as Error).name === 'AbortError' || signal.aborted || e instanceof SpeechFailed) throw e;
          this.counters.errors++;
          const message = `LLM failed: ${(e as Error).message}`;
          this.o.logger?.error({ err: e, session_id: s.id }, 'LLM failed');
          this.o.bus.publish('turn.error', s.id, { error: message });
          this.o.calls.notify('callEvent', s.summaryView(), 'turn.error', { error: message });
          reply = TEXT.llmFailed;
          producer = 'system';
          model = '';
          spoken = undefined;
        }
      }
      // stale check before anything is written to history (§16 #12)
      if (s.generation === turnGen) {
        s.history.push({ role: 'user', content: transcript });
        if (kind !== 'holding') s.history.push({ role: 'assistant', content: reply });
      }
    });

    this.o.bus.publish('turn.reply', s.id, { reply });
    if (!spoken) spoken = await this.speech.speak(reply, signal);
    const res = await this.complete(s, turnGen, { kind, transcript, reply, producer, model, spoken, t0, asrMs, llmMs, llmTtftMs, transcriptAt, input, asr });
    if (res.status === 200 && res.body.ok && s.generation === turnGen && needsCompaction(s, cfg, engines.llm)) {
      void compact(s, cfg, engines.llm).catch((e) => this.o.logger?.warn({ err: e }, 'compaction failed'));
    }
    return res;
  }

  private upstreamMetrics(m: TurnMetrics): Record<string, unknown> {
    return { ...m };
  }

  private async complete(
    s: Session,
    turnGen: number,
    t: {
      kind: TurnKind; transcript: string; reply: string; producer: string; model: string; spoken: SpokenAudio; t0: number;
      asrMs: number; llmMs: number; llmTtftMs: number; transcriptAt: number; input: TurnInput; asr?: TimedAsr; spokenTranscript?: string;
    },
  ): Promise<TurnResponse> {
    const now = performance.now();
    const metrics: TurnMetrics = {
      asr_ms: t.asrMs,
      llm_ms: t.llmMs,
      tts_ms: ms1(t.spoken.ttsMs),
      total_ms: ms1(now - t.t0),
      llm_model: t.model,
      transcriptionDelayMs: ms1(t.transcriptAt - t.t0),
      llmTtftMs: t.llmTtftMs,
      ttsTtfbMs: ms1(t.spoken.ttfbMs),
      e2eLatencyMs: ms1(Math.min(now, t.spoken.firstAudioAt) - t.t0),
    };
    if (s.generation !== turnGen) {
      this.record(s, { kind: t.kind, transcript: t.transcript, reply: t.reply, producer: t.producer, metrics, stale: true, input: t.input, replyWav: t.spoken.wav, asr: t.asr });
      if (s.ended) return this.endedResponse(s.id, t.input.signal);
      this.o.bus.publish('turn.stale', s.id, { session_id: s.id, reason: 'generation_changed' });
      return { status: 200, body: { ok: false, session_id: s.id, stale: true, detail: TEXT.stale } };
    }
    s.turnCount++;
    s.lastLatencyMs = metrics.total_ms;
    this.record(s, { kind: t.kind, transcript: t.transcript, reply: t.reply, producer: t.producer, metrics, stale: false, input: t.input, replyWav: t.spoken.wav, asr: t.asr });
    const um = this.upstreamMetrics(metrics);
    this.o.bus.publish('turn.complete', s.id, { metrics: um, transcript: t.transcript, reply: t.reply, session_id: s.id, producer: t.producer });
    this.o.bus.publish('turn.metrics', s.id, { session_id: s.id, ...metrics });
    this.o.calls.updated(s);
    const audio = b64(t.spoken.wav);
    return { status: 200, body: { ok: true, session_id: s.id, transcript: t.transcript, reply: t.reply, audio_base64: audio, metrics: um } };
  }

  /**
   * Hand the turn to the observers. The phone's answer does not wait for the store: the call store
   * writes the recordings off the event loop and commits the turn a few milliseconds later, in order
   * with everything else of the call, and the history API waits for what is queued before it reads.
   * A crash loses at most this turn — the turn in flight (with durability 'async' the WAL fsync came
   * after the answer anyway).
   */
  private record(
    s: Session,
    t: { kind: TurnKind; transcript: string; reply: string; producer: string; metrics: TurnMetrics; stale: boolean; input: TurnInput; replyWav?: Uint8Array; asr?: TimedAsr },
  ): void {
    const callerAudio = t.kind === 'forced' ? undefined : t.input.audio;
    const rec: TurnRecord = {
      session_id: s.id,
      index: s.nextTurnIndex++,
      kind: t.kind,
      started_at: Date.now() / 1000 - t.metrics.total_ms / 1000,
      completed_at: Date.now() / 1000,
      transcript: t.transcript,
      reply: t.reply,
      producer: t.producer,
      metrics: t.metrics,
      stale: t.stale,
      callerAudio,
      callerAudioSha256: callerAudio ? t.input.audioSha256 : undefined,
      replyAudio: t.replyWav,
      asrSegments: t.asr?.segments?.map((x) => ({ start: x.start, end: x.end, text: x.text })),
      noSpeechProb: t.asr?.noSpeechProb,
    };
    this.o.calls.notify('turnCompleted', s.summaryView(), rec);
  }
}
