/**
 * REST side of the agent interface.
 * Upstream (spec §3.4, §3.5), same shapes and status codes:
 *   POST /api/call/dial {number, device?, greeting?, instructions?}   POST /api/call/hangup {session_id?}
 *   POST /api/call/inject {text, session_id?}   (default: most recently active call)
 *   POST /api/agent/inject {text, session_id?}  (default: oldest active call)
 *   GET  /api/agent/sessions                GET  /api/agent/call/:sid
 *   GET|POST|DELETE /api/agent/context/:sid (`_active` = most recently active call)
 *   POST /api/agent/takeover|release        (stubs: takeover is a WebSocket affair)
 * Operator console (ours; each also a WebSocket command), body field `operator` names the person:
 *   POST /api/operator/takeover|draft|release|steer|say|typing|reply|approve|hangup, GET /api/operator/pending
 * Access control is the gateway's global hook.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { dialOptions, MAX_CONTEXT_CHARS, MAX_REPLY_CHARS, operatorBodies, type RefusalReason } from '../../../src-shared/protocol/agent';
import { producerOf } from '../../agents/client';
import type { AgentRuntime } from '../../agents/runtime';
import { refusalStatus, type CmdResult } from '../../agents/types';
import type { GatewayContext } from '../context';
import { parseBody } from './validate';

const optSid = z.string().max(128).optional();
const DialBody = z.object({ number: z.union([z.string().max(64), z.number().finite()]).optional(), ...dialOptions }).loose();
const HangupBody = z.object({ session_id: optSid }).loose();
const InjectBody = z.object({ text: z.string().max(MAX_REPLY_CHARS).optional(), session_id: optSid }).loose();
const ContextBody = z.object({ context: z.string().max(MAX_CONTEXT_CHARS).optional() }).loose();

/** Send a command result: the body as is when ok, else its refusal with a fitting status. */
function send<T extends object>(reply: FastifyReply, r: CmdResult<T>) {
  if (r.ok) return r;
  return reply.code(refusalStatus(r.reason)).send(r);
}

/** Upstream inject errors are 400 (`text required`, `no active session`). */
const injectStatus = (reason: RefusalReason) => (reason === 'invalid' || reason === 'no_active_session' ? 400 : refusalStatus(reason));

export function registerAgentRoutes(app: FastifyInstance, ctx: GatewayContext, rt: AgentRuntime): void {
  const { commands, broker, hub } = rt;

  // ---------------------------------------------------------------- upstream call control

  app.post('/api/call/dial', async (req, reply) => {
    const b = parseBody(reply, DialBody, req.body);
    if (!b) return reply;
    return commands.dial(b.number === undefined ? '' : String(b.number), { serial: b.device, greeting: b.greeting, instructions: b.instructions });
  });

  app.post('/api/call/hangup', async (req, reply) => {
    const b = parseBody(reply, HangupBody, req.body);
    if (!b) return reply;
    return commands.hangup(b.session_id);
  });

  const inject = (rule: 'most_recent' | 'oldest') => async (req: { body: unknown }, reply: FastifyReply) => {
    const b = parseBody(reply, InjectBody, req.body);
    if (!b) return reply;
    const r = await commands.inject(b.text ?? '', b.session_id, rule);
    if (!r.ok) return reply.code(injectStatus(r.reason)).send({ detail: r.detail, reason: r.reason });
    return r;
  };
  app.post('/api/call/inject', inject('most_recent'));
  app.post('/api/agent/inject', inject('oldest'));

  // ---------------------------------------------------------------- upstream agent REST

  app.get('/api/agent/sessions', async () => ctx.calls.active().map((s) => s.id));

  app.get<{ Params: { sid: string } }>('/api/agent/call/:sid', async (req) => commands.callState(req.params.sid));

  const contextSid = (sid: string, reply: FastifyReply): string | undefined => {
    if (sid !== '_active') return sid;
    const s = ctx.calls.mostRecentActive();
    if (!s) {
      reply.code(404).send({ detail: 'no active session' });
      return undefined;
    }
    return s.id;
  };

  app.get<{ Params: { sid: string } }>('/api/agent/context/:sid', async (req, reply) => {
    const sid = contextSid(req.params.sid, reply);
    if (!sid) return reply;
    const knowledge = ctx.calls.get(sid)?.knowledge ?? '';
    return { session_id: sid, knowledge, has_knowledge: knowledge !== '' };
  });

  app.post<{ Params: { sid: string } }>('/api/agent/context/:sid', async (req, reply) => {
    const b = parseBody(reply, ContextBody, req.body);
    if (!b) return reply;
    const sid = contextSid(req.params.sid, reply);
    if (!sid) return reply;
    const r = commands.setKnowledge(sid, b.context ?? '');
    if (!r.ok) return reply.code(injectStatus(r.reason)).send({ detail: r.detail, reason: r.reason });
    return r;
  });

  app.delete<{ Params: { sid: string } }>('/api/agent/context/:sid', async (req, reply) => {
    const sid = contextSid(req.params.sid, reply);
    if (!sid) return reply;
    return commands.clearKnowledge(sid);
  });

  app.post('/api/agent/takeover', async () => ({ ok: false, detail: 'Use WebSocket /api/agent/ws for takeover' }));
  app.post('/api/agent/release', async () => ({ ok: false, detail: 'Use WebSocket /api/agent/ws for release' }));

  // ---------------------------------------------------------------- operator console

  const B = operatorBodies;

  app.post('/api/operator/takeover', async (req, reply) => {
    const b = parseBody(reply, B.takeover, req.body);
    if (!b) return reply;
    return send(reply, broker.takeover(hub.operator(b.operator), b.session_id, b.mode));
  });

  app.post('/api/operator/draft', async (req, reply) => {
    const b = parseBody(reply, B.draft, req.body);
    if (!b) return reply;
    return send(reply, broker.takeover(hub.operator(b.operator), b.session_id, 'draft'));
  });

  app.post('/api/operator/release', async (req, reply) => {
    const b = parseBody(reply, B.release, req.body);
    if (!b) return reply;
    return send(reply, broker.release(hub.operator(b.operator), b.session_id));
  });

  app.post('/api/operator/steer', async (req, reply) => {
    const b = parseBody(reply, B.steer, req.body);
    if (!b) return reply;
    return send(reply, commands.steer(b.session_id, b.text, b.scope, b.append));
  });

  app.post('/api/operator/say', async (req, reply) => {
    const b = parseBody(reply, B.say, req.body);
    if (!b) return reply;
    return send(reply, await commands.inject(b.text, b.session_id, 'most_recent', producerOf(hub.operator(b.operator))));
  });

  app.post('/api/operator/typing', async (req, reply) => {
    const b = parseBody(reply, B.typing, req.body);
    if (!b) return reply;
    return send(reply, broker.typing(hub.operator(b.operator), b.session_id, b.typing));
  });

  app.post('/api/operator/reply', async (req, reply) => {
    const b = parseBody(reply, B.reply, req.body);
    if (!b) return reply;
    return send(reply, await broker.replyToSession(hub.operator(b.operator), b.session_id, b.text, b.request_id));
  });

  app.post('/api/operator/approve', async (req, reply) => {
    const b = parseBody(reply, B.approve, req.body);
    if (!b) return reply;
    return send(reply, await broker.approve(hub.operator(b.operator), { requestId: b.request_id, sessionId: b.session_id }, b.text));
  });

  app.post('/api/operator/hangup', async (req, reply) => {
    const b = parseBody(reply, B.hangup, req.body);
    if (!b) return reply;
    const r = await commands.hangup(b.session_id, true);
    if (!r.ok) return reply.code(refusalStatus(r.reason ?? 'session_ended')).send(r);
    return r;
  });

  app.get('/api/operator/pending', async () => ({ requests: broker.pending() }));
}
