/**
 * The seam between the turn pipeline and whoever other than the local model may answer a turn: an
 * external agent over the agent WebSocket, or a person in the console (takeover and draft modes).
 * The agent-interface capability implements it; without it, the local model always answers.
 */
import type { Session } from './session';

export type BrokerReply =
  | { kind: 'reply'; text: string; producer: string }
  /** the holder is still typing: speak the holding phrase now, their reply is queued as an inject */
  | { kind: 'holding'; text: string }
  /** nobody answered in time (or the holder went away): the local model answers this turn */
  | { kind: 'fallback'; reason: 'timeout' | 'disconnected' | 'released' | 'ended' | 'rejected' };

export interface ReplyRequest {
  session: Session;
  transcript: string;
  turnIndex: number;
  /** aborted when the phone goes away or the call ends */
  signal: AbortSignal;
  /** performance.now() when the phone's request began: the takeover deadline budgets the phone's read timeout from it */
  turnStartedAt?: number;
  /** the local model's proposal, for draft mode (called at most once) */
  draft: () => Promise<string>;
}

export interface ReplyBroker {
  /** null when nobody holds the call: the local model answers */
  requestReply(req: ReplyRequest): Promise<BrokerReply> | null;
}

export const noBroker: ReplyBroker = { requestReply: () => null };
