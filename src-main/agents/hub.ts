/**
 * The connected agents and operators: naming, `agent.connected` / `agent.disconnected` (upstream
 * names and `agent_count`, plus who), the `/api/status` agent list, and the REST operators.
 */
import type { AgentRole } from '../../src-shared/protocol/agent';
import type { EventBus } from '../events/bus';
import type { AgentDirectory } from '../gateway/context';
import { RestOperator, type AgentClient } from './client';
import type { TakeoverBroker } from './takeover';

export const DEFAULT_AGENT_NAME = 'agent';
export const DEFAULT_OPERATOR_NAME = 'operator';

export class AgentHub implements AgentDirectory {
  private readonly sockets = new Set<AgentClient>();
  private readonly restOperators = new Map<string, RestOperator>();

  constructor(private readonly bus: EventBus, readonly broker: TakeoverBroker) {}

  connect(client: AgentClient): void {
    this.sockets.add(client);
    this.bus.publish('agent.connected', '', { agent_count: this.sockets.size, agent: client.name, kind: client.kind, agent_id: client.id });
  }

  disconnect(client: AgentClient): void {
    if (!this.sockets.delete(client)) return;
    this.broker.clientGone(client);
    this.bus.publish('agent.disconnected', '', { agent_count: this.sockets.size, agent: client.name, kind: client.kind, agent_id: client.id });
  }

  rename(client: AgentClient, name: string, kind: AgentRole): void {
    client.name = name;
    client.kind = kind;
    this.broker.clientRenamed(client);
  }

  /**
   * The operator a REST request acts as: the connected console socket of that name when there is
   * one (so REST and WebSocket actions of one person are the same holder), else a REST-only operator.
   */
  operator(name = DEFAULT_OPERATOR_NAME): AgentClient {
    for (const c of this.sockets) if (c.kind === 'operator' && c.name === name && c.connected) return c;
    let op = this.restOperators.get(name);
    if (!op) {
      // forget REST operators that hold nothing, so arbitrary names cannot grow this map without bound
      if (this.restOperators.size >= 64) for (const [n, o] of this.restOperators) if (this.broker.heldBy(o).length === 0) this.restOperators.delete(n);
      op = new RestOperator(name);
      this.restOperators.set(name, op);
    }
    return op;
  }

  /** upstream `/api/status.agents`: every connected socket, plus REST operators holding a call */
  list(): { name: string; connected_at: number; takeover_sessions: string[]; kind: AgentRole; id: string; transport: 'ws' | 'rest' }[] {
    const out = [];
    for (const c of [...this.sockets, ...this.restOperators.values()]) {
      const held = this.broker.heldBy(c);
      if (c.transport === 'rest' && held.length === 0) continue;
      out.push({ name: c.name, connected_at: c.connectedAt, takeover_sessions: held, kind: c.kind, id: c.id, transport: c.transport });
    }
    return out;
  }
}
