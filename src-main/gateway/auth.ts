/**
 * Who may call what (issue 3 "Security"):
 * - Host must name this machine's loopback (DNS-rebinding defence) unless the client presents the
 *   operator token. When the gateway listens on a non-loopback address (0.0.0.0, a LAN address) the
 *   console's static files (no data in them) are served on any Host, and an API request with a foreign
 *   Host and no token gets 401 (so a remote console asks for the token) instead of 403.
 * - A request or WebSocket upgrade carrying an Origin other than the console's own → 403. The page's own
 *   origin (Origin `http://<Host header>`) counts as the console's when the operator token is presented:
 *   that is a console opened from another machine (http://192.168.1.5:8996/) after the token dialog.
 * - Phone routes need the phone bearer (`bearer_token`) or the operator token; so does `GET /api/config/call`
 *   (the phone reads auto-answer from it).
 * - Everything else: loopback clients without an Origin (existing agents, the Python plugin) or with
 *   the console's Origin pass, unless `agent_token_required`; the operator token (Bearer or ?token=)
 *   is accepted everywhere and required from any other address.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../src-shared/config/schema';
import { redactUrl } from '../logging/logger';

export const PHONE_ROUTES = new Set(['/health', '/api/asr', '/api/turn', '/api/turn/stream', '/api/session/new', '/api/session/reset', '/api/session/end']);

/** GET-only routes the phone calls with its bearer besides PHONE_ROUTES */
export const PHONE_READ_ROUTES = new Set(['/api/config/call']);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** true when the listen address is reachable only from this machine */
export function isLoopbackBind(host: string | undefined): boolean {
  if (!host) return true;
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.') || host === '[::1]';
}

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
  /** the address the server is bound to (null before listen); default: config `host` */
  listening?: () => { host: string; port: number } | null;
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

function isPhoneRoute(req: FastifyRequest, path: string): boolean {
  return PHONE_ROUTES.has(path) || ((req.method === 'GET' || req.method === 'HEAD') && PHONE_READ_ROUTES.has(path));
}

/** the console's static files: everything that is neither API, socket nor phone route */
function isStaticPath(path: string): boolean {
  return !path.startsWith('/api/') && path !== '/api' && !path.startsWith('/ws/') && path !== '/ws' && !PHONE_ROUTES.has(path);
}

export function decideAccess(req: FastifyRequest, o: AccessOptions): AccessDecision {
  const cfg = o.config();
  const loopback = isLoopbackAddress(req.socket.remoteAddress);
  const token = presentedToken(req);
  const opToken = o.operatorToken();
  const isOperator = !!token && !!opToken && safeEqual(token, opToken);
  const path = routePath(req);
  const phoneRoute = isPhoneRoute(req, path);
  const exposed = !isLoopbackBind(o.listening?.()?.host ?? cfg.host);
  const hostHeader = typeof req.headers.host === 'string' ? req.headers.host.toLowerCase() : '';
  const host = hostName(hostHeader);
  const hostOk = LOOPBACK_HOSTS.has(host) || (!!cfg.host && host === cfg.host);
  if (!hostOk && !(isOperator || (!loopback && phoneRoute))) {
    // a gateway listening on the network serves the (data-free) console on whatever name it was reached by;
    // its data stays behind the operator token
    if (exposed && isStaticPath(path)) {
      if (req.headers.origin === undefined || req.headers.origin === `http://${hostHeader}`) return { ok: true, operator: false };
    } else if (exposed) {
      return { ok: false, status: 401, detail: 'operator token required for clients on other machines' };
    }
    return { ok: false, status: 403, detail: `host "${host}" not allowed` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedOrigins(o.port(), cfg).has(origin)) {
    // the page's own origin: a console opened by a name other than loopback, with the operator token
    const ownOrigin = !!hostHeader && origin.toLowerCase() === `http://${hostHeader}`;
    if (!(ownOrigin && isOperator)) {
      if (ownOrigin && exposed && !phoneRoute) return { ok: false, status: 401, detail: 'operator token required for clients on other machines' };
      return { ok: false, status: 403, detail: 'origin not allowed' };
    }
  }
  if (phoneRoute) {
    if (isOperator) return { ok: true, operator: true };
    if (cfg.bearer_token) {
      const h = req.headers.authorization;
      if (typeof h === 'string' && safeEqual(h, `Bearer ${cfg.bearer_token}`)) return { ok: true, operator: false };
      // GET /api/config/call is also an operator route: a loopback client without a bearer falls through
      if (PHONE_ROUTES.has(path)) return { ok: false, status: 401, detail: 'Unauthorized' };
    } else if (PHONE_ROUTES.has(path)) {
      return loopback ? { ok: true, operator: false } : { ok: false, status: 401, detail: 'Unauthorized' };
    }
  }
  if (isOperator) return { ok: true, operator: true };
  if (isStaticPath(path)) return { ok: true, operator: false }; // the console's static files
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
