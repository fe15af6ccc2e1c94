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

/** An operator acting through REST only: always "connected", hears everything on the bus. */
export class RestOperator implements AgentClient {
  readonly id = nextClientId('op');
  readonly kind = 'operator' as const;
  readonly transport = 'rest' as const;
  readonly connectedAt = Date.now() / 1000;
  readonly connected = true;
  constructor(public name: string) {}
  send(): void {
    // nothing to send to: the console follows turn.awaiting_reply / turn.draft / turn.timeout on the bus
  }
}
