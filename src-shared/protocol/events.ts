/**
 * Bus event envelope and names. The envelope and the upstream names are wire-compatible with the
 * Python gateway (spec §6): existing agents parse them. Our additions use the same envelope.
 */
export interface EventEnvelope<D = Record<string, unknown>> {
  type: string;
  /** float seconds since the epoch */
  timestamp: number;
  /** '' for events without a session */
  session_id: string;
  data: D;
  /** monotonically increasing per gateway process; lets clients spot gaps and duplicates (ours) */
  seq?: number;
}

/** Upstream event names (spec §6.3). */
export const UPSTREAM_EVENTS = [
  'turn.started', 'turn.transcript', 'turn.reply', 'turn.complete', 'turn.error', 'turn.stale',
  'turn.caller_rejected', 'turn.authenticated', 'turn.auth_failed', 'session.ended',
  'agent.connected', 'agent.disconnected', 'agent.takeover', 'agent.release', 'agent.inject',
  'agent.context_injected', 'agent.context_cleared', 'instructions.updated',
  'config.tts_updated', 'config.llm_updated', 'config.call_updated', 'call.dial', 'call.hangup', 'status.update',
] as const;

/** Events we add (same envelope). */
export const OWN_EVENTS = [
  'session.started', // a call/session began (data: call summary)
  'session.updated', // state/holder/caller info changed (data: call summary)
  'turn.no_speech', // empty transcript: the phone listens again silently
  'turn.metrics', // per-turn latency figures (transcriptionDelayMs, llmTtftMs, ttsTtfbMs, e2eLatencyMs)
  'turn.timeout', 'turn.holding', 'takeover.lost',
  'turn.interrupted', // barge-in: the caller spoke over a reply and heard only its start (data: session_id, reply, heard_text, played_ms, total_ms)
  'device.added', 'device.removed', 'device.changed', 'device.check', 'device.alert',
  'model.download', 'mock.level', 'mock.state', 'operator.typing', 'turn.draft',
  'config.engines_updated', 'config.network_updated', 'config.mock_call_updated',
] as const;

export type EventType = (typeof UPSTREAM_EVENTS)[number] | (typeof OWN_EVENTS)[number];
