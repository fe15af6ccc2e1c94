/**
 * Who may call what (issue 3 "Security"):
 * - Host must name this machine's loopback (DNS-rebinding defence) unless the client is remote and
 *   presents the operator token.
 * - A request or WebSocket upgrade carrying an Origin other than the console's own → 403.
 * - Phone routes need the phone bearer (`bearer_token`) or the operator token.
 * - Everything else: loopback clients without an Origin (existing agents, the Python plugin) or with
 *   the console's Origin pass, unless `agent_token_required`; the operator token (Bearer or ?token=)
 *   is accepted everywhere and required from any other address.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../src-shared/config/schema';
import { redactUrl } from '../logging/logger';

export const PHONE_ROUTES = new Set(['/health', '/api/asr', '/api/turn', '/api/turn/stream', '/api/session/new', '/api/session/reset', '/api/session/end']);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function hostName(host: string | undefined): string {
  if (!host) return '';
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.replace(/:\d+$/, '');
}

export interface AccessOptions {
  config: () => AppConfig;
  operatorToken: () => string;
  /** the port the server listens on (for the console's own origins) */
  port: () => number;
}

export function allowedOrigins(port: number, cfg: AppConfig): Set<string> {
  const out = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]);
  if (cfg.host && !LOOPBACK_HOSTS.has(cfg.host) && cfg.host !== '0.0.0.0' && cfg.host !== '::') out.add(`http://${cfg.host}:${port}`);
  return out;
}

export function presentedToken(req: FastifyRequest): string {
  const h = req.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ')) return h.slice(7);
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof q === 'string' ? q : '';
}

export function routePath(req: FastifyRequest): string {
  const url = req.url.split('?')[0].replace(/\/{2,}/g, '/');
  return url;
}

export type AccessDecision = { ok: true; operator: boolean } | { ok: false; status: 401 | 403; detail: string };

export function decideAccess(req: FastifyRequest, o: AccessOptions): AccessDecision {
  const cfg = o.config();
  const loopback = isLoopbackAddress(req.socket.remoteAddress);
  const token = presentedToken(req);
  const opToken = o.operatorToken();
  const isOperator = !!token && !!opToken && safeEqual(token, opToken);
  const host = hostName(req.headers.host);
  const hostOk = LOOPBACK_HOSTS.has(host) || (!!cfg.host && host === cfg.host);
  if (!hostOk && !(isOperator || (!loopback && PHONE_ROUTES.has(routePath(req))))) {
    return { ok: false, status: 403, detail: `host "${host}" not allowed` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedOrigins(o.port(), cfg).has(origin)) {
    return { ok: false, status: 403, detail: 'origin not allowed' };
  }
  const path = routePath(req);
  if (PHONE_ROUTES.has(path)) {
    if (isOperator) return { ok: true, operator: true };
    if (cfg.bearer_token) {
      const h = req.headers.authorization;
      if (typeof h === 'string' && safeEqual(h, `Bearer ${cfg.bearer_token}`)) return { ok: true, operator: false };
      return { ok: false, status: 401, detail: 'Unauthorized' };
    }
    return loopback ? { ok: true, operator: false } : { ok: false, status: 401, detail: 'Unauthorized' };
  }
  if (isOperator) return { ok: true, operator: true };
  if (!path.startsWith('/api/') && !path.startsWith('/ws/')) return { ok: true, operator: false }; // the console's static files
  if (loopback && !cfg.agent_token_required) return { ok: true, operator: false };
  return { ok: false, status: 401, detail: loopback ? 'operator token required (agent_token_required is on)' : 'operator token required for clients on other machines' };
}

export function accessHook(o: AccessOptions) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const d = decideAccess(req, o);
    if (!d.ok) {
      req.log.warn({ url: redactUrl(req.url), status: d.status, reason: d.detail }, 'request refused');
      return reply.code(d.status).send({ detail: d.detail });
    }
  };
}
