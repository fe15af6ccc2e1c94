/**
 * Model manager routes: catalogue + installed + recommendations + disk use, download (progress arrives
 * as `model.download` events), cancel, import a file the user has, delete. Errors are `{detail}`.
 * No auth here: the gateway's global hook guards these like every console route.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { ModelRequestError, type ModelManager } from '../../models/manager';
import { parseBody } from './validate';

const idParams = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/, 'not a model id') });
const importBody = z.object({ path: z.string().min(1).max(4096) }).strict();

function fail(reply: FastifyReply, e: unknown) {
  if (e instanceof ModelRequestError) return reply.code(e.status).send({ detail: e.message });
  return reply.code(500).send({ detail: `model manager error: ${(e as Error).message}` });
}

export function registerModelRoutes(app: FastifyInstance, manager: ModelManager): void {
  app.get('/api/models', async (_req, reply) => {
    try {
      return await manager.list();
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.post('/api/models/import', async (req, reply) => {
    const body = parseBody(reply, importBody, req.body);
    if (!body) return reply;
    try {
      return reply.code(201).send({ ok: true, model: await manager.importFile(body.path) });
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.post('/api/models/:id/download', async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ detail: 'invalid model id' });
    try {
      const state = await manager.download(p.data.id);
      return reply.code(202).send({ ok: true, download: state });
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.post('/api/models/:id/cancel', async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ detail: 'invalid model id' });
    try {
      return { ok: true, download: await manager.cancel(p.data.id) };
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.delete('/api/models/:id', async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ detail: 'invalid model id' });
    try {
      await manager.remove(p.data.id);
      return { ok: true };
    } catch (e) {
      return fail(reply, e);
    }
  });
}
