/**
 * The agent interface capability (issue 3): `WS /api/agent/ws`, the call-control / agent / operator
 * REST routes, and the takeover broker the turn pipeline asks before the local model answers.
 * Wired in src-main/app.ts: `ext.broker`, `ext.agents`, `ext.routes`, `ext.onStop`.
 */
import type { RouteModule } from '../gateway/server';
import type { GatewayContext } from '../gateway/context';
import { registerAgentRoutes } from '../gateway/routes/agent';
import { registerAgentSocket } from '../gateway/ws/agent';
import { createAgentRuntime, type AgentRuntime } from './runtime';

export interface AgentInterface extends AgentRuntime {
  routes: RouteModule[];
  stop(): void;
}

export function createAgentInterface(ctx: GatewayContext): AgentInterface {
  const rt = createAgentRuntime(ctx);
  return {
    ...rt,
    routes: [(app, c) => registerAgentRoutes(app, c, rt), (app, c) => registerAgentSocket(app, c, rt)],
    stop: () => {
      rt.hub.stop();
      rt.broker.stop();
    },
  };
}
