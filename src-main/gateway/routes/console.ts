/**
 * Serves the operator console (the built renderer) at `/`, with a strict Content-Security-Policy,
 * so a browser on this machine gets the same console as the desktop window.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { GatewayContext } from '../context';

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' data: blob:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export async function registerConsole(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const dir = ctx.consoleDir;
  const securityHeaders = (reply: { header: (k: string, v: string) => unknown }) => {
    reply.header('content-security-policy', CONSOLE_CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
  };
  if (!dir || !existsSync(join(dir, 'index.html'))) {
    app.get('/', async (_req, reply) => {
      securityHeaders(reply);
      reply.type('text/html').send(
        '<!doctype html><meta charset="utf-8"><title>Clawfinger</title><h1>Clawfinger gateway is running</h1>' +
          '<p>The console has not been built. Run <code>npm run build:renderer</code> and reload.</p>',
      );
    });
    return;
  }
  await app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'], setHeaders: (reply) => securityHeaders(reply) });
  // client-side routes of the single-page console
  app.get('/app/*', async (_req, reply) => {
    securityHeaders(reply);
    return reply.sendFile('index.html');
  });
}
