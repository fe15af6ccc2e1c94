/**
 * The phone API, exactly as the Clawfinger phone app uses it (phone spec §1, gateway spec §3.1/§4):
 * `/health`, `/api/asr`, `/api/turn`, `/api/turn/stream`, `/api/session/new|reset|end`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { safeText } from '../../../src-shared/text/sanitize';
import { HttpError } from '../../calls/pipeline';
import { isSafeSessionId, newSessionId } from '../../calls/manager';
import type { TurnInput } from '../../calls/types';
import type { GatewayContext } from '../context';
import { MultipartError, parseMultipart, type MultipartForm } from '../multipart';
import { parseBody } from './validate';

function form(req: FastifyRequest): MultipartForm {
  const ct = req.headers['content-type'] ?? '';
  if (!ct.toLowerCase().startsWith('multipart/form-data') || !Buffer.isBuffer(req.body)) {
    throw new HttpError(422, 'expected a multipart/form-data body with an "audio" file part');
  }
  try {
    return parseMultipart(req.body, ct);
  } catch (e) {
    if (e instanceof MultipartError) throw new HttpError(400, `malformed multipart body: ${e.message}`);
    throw e;
  }
}

function audioOf(f: MultipartForm): Buffer {
  const a = f.files.get('audio');
  if (!a) throw new HttpError(422, 'the "audio" file part is required');
  return a.data;
}

const truthy = (v: string | undefined) => (v ?? '').trim().toLowerCase() === 'true';

function turnInput(f: MultipartForm, signal: AbortSignal): TurnInput {
  return {
    audio: audioOf(f),
    sessionId: f.fields.get('session_id'),
    resetSession: truthy(f.fields.get('reset_session')),
    transcriptHint: f.fields.get('transcript_hint'),
    skipAsr: truthy(f.fields.get('skip_asr')),
    forcedReply: f.fields.get('forced_reply'),
    callerNumber: f.fields.get('caller_number'),
    callDirection: f.fields.get('call_direction'),
    signal,
  };
}

/** Aborts when the client goes away before we answered. */
function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) ac.abort(new Error('client disconnected'));
  });
  return ac.signal;
}

function httpError(reply: FastifyReply, e: unknown) {
  if (e instanceof HttpError) return reply.code(e.status).send({ detail: e.message });
  throw e;
}

/**
 * The multipart turn form of a request, as the phone sends it; on a bad body the reply is sent
 * (400/422 with `detail`) and the result is null.
 */
export function readTurnInput(req: FastifyRequest, reply: FastifyReply): TurnInput | null {
  try {
    const input = turnInput(form(req), clientGone(reply));
    input.peer = req.ip;
    return input;
  } catch (e) {
    httpError(reply, e);
    return null;
  }
}

export function registerPhoneRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/health', async () => {
    const h = await ctx.engines.health();
    const cfg = ctx.config.get();
    return {
      ok: true,
      mlx_audio: { mlx_audio: h.asr, piper: h.tts, ok: h.asr.ok && h.tts.ok },
      llm: cfg.llm_base_url
        ? { backend: 'openai_remote', base_url: cfg.llm_base_url, model: cfg.llm_model, configured: true, ...h.llm }
        : { backend: 'local', model: ctx.engines.current().llm.label(), loaded: h.llm.ok, ...h.llm },
      engines: h,
      active_sessions: ctx.calls.active().length,
      uptime_s: Math.floor((Date.now() - ctx.startedAt) / 1000),
    };
  });

  app.post('/api/asr', async (req, reply) => {
    try {
      const f = form(req);
      const r = await ctx.pipeline.transcribe(audioOf(f));
      return { transcript: r.text, asr_ms: r.asrMs };
    } catch (e) {
      if (e instanceof HttpError) return httpError(reply, e);
      return reply.code(400).send({ detail: `ASR failed: ${(e as Error).message}` });
    }
  });

  app.post('/api/turn', async (req, reply) => {
    const input = readTurnInput(req, reply);
    if (!input) return reply;
    const r = await ctx.pipeline.run(input, 'phone');
    return reply.code(r.status).send(r.body);
  });

  // NDJSON variant the phone app has (switched off) — phone spec §1.5
  app.post('/api/turn/stream', async (req, reply) => {
    const input = readTurnInput(req, reply);
    if (!input) return reply;
    input.forcedReply = undefined;
    const sid = safeText(input.sessionId ?? '') || newSessionId();
    input.sessionId = sid;
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const line = (o: Record<string, unknown>) => reply.raw.write(JSON.stringify(o) + '\n');
    line({ event: 'session', session_id: sid });
    const off = ctx.bus.subscribe((e) => {
      if (e.session_id !== sid) return;
      if (e.type === 'turn.transcript') line({ event: 'asr', transcript: (e.data as { transcript: string }).transcript });
      else if (e.type === 'turn.reply') line({ event: 'reply', reply: (e.data as { reply: string }).reply });
    });
    try {
      const r = await ctx.pipeline.run(input, 'phone');
      const body = r.body as { ok?: boolean; audio_base64?: string; detail?: string };
      if (r.status === 200 && body.ok && body.audio_base64) {
        const wav = Buffer.from(body.audio_base64, 'base64');
        const CHUNK = 32 * 1024;
        for (let i = 0, n = 0; i < wav.length; i += CHUNK, n++) line({ event: 'audio', index: n, chunk_base64: wav.subarray(i, i + CHUNK).toString('base64') });
        line({ event: 'done', session_id: sid });
      } else {
        line({ event: 'error', detail: body.detail ?? (r.body.ended ? 'session ended' : 'turn produced no reply') });
      }
    } catch (e) {
      line({ event: 'error', detail: (e as Error).message });
    } finally {
      off();
      reply.raw.end();
    }
    return reply;
  });

  app.post('/api/session/new', async () => {
    const s = ctx.calls.ensure(newSessionId(), 'api');
    ctx.calls.announce(s);
    return { session_id: s.id };
  });

  app.post('/api/session/reset', async (req, reply) => {
    let raw: unknown;
    if (Buffer.isBuffer(req.body) && (req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
      try {
        raw = form(req).fields.get('session_id');
      } catch (e) {
        return httpError(reply, e);
      }
    } else raw = (req.body as Record<string, unknown> | undefined)?.session_id;
    const sid = safeText(typeof raw === 'string' ? raw : '');
    if (sid && !isSafeSessionId(sid)) return reply.code(400).send({ detail: 'invalid session_id' });
    if (sid) {
      const s = ctx.calls.ensure(sid, 'api');
      ctx.calls.reset(s);
      ctx.calls.announce(s);
    }
    return { ok: true, session_id: sid };
  });

  app.post('/api/session/end', async (req, reply) => {
    const body = parseBody(reply, z.object({ session_id: z.string().optional() }).loose(), req.body);
    if (!body) return reply;
    const sid = safeText(body.session_id ?? '');
    if (!sid) return reply.code(400).send({ detail: 'session_id required' });
    if (!isSafeSessionId(sid)) return reply.code(400).send({ detail: 'invalid session_id' });
    return { ok: ctx.calls.end(sid, 'ended_by_api'), session_id: sid };
  });
}
