/**
 * The fastify server: body parsers (buffered multipart, JSON whatever the Content-Type, urlencoded),
 * `{detail}` errors with the right status (400 bad JSON, 413 too large, 415, 404), access control
 * on every route and socket, and the route modules of each capability.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { accessHook } from './auth';
import type { GatewayContext } from './context';
import { registerPhoneRoutes } from './routes/phone';
import { registerConfigRoutes } from './routes/config';
import { registerEngineNetworkConfigRoutes } from './routes/config-engines';
import { registerStatusRoutes } from './routes/status';
import { registerInstructionRoutes } from './routes/instructions';
import { registerEventsSocket } from './ws/events';
import { registerConsole } from './routes/console';

export type RouteModule = (app: FastifyInstance, ctx: GatewayContext) => void | Promise<void>;

export class BadRequest extends Error {
  statusCode = 400;
}

function parseJsonBody(body: string): unknown {
  if (!body.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    throw new BadRequest(`invalid JSON body: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new BadRequest('JSON body must be an object');
  return v;
}

export async function buildServer(ctx: GatewayContext, extra: RouteModule[] = []): Promise<FastifyInstance> {
  const cfg = ctx.config.get();
  const app = Fastify({
    loggerInstance: ctx.logger,
    bodyLimit: cfg.max_upload_bytes,
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true, maxParamLength: 256 },
    forceCloseConnections: true,
    logController: new LogController({ disableRequestLogging: cfg.log_level !== 'debug' && cfg.log_level !== 'trace' }),
  }) as unknown as FastifyInstance;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    let status = err.statusCode ?? 500;
    let detail = err.message;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413;
      detail = `request body too large: the limit is ${ctx.config.get().max_upload_bytes} bytes`;
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
    }
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
    }
    reply.code(status).send({ detail });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ detail: `Not Found: ${req.method} ${req.url.split('?')[0]}` }));

  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  // after the websocket plugin's own onRequest hook: it marks upgrade requests so that a refused upgrade's
  // socket is destroyed once the 401/403 is sent (otherwise it stays open and server.close() never returns)
  app.addHook('onRequest', accessHook({ config: () => ctx.config.get(), operatorToken: ctx.operatorToken, port: ctx.port, listening: ctx.listening }));

  registerPhoneRoutes(app, ctx);
  registerStatusRoutes(app, ctx);
  registerConfigRoutes(app, ctx);
  registerEngineNetworkConfigRoutes(app, ctx);
  registerInstructionRoutes(app, ctx);
  registerEventsSocket(app, ctx);
  for (const m of extra) await m(app, ctx);
  await registerConsole(app, ctx);
  return app;
}
