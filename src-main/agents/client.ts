/**
 * Who can hold a call: an agent or a human operator, connected over the agent WebSocket or acting
 * through the operator REST routes. Direct frames (`turn.request`, acks…) go to `send`; a REST
 * operator has no socket and follows the call through the bus events instead.
 */
import type { AgentRole, OutboundFrame } from '../../src-shared/protocol/agent';

export interface AgentClient {
  readonly id: string;
  name: string;
  kind: AgentRole;
  readonly transport: 'ws' | 'rest';
  /** epoch seconds */
  readonly connectedAt: number;
  readonly connected: boolean;
  send(frame: OutboundFrame): void;
}

/** The transcript producer of a client's replies: `agent:<name>` / `operator:<name>`. */
export function producerOf(c: Pick<AgentClient, 'kind' | 'name'>): string {
  return `${c.kind}:${c.name}`;
}

let seq = 0;
export function nextClientId(prefix: string): string {
  return `${prefix}${++seq}`;
}

/**
 * An operator acting through REST only: "connected", hears everything on the bus. When a console
 * names it on `/ws/events?operator=`, the hub ends its takeovers once the last such socket has been
 * closed for a short grace (a closed or crashed tab does not hold a call).
 */
export class RestOperator implements AgentClient {
  readonly id = nextClientId('op');
  readonly kind = 'operator' as const;
  readonly transport = 'rest' as const;
  readonly connectedAt = Date.now() / 1000;
  readonly connected = true;
  /** a console named this operator on its events socket: its takeovers last only while one is open */
  console = false;
  constructor(public name: string) {}
  send(): void {
    // nothing to send to: the console follows turn.awaiting_reply / turn.draft / turn.timeout on the bus
  }
}
