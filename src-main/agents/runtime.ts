/** The agent interface's parts, built once per app: the hub of clients, the takeover broker, the commands. */
import { takeoverTimeoutWarning } from '../../src-shared/protocol/agent';
import type { EventBus } from '../events/bus';
import type { GatewayContext } from '../gateway/context';
import { watchOperatorSockets } from '../gateway/ws/events';
import { AgentCommands } from './commands';
import { AgentHub } from './hub';
import { TakeoverBroker } from './takeover';

export interface AgentRuntime {
  bus: EventBus;
  hub: AgentHub;
  broker: TakeoverBroker;
  commands: AgentCommands;
}

export function createAgentRuntime(ctx: GatewayContext): AgentRuntime {
  const deps = {
    calls: ctx.calls,
    bus: ctx.bus,
    config: () => ctx.config.get(),
    logger: ctx.logger,
    speak: (text: string) => ctx.pipeline.speech.speak(text),
    llmLabel: () => ctx.engines.current().llm.label(),
    // read at call time: the phone bridge may be wired after this capability
    phone: { dial: (n: string, o?: { serial?: string }) => ctx.phone.dial(n, o), hangup: (o?: { serial?: string }) => ctx.phone.hangup(o) },
    updateConfig: (patch: Record<string, unknown>) => ctx.config.update(patch),
  };
  const broker = new TakeoverBroker(deps);
  const hub = new AgentHub(ctx.bus, broker);
  const commands = new AgentCommands(deps, broker);
  ctx.calls.onEnded((s) => broker.sessionEnded(s));
  // upstream configs carry agent_takeover_timeout 60: more than the phone waits for a turn
  const warnTimeout = (seconds: number) => {
    const w = takeoverTimeoutWarning(seconds);
    if (w) ctx.logger.warn({ agent_takeover_timeout: seconds }, w);
  };
  warnTimeout(ctx.config.get().agent_takeover_timeout);
  ctx.config.onChange((c, changed) => {
    if (changed.includes('agent_takeover_timeout')) warnTimeout(c.agent_takeover_timeout);
  });
  // the console names its operator on /ws/events: that operator's takeovers end when the console goes away
  watchOperatorSockets(ctx, (name) => hub.consoleAttached(name));
  return { bus: ctx.bus, hub, broker, commands };
}
