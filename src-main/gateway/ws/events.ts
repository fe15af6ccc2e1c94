/**
 * `WS /ws/events`: every bus event in upstream's envelope. `{"type":"ping"}` → `{"type":"pong"}`;
 * anything else that is not a known frame gets `{type:"error", detail, for}` and the socket stays up.
 * A client that stops reading is disconnected instead of growing memory without bound.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { GatewayContext } from '../context';

export const MAX_BUFFERED = 8 * 1024 * 1024;

/** Parse a client frame into an object or answer with an error frame. */
export function parseFrame(socket: WebSocket, raw: unknown): Record<string, unknown> | null {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    socket.send(JSON.stringify({ type: 'error', detail: 'invalid JSON frame', for: null }));
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    socket.send(JSON.stringify({ type: 'error', detail: 'frame must be a JSON object', for: null }));
    return null;
  }
  return v as Record<string, unknown>;
}

/** Send a bus event to a socket, closing it when it has fallen too far behind. */
export function forward(socket: WebSocket, json: string): void {
  if (socket.readyState !== socket.OPEN) return;
  if (socket.bufferedAmount > MAX_BUFFERED) {
    socket.close(1013, 'client too slow');
    return;
  }
  socket.send(json);
}

export function registerEventsSocket(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/ws/events', { websocket: true }, (socket) => {
    const off = ctx.bus.subscribe((_e, json) => forward(socket, json));
    socket.on('message', (raw) => {
      const msg = parseFrame(socket, raw);
      if (!msg) return;
      if (msg.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      else socket.send(JSON.stringify({ type: 'error', detail: `unknown frame type ${JSON.stringify(msg.type ?? null)}`, for: msg.type ?? null }));
    });
    socket.on('close', off);
    socket.on('error', off);
  });
}
