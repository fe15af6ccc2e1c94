/**
 * `WS /ws/events`: every bus event in upstream's envelope. `{"type":"ping"}` → `{"type":"pong"}`;
 * anything else that is not a known frame gets `{type:"error", detail, for}` and the socket stays up.
 * A client that stops reading is disconnected instead of growing memory without bound (see Outbox).
 *
 * `?operator=<name>` (ours): the console names the operator it acts as on the REST operator routes;
 * while no events socket of that name is open, that operator's takeovers end (see AgentHub).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { AgentName } from '../../../src-shared/protocol/agent';
import type { GatewayContext } from '../context';
import { Outbox } from './outbox';

/** Told when an events socket naming an operator opens; the returned function is called once when it closes. */
export type EventsSocketWatcher = (operator: string) => () => void;

const watchers = new WeakMap<GatewayContext, Set<EventsSocketWatcher>>();

/** Follow the events sockets of one gateway that name an operator (`?operator=`). */
export function watchOperatorSockets(ctx: GatewayContext, w: EventsSocketWatcher): () => void {
  let set = watchers.get(ctx);
  if (!set) watchers.set(ctx, (set = new Set()));
  set.add(w);
  return () => set.delete(w);
}

function operatorOf(req: FastifyRequest): string | null {
  const raw = (req.query as Record<string, unknown> | undefined)?.operator;
  const r = AgentName.safeParse(raw);
  return r.success ? r.data : null;
}

/** Parse a client frame into an object or answer with an error frame. */
export function parseFrame(out: Outbox, raw: unknown): Record<string, unknown> | null {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    out.send(JSON.stringify({ type: 'error', detail: 'invalid JSON frame', for: null }));
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    out.send(JSON.stringify({ type: 'error', detail: 'frame must be a JSON object', for: null }));
    return null;
  }
  return v as Record<string, unknown>;
}

export function registerEventsSocket(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/ws/events', { websocket: true }, (socket: WebSocket, req: FastifyRequest) => {
    const out = new Outbox(socket, req.socket);
    const unsubscribe = ctx.bus.subscribe((_e, json) => out.send(json));
    const operator = operatorOf(req);
    const detach = operator ? [...(watchers.get(ctx) ?? [])].map((w) => w(operator)) : [];
    let closed = false;
    const off = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const d of detach) d();
    };
    socket.on('message', (raw) => {
      const msg = parseFrame(out, raw);
      if (!msg) return;
      if (msg.type === 'ping') out.send(JSON.stringify({ type: 'pong' }));
      else out.send(JSON.stringify({ type: 'error', detail: `unknown frame type ${JSON.stringify(msg.type ?? null)}`, for: msg.type ?? null }));
    });
    socket.on('close', off);
    socket.on('error', off);
  });
}
