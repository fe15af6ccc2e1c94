/**
 * ASR through an OpenAI-compatible transcription endpoint (spec §10.3): whisper.cpp server, speaches,
 * mlx_audio, LM Studio… `POST {mlx_audio_base}/v1/audio/transcriptions`, multipart.
 */
import { z } from 'zod';
import type { AppConfig } from '../../../src-shared/config/schema';
import { safeText } from '../../../src-shared/text/sanitize';
import type { Asr, AsrInput, AsrResult, AsrSegment, EngineHealth } from '../types';
import { HealthCache } from './health-cache';
import { baseUrl, engineRequest, EngineHttpError, failForStatus, MAX_JSON_BODY_BYTES, parseJsonBody, readText, timeoutMs } from './http';
import { EngineServerAdapter, sidecarHealth } from './probe';

const segmentSchema = z
  .object({
    text: z.string(),
    start: z.number().optional(),
    end: z.number().optional(),
    no_speech_prob: z.number().optional(),
  })
  .loose();

const transcriptionSchema = z
  .object({
    text: z.unknown().optional(),
    transcript: z.unknown().optional(),
    segments: z.array(z.unknown()).optional(),
  })
  .loose();

/** Parses any of the response shapes §10.3 names into an AsrResult (text through safeText). */
export function parseTranscription(body: unknown): AsrResult {
  if (typeof body === 'string') return { text: safeText(body) };
  const parsed = transcriptionSchema.safeParse(body);
  if (!parsed.success || body === null || Array.isArray(body)) return { text: '' };
  const o = parsed.data;
  const segments: AsrSegment[] = [];
  for (const s of o.segments ?? []) {
    const seg = segmentSchema.safeParse(s);
    if (!seg.success) continue;
    segments.push({
      start: seg.data.start ?? 0,
      end: seg.data.end ?? 0,
      text: safeText(seg.data.text),
      ...(seg.data.no_speech_prob !== undefined ? { noSpeechProb: seg.data.no_speech_prob } : {}),
    });
  }
  // upstream: `text or transcript or " ".join(segments)` — empty values fall through
  const raw = (typeof o.text === 'string' && o.text) || (typeof o.transcript === 'string' && o.transcript) || segments.map((s) => s.text).join(' ');
  const result: AsrResult = { text: safeText(raw) };
  if (segments.length) {
    result.segments = segments;
    const probs = segments.map((s) => s.noSpeechProb).filter((p): p is number => p !== undefined);
    // the utterance is speech if any segment is: take the most speech-like segment
    if (probs.length === segments.length) result.noSpeechProb = Math.min(...probs);
  }
  return result;
}

export class OpenAiAsr extends EngineServerAdapter implements Asr {
  readonly kind = 'openai';

  async transcribe(input: AsrInput): Promise<AsrResult> {
    const cfg = this.config();
    const base = baseUrl(cfg.mlx_audio_base, 'mlx_audio_base', 'asr');
    const req = { stage: 'asr' as const, what: 'ASR server', base };
    const form = new FormData();
    form.append('file', new Blob([input.wav], { type: 'audio/wav' }), 'turn.wav');
    form.append('model', cfg.stt_model);
    // an empty language would be rejected by OpenAI-style servers; leaving it out means auto-detect
    const language = input.language || cfg.stt_language;
    if (language) form.append('language', language);
    return engineRequest(
      { ...req, url: `${base}/v1/audio/transcriptions`, init: { method: 'POST', body: form }, timeoutMs: timeoutMs(cfg.engine_timeout_sec), signal: input.signal },
      async (res) => {
        if (!res.ok) return failForStatus(res, req);
        const text = await readText(res, MAX_JSON_BODY_BYTES, req);
        const type = res.headers.get('content-type') ?? '';
        // whisper.cpp and others answer `response_format=text` style bodies as text/plain
        if (type.startsWith('text/plain')) return { text: safeText(text) };
        const body = parseJsonBody(text, req, res.status);
        if (body === null || typeof body === 'number' || typeof body === 'boolean' || Array.isArray(body)) {
          throw new EngineHttpError(`ASR server at ${base} returned JSON without a transcript: ${text.slice(0, 120)}`, 'asr', res.status);
        }
        return parseTranscription(body);
      },
    );
  }

  async health(): Promise<EngineHealth> {
    return sidecarHealth(this.config(), this.healthCache, this.probeTimeoutMs);
  }
}
