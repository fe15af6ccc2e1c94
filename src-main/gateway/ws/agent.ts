/**
 * `WS /api/agent/ws` (spec §7): every bus event in upstream's envelope, plus direct frames. Every
 * frame is validated and the socket stays up: a known command with a missing or badly typed field is
 * answered by its own `<type>.ack {ok:false, reason:"invalid", error, detail}` (upstream clients wait
 * for that ack); a frame that is not JSON, has no type or an unknown one gets `{type:"error", detail, for}`.
 * Frames are handled concurrently: takeover replies and pings are answered synchronously, while
 * slow commands (inject synthesises speech, dial runs adb) run on their own, so they never delay a
 * reply. Access control (Origin, Host, token) is the gateway's global hook, applied to the upgrade.
 *
 * Query: `?name=<agent name>&role=agent|operator` (or a `hello` frame after connecting).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import {
  AgentName, AgentRole, describeFrameIssues, FrameId, inboundFrames, isInboundType, looksLikeReply, ReplyFrame,
  type FrameId as FrameIdT, type InboundFrame, type InboundType, type OutboundFrame,
} from '../../../src-shared/protocol/agent';
import { nextClientId, producerOf, type AgentClient } from '../../agents/client';
import { DEFAULT_AGENT_NAME, DEFAULT_OPERATOR_NAME } from '../../agents/hub';
import type { AgentRuntime } from '../../agents/runtime';
import type { GatewayContext } from '../context';
import { parseFrame } from './events';
import { Outbox } from './outbox';

/** Slow commands one connection may have running at once (replies and pings are never limited). */
export const MAX_INFLIGHT = 64;

/**
 * The commands that wait on speech synthesis or the phone and so count against MAX_INFLIGHT. Every
 * other command is answered at once (takeover, release, typing, hello, get_call_state, ping…) and
 * replies answer a waiting caller: a burst of slow commands never refuses them.
 */
export const SLOW_COMMANDS: ReadonlySet<InboundType> = new Set<InboundType>(['inject', 'say', 'dial', 'hangup']);

const Query = z.object({ name: AgentName.optional(), role: AgentRole.optional() }).loose();

class SocketClient implements AgentClient {
  readonly id = nextClientId('ws');
  readonly transport = 'ws' as const;
  readonly connectedAt = Date.now() / 1000;
  inflight = 0;
  constructor(private readonly out: Outbox, public name: string, public kind: 'agent' | 'operator') {}

  get connected(): boolean {
    return this.out.open;
  }

  send(frame: OutboundFrame): void {
    this.out.send(JSON.stringify(frame));
  }
}

type Ack = Record<string, unknown> & { ok?: boolean };

export function registerAgentSocket(app: FastifyInstance, _ctx: GatewayContext, rt: AgentRuntime): void {
  const { hub, broker, commands } = rt;

  app.get('/api/agent/ws', { websocket: true }, (socket: WebSocket, req: FastifyRequest) => {
    const q = Query.safeParse(req.query ?? {});
    const role = (q.success && q.data.role) || 'agent';
    const out = new Outbox(socket, req.socket);
    const client = new SocketClient(out, (q.success && q.data.name) || (role === 'operator' ? DEFAULT_OPERATOR_NAME : DEFAULT_AGENT_NAME), role);
    const off = rt.bus.subscribe((_e, json) => out.send(json));
    hub.connect(client);
    if (!q.success) client.send({ type: 'error', detail: `invalid connection query: ${describeFrameIssues(q.error)}; connected as "${client.name}"`, for: 'hello' });

    const gone = () => {
      off();
      hub.disconnect(client);
    };
    socket.on('close', gone);
    socket.on('error', gone);
    socket.on('message', (raw) => {
      const msg = parseFrame(out, raw);
      if (msg) onFrame(msg);
    });

    function error(detail: string, forType: string | null, id?: FrameIdT): void {
      client.send({ type: 'error', detail, for: forType, ...(id !== undefined ? { id } : {}) });
    }

    function onFrame(msg: Record<string, unknown>): void {
      const idParse = FrameId.safeParse(msg.id);
      const id = idParse.success ? idParse.data : undefined;
      // upstream rule, checked first: a truthy request_id plus a reply key is a takeover reply
      if (looksLikeReply(msg)) return onReply(msg, id);
      const type = msg.type;
      if (type === undefined || type === null) return error('frame has no "type"', null, id);
      if (!isInboundType(type)) return error(`unknown frame type ${JSON.stringify(type)}`, typeof type === 'string' ? type : null, id);
      const parsed = inboundFrames[type].safeParse(msg);
      if (!parsed.success) {
        const detail = `invalid ${type} frame: ${describeFrameIssues(parsed.error)}`;
        if (type === 'ping') return error(detail, type, id);
        // a known command: answered by its own ack, which upstream clients (the OpenClaw bridge) wait for
        const sid = typeof msg.session_id === 'string' ? { session_id: msg.session_id } : {};
        return client.send({ type: `${type}.ack`, ok: false, reason: 'invalid', error: detail, detail, ...sid, ...(id !== undefined ? { id } : {}) });
      }
      if (type === 'ping') return client.send({ type: 'pong', ...(id !== undefined ? { id } : {}) });
      const slow = SLOW_COMMANDS.has(type);
      if (slow && client.inflight >= MAX_INFLIGHT) {
        return client.send({ type: `${type}.ack`, ok: false, reason: 'busy', detail: `too many commands in flight (at most ${MAX_INFLIGHT} of inject, say, dial, hangup); wait for their acks`, ...(id !== undefined ? { id } : {}) });
      }
      if (slow) client.inflight++;
      Promise.resolve()
        .then(() => run(type, parsed.data as InboundFrame))
        .then(
          (out) => client.send({ ...out, ...(id !== undefined ? { id } : {}) } as OutboundFrame),
          (e: unknown) => {
            req.log.error({ err: e, type }, 'agent command failed');
            error(`${type} failed: ${(e as Error)?.message ?? String(e)}`, type, id);
          },
        )
        .finally(() => {
          if (slow) client.inflight--;
        });
    }

    function onReply(msg: Record<string, unknown>, id: FrameIdT | undefined): void {
      const r = ReplyFrame.safeParse(msg);
      const requestId = String(msg.request_id);
      if (!r.success) {
        client.send({ type: 'reply.ack', ok: false, request_id: requestId, reason: 'invalid', detail: describeFrameIssues(r.error), ...(id !== undefined ? { id } : {}) });
        return;
      }
      void broker.reply(client, r.data.request_id, r.data.reply).then((res) => client.send({ type: 'reply.ack', request_id: requestId, ...res, ...(id !== undefined ? { id } : {}) }));
    }

    /** One command → its direct answer (`<type>.ack`, or upstream's `call_state`). */
    async function run(type: InboundType, f: InboundFrame): Promise<Record<string, unknown> & { type: string }> {
      const ack = (out: Ack) => ({ type: `${type}.ack`, ...out });
      switch (type) {
        case 'hello': {
          const h = f as InboundFrame<'hello'>;
          hub.rename(client, h.name, h.role ?? client.kind);
          return ack({ ok: true, name: client.name, role: client.kind, agent_id: client.id });
        }
        case 'takeover':
        case 'draft': {
          const t = f as InboundFrame<'takeover'>;
          const mode = type === 'draft' ? 'draft' : (t.mode ?? 'takeover');
          const r = broker.takeover(client, t.session_id, mode);
          return ack(r.ok ? r : { ...r, session_id: t.session_id });
        }
        case 'release': {
          const sid = (f as InboundFrame<'release'>).session_id;
          const r = broker.release(client, sid);
          return ack({ ...r, session_id: sid });
        }
        case 'inject': {
          const i = f as InboundFrame<'inject'>;
          return ack(await commands.inject(i.text, i.session_id, 'oldest'));
        }
        case 'say': {
          const i = f as InboundFrame<'say'>;
          return ack(await commands.inject(i.text, i.session_id, 'most_recent', producerOf(client)));
        }
        case 'set_instructions': {
          const i = f as InboundFrame<'set_instructions'>;
          return ack(commands.setInstructions(i.scope, i.session_id || undefined, i.instructions));
        }
        case 'set_call_config':
          return ack(commands.setCallConfig((f as InboundFrame<'set_call_config'>).config));
        case 'dial': {
          const d = f as InboundFrame<'dial'>;
          return ack({ ...(await commands.dial(d.number, { serial: d.device, greeting: d.greeting, instructions: d.instructions })) });
        }
        case 'hangup': {
          const h = f as InboundFrame<'hangup'>;
          return ack(await commands.hangup(h.session_id, h.force === true));
        }
        case 'get_call_state': {
          const { created_at: _c, ...state } = commands.callState((f as InboundFrame<'get_call_state'>).session_id);
          return { type: 'call_state', ...state };
        }
        case 'inject_context': {
          const c = f as InboundFrame<'inject_context'>;
          if (!c.session_id.trim()) return ack({ ok: false, reason: 'invalid', detail: 'session_id required' });
          return ack(commands.setKnowledge(c.session_id.trim(), c.context));
        }
        case 'clear_context': {
          const r = commands.clearKnowledge((f as InboundFrame<'clear_context'>).session_id.trim());
          return ack({ ok: r.ok });
        }
        case 'end_session':
          return ack(commands.endSession((f as InboundFrame<'end_session'>).session_id));
        case 'steer': {
          const s = f as InboundFrame<'steer'>;
          return ack(commands.steer(s.session_id, s.text, s.scope, s.append));
        }
        case 'typing': {
          const t = f as InboundFrame<'typing'>;
          return ack(broker.typing(client, t.session_id, t.typing));
        }
        case 'reply': {
          const r = f as InboundFrame<'reply'>;
          const res = await broker.replyToSession(client, r.session_id, r.reply, r.request_id !== undefined ? String(r.request_id) : undefined);
          return ack(res);
        }
        case 'approve_draft': {
          const a = f as InboundFrame<'approve_draft'>;
          return ack(await broker.approve(client, { requestId: a.request_id, sessionId: a.session_id }, a.text));
        }
        case 'ping':
          return { type: 'pong' };
      }
    }

    req.log.debug({ agent: producerOf(client), id: client.id }, 'agent connected');
  });
}
