/** What the agent interface needs from the rest of the gateway, and its command result shape. */
import type { Logger } from 'pino';
import type { AppConfig } from '../../src-shared/config/schema';
import type { RefusalReason } from '../../src-shared/protocol/agent';
import type { CallManager } from '../calls/manager';
import type { EventBus } from '../events/bus';

export interface AgentDeps {
  calls: CallManager;
  bus: EventBus;
  config: () => AppConfig;
  /** text → the canonical WAV the phone plays */
  speak: (text: string) => Promise<{ wav: Uint8Array; ttsMs: number }>;
  /** the local model's label, for `local:<model>` producers */
  llmLabel: () => string;
  logger?: Logger;
}

export type Refusal = { ok: false; reason: RefusalReason; detail: string };
export type CmdResult<T extends object = object> = ({ ok: true } & T) | Refusal;

export function refuse(reason: RefusalReason, detail: string): Refusal {
  return { ok: false, reason, detail };
}

/** HTTP status of a refusal on our own REST routes (upstream routes keep their own codes). */
export function refusalStatus(reason: RefusalReason): number {
  switch (reason) {
    case 'invalid':
      return 400;
    case 'unknown_session':
    case 'unknown_request':
    case 'no_active_session':
      return 404;
    case 'tts_failed':
    case 'phone_failed':
      return 502;
    case 'busy':
      return 429;
    default:
      return 409;
  }
}
