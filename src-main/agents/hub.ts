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
/**
 * How long a console operator keeps its takeovers after its last `/ws/events?operator=` socket
 * closed, so that a reconnect (network blip, page reload) does not drop the call.
 */
export const CONSOLE_GRACE = { ms: 5000 };

export class AgentHub implements AgentDirectory {
  private readonly sockets = new Set<AgentClient>();
  private readonly restOperators = new Map<string, RestOperator>();
  /** operator name → open `/ws/events?operator=<name>` sockets */
  private readonly consoles = new Map<string, number>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** operator names a console has named (bounded): such an operator's takeovers need an open console */
  private readonly consoleNames = new Set<string>();

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

  /** A console's events socket naming `name` opened; the returned function is its close. */
  consoleAttached(name: string): () => void {
    this.consoles.set(name, (this.consoles.get(name) ?? 0) + 1);
    this.clearGrace(name);
    this.consoleNames.delete(name);
    this.consoleNames.add(name);
    if (this.consoleNames.size > 256) this.consoleNames.delete(this.consoleNames.values().next().value as string);
    const op = this.restOperators.get(name);
    if (op) op.console = true;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.consoles.get(name) ?? 1) - 1;
      if (n > 0) return void this.consoles.set(name, n);
      this.consoles.delete(name);
      this.scheduleGrace(name);
    };
  }

  /** After the grace, a console operator without an open events socket loses its calls (reason `disconnected`). */
  private scheduleGrace(name: string): void {
    this.clearGrace(name);
    const t = setTimeout(() => {
      this.graceTimers.delete(name);
      if (this.consoles.has(name)) return;
      const op = this.restOperators.get(name);
      if (op?.console) this.broker.clientGone(op);
    }, CONSOLE_GRACE.ms);
    t.unref?.();
    this.graceTimers.set(name, t);
  }

  private clearGrace(name: string): void {
    const t = this.graceTimers.get(name);
    if (t) clearTimeout(t);
    this.graceTimers.delete(name);
  }

  stop(): void {
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
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
    if (this.consoleNames.has(name)) op.console = true;
    // a console operator acting while its events socket is away (reconnecting): the grace applies to this action too
    if (op.console && !this.consoles.has(name) && !this.graceTimers.has(name)) this.scheduleGrace(name);
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
