/** Instruction layers (spec §3.3 / §9.1): global base prompt, per-call override, one-shot turn supplement. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Session } from '../../calls/session';
import type { GatewayContext } from '../context';
import { applyPatch } from './config';
import { parseBody } from './validate';

const TextBody = z.object({ text: z.string().max(20_000).optional() }).loose();

export function sessionOr404(ctx: GatewayContext, reply: FastifyReply, sid: string): Session | undefined {
  const s = ctx.calls.get(sid);
  if (!s || s.ended) {
    reply.code(404).send({ ok: false, detail: s ? `call ${sid} has ended` : `unknown call ${sid}` });
    return undefined;
  }
  return s;
}

export function registerInstructionRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/api/instructions', async () => {
    const sessions: Record<string, string> = {};
    for (const s of ctx.calls.active()) if (s.sessionInstruction) sessions[s.id] = s.sessionInstruction;
    return { base: ctx.config.get().llm_system_prompt, sessions };
  });

  app.post('/api/instructions', async (req, reply) => {
    const b = parseBody(reply, TextBody, req.body);
    if (!b) return reply;
    if (!applyPatch(ctx, reply, { llm_system_prompt: b.text ?? '' })) return reply;
    ctx.bus.publish('instructions.updated', '', { scope: 'global' });
    return { ok: true, scope: 'global' };
  });

  app.post<{ Params: { sid: string } }>('/api/instructions/:sid', async (req, reply) => {
    const b = parseBody(reply, TextBody, req.body);
    if (!b) return reply;
    const s = sessionOr404(ctx, reply, req.params.sid);
    if (!s) return reply;
    s.sessionInstruction = b.text ?? '';
    ctx.bus.publish('instructions.updated', s.id, { scope: 'session', session_id: s.id });
    return { ok: true, session_id: s.id };
  });

  app.post<{ Params: { sid: string } }>('/api/instructions/:sid/turn', async (req, reply) => {
    const b = parseBody(reply, TextBody, req.body);
    if (!b) return reply;
    const s = sessionOr404(ctx, reply, req.params.sid);
    if (!s) return reply;
    s.turnInstruction = b.text ?? '';
    return { ok: true, session_id: s.id, scope: 'turn' };
  });

  app.delete<{ Params: { sid: string } }>('/api/instructions/:sid', async (req, reply) => {
    const s = sessionOr404(ctx, reply, req.params.sid);
    if (!s) return reply;
    s.sessionInstruction = '';
    ctx.bus.publish('instructions.updated', s.id, { scope: 'session', session_id: s.id });
    return { ok: true, session_id: s.id };
  });
}
