/** Operator name rule (same as the agent protocol's AGENT_NAME). */
export { AGENT_NAME as AgentName } from '../../src-shared/protocol/agent';
