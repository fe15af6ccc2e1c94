/**
 * The agent WebSocket `/api/agent/ws` and the operator REST routes: zod schemas of every inbound
 * frame and the types of every outbound one. Wire-compatible with the upstream gateway (spec §7):
 * same command and ack names, flat acks and `turn.request`, replies correlated by `request_id` +
 * `reply` without a `type`, `ping` → `pong`. Our additions: optional `id` echoed in acks, agent
 * names, operator modes (draft, typing, steer), `reason` codes on refusals.
 *
 * Pure: no Node, no DOM — the console imports it too.
 */
import { z } from 'zod';

// ---------------------------------------------------------------- shared pieces

/** A client-chosen correlation id, echoed in the ack (ours; upstream clients send none). */
export const FrameId = z.union([z.string().max(128), z.number().finite()]);
export type FrameId = z.infer<typeof FrameId>;

/** Agent / operator display names: letters, digits, space and `._@-`, 1–64 characters. */
export const AGENT_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._@-]{0,63}$/u;
export const AgentName = z.string().trim().regex(AGENT_NAME, 'a name of 1-64 letters, digits, spaces or ._@-');

export const AgentRole = z.enum(['agent', 'operator']);
export type AgentRole = z.infer<typeof AgentRole>;

/** How a holder answers: types every reply (`takeover`) or approves the local model's proposals (`draft`). */
export const HoldMode = z.enum(['takeover', 'draft']);
export type HoldMode = z.infer<typeof HoldMode>;

const sid = z.string().trim().min(1, 'session_id required').max(128);
/** Optional session id; `""` (what the OpenClaw plugin sends for "none") counts as absent. */
const optSid = z.string().trim().max(128).optional();
const text = (max: number) => z.string().max(max);

export const MAX_REPLY_CHARS = 10_000;
export const MAX_CONTEXT_CHARS = 20_000;

/** Steering without taking over: a one-shot turn instruction, the call's instruction, or its knowledge. */
export const SteerScope = z.enum(['turn', 'session', 'knowledge']);
export type SteerScope = z.infer<typeof SteerScope>;

/** An adb serial: `R58M12ABC`, `emulator-5554`, `192.168.1.5:5555`. */
export const DeviceSerial = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'a device serial (letters, digits, ".", "_", ":" or "-")');
export const MAX_GREETING_CHARS = 2_000;

/** Dial options (ours; upstream dials take only `number`): the phone, and a greeting and instructions for this call. */
export const dialOptions = {
  device: DeviceSerial.optional(),
  greeting: text(MAX_GREETING_CHARS).optional(),
  instructions: text(MAX_CONTEXT_CHARS).optional(),
};

// ---------------------------------------------------------------- inbound frames (client → gateway)

const frame = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), id: FrameId.optional(), ...shape }).loose();

export const inboundFrames = {
  // upstream commands (spec §7.2)
  takeover: frame('takeover', { session_id: sid, mode: HoldMode.optional() }),
  release: frame('release', { session_id: sid }),
  inject: frame('inject', { text: text(MAX_REPLY_CHARS), session_id: optSid }),
  set_instructions: frame('set_instructions', { instructions: text(MAX_CONTEXT_CHARS), session_id: optSid, scope: z.string().max(32).optional() }),
  set_call_config: frame('set_call_config', { config: z.record(z.string(), z.unknown()) }),
  /** a numeric number is taken as its decimal string, as on REST */
  dial: frame('dial', { number: z.union([z.string().max(64), z.number().finite()]).transform(String), ...dialOptions }),
  /** `force` (ours): end the call even when the phone bridge could not hang up (the phone then hangs up on its next turn) */
  hangup: frame('hangup', { session_id: optSid, force: z.boolean().optional() }),
  get_call_state: frame('get_call_state', { session_id: sid }),
  inject_context: frame('inject_context', { session_id: z.string().max(128), context: text(MAX_CONTEXT_CHARS) }),
  clear_context: frame('clear_context', { session_id: z.string().max(128) }),
  end_session: frame('end_session', { session_id: optSid }),
  ping: frame('ping', {}),
  // ours
  hello: frame('hello', { name: AgentName, role: AgentRole.optional() }),
  draft: frame('draft', { session_id: sid }),
  /** the operator's "say now": queued speech credited to the sender (default call: the most recently active) */
  say: frame('say', { text: text(MAX_REPLY_CHARS), session_id: optSid }),
  steer: frame('steer', { session_id: sid, text: text(MAX_CONTEXT_CHARS), scope: SteerScope.default('turn'), append: z.boolean().optional() }),
  typing: frame('typing', { session_id: sid, typing: z.boolean().default(true) }),
  /** a reply by session (the upstream form `{request_id, reply}` is handled before any type) */
  reply: frame('reply', { session_id: sid, reply: text(MAX_REPLY_CHARS), request_id: z.union([z.string().max(128), z.number()]).optional() }),
  approve_draft: z
    .object({
      type: z.literal('approve_draft'), id: FrameId.optional(),
      request_id: z.string().max(128).optional(), session_id: optSid,
      /** the edited reply; absent = speak the draft as proposed */
      text: text(MAX_REPLY_CHARS).optional(),
    })
    .loose()
    .refine((f) => !!f.request_id || !!f.session_id, { message: 'request_id or session_id required', path: ['request_id'] }),
} as const;

export type InboundType = keyof typeof inboundFrames;
export type InboundFrame<T extends InboundType = InboundType> = z.infer<(typeof inboundFrames)[T]>;
export const INBOUND_TYPES = Object.keys(inboundFrames) as InboundType[];

export function isInboundType(t: unknown): t is InboundType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(inboundFrames, t);
}

/**
 * A takeover reply, recognised before anything else (spec §7.2): a truthy `request_id` and a `reply`
 * key, whatever the `type`. The reply must be a string; an empty one hands the turn to the local model.
 */
export const ReplyFrame = z
  .object({
    request_id: z.union([z.string().min(1).max(128), z.number()]).transform(String),
    reply: z.string({ error: 'reply must be a string' }).max(MAX_REPLY_CHARS),
    id: FrameId.optional(),
  })
  .loose();
export type ReplyFrame = z.infer<typeof ReplyFrame>;

export function looksLikeReply(msg: Record<string, unknown>): boolean {
  return !!msg.request_id && 'reply' in msg;
}

// ---------------------------------------------------------------- the phone's time budget

/**
 * A takeover turn must be answered within the phone's read timeout (phone spec: 45 s, no retries):
 * the holder's deadline is min(agent_takeover_timeout, 45 s − time already spent on the turn − the
 * fallback margin), leaving the margin for the local model and speech synthesis when nobody answers.
 */
export const PHONE_READ_TIMEOUT_MS = 45_000;
export const FALLBACK_MARGIN_MS = 5_000;
/** Takeover timeouts above this can never be waited for in full. */
export const MAX_USEFUL_TAKEOVER_TIMEOUT_S = (PHONE_READ_TIMEOUT_MS - FALLBACK_MARGIN_MS) / 1000;

/** The warning for an `agent_takeover_timeout` the phone cannot wait for, or null. */
export function takeoverTimeoutWarning(seconds: number): string | null {
  if (!(seconds > MAX_USEFUL_TAKEOVER_TIMEOUT_S)) return null;
  return `agent_takeover_timeout is ${seconds} s but the phone gives up on a turn after ${PHONE_READ_TIMEOUT_MS / 1000} s: ` +
    `a holder's deadline is capped at ${MAX_USEFUL_TAKEOVER_TIMEOUT_S} s minus the time the turn already took (speech recognition); ` +
    `set it to ${MAX_USEFUL_TAKEOVER_TIMEOUT_S} or less`;
}

// ---------------------------------------------------------------- outbound direct frames (gateway → client)

export interface HolderInfo {
  kind: AgentRole;
  name: string;
  mode: HoldMode;
}

/** Machine-readable refusal reasons (ours; upstream acks had only `ok`). */
export type RefusalReason =
  | 'unknown_session' | 'session_ended' | 'no_active_session' | 'not_taken_over' | 'not_holder'
  | 'unknown_request' | 'not_pending' | 'no_draft' | 'invalid' | 'phone_failed' | 'tts_failed' | 'busy';

/** Sent only to the holder (flat, not enveloped), exactly upstream's shape plus `mode` and `deadline_ms`. */
export interface TurnRequestFrame {
  type: 'turn.request';
  session_id: string;
  transcript: string;
  request_id: string;
  mode: HoldMode;
  /** how long the gateway waits before the holding phrase / local fallback */
  deadline_ms: number;
}

export interface TurnDraftFrame {
  type: 'turn.draft';
  session_id: string;
  request_id: string;
  transcript: string;
  /** '' when the local model failed to propose anything (`error` says why) */
  draft: string;
  error?: string;
}

/** The deadline passed with nobody typing: the local model (or the unapproved draft) answered. */
export interface TurnTimeoutFrame {
  type: 'turn.timeout';
  session_id: string;
  request_id: string;
  fallback: 'local' | 'draft';
  detail: string;
}

/** The deadline passed while the holder was typing: the phone got the holding phrase; a reply is queued. */
export interface TurnHoldingFrame {
  type: 'turn.holding';
  session_id: string;
  request_id: string;
  text: string;
}

/** A session reset (the phone's greeting turn on the same id) ends the previous call: its requests are cancelled with `ended`. */
export type CancelReason = 'ended' | 'disconnected' | 'released' | 'caller_gone' | 'taken_over';

/** A request that can no longer be answered (the call ended, the holder released or lost it…). */
export interface TurnCancelledFrame {
  type: 'turn.cancelled';
  session_id: string;
  request_id: string;
  reason: CancelReason;
}

/** To the previous holder when another client takes the call over, or when the call ends. */
export interface TakeoverLostFrame {
  type: 'takeover.lost';
  session_id: string;
  reason: 'taken_over' | 'ended';
  by: { kind: AgentRole; name: string } | null;
}

export interface ReplyAckFrame {
  type: 'reply.ack';
  ok: boolean;
  request_id: string;
  /** spoken: answers the waiting phone turn; queued: spoken on the next poll; local: the local model answers; none: nothing to say */
  delivery?: 'spoken' | 'queued' | 'local' | 'none';
  reason?: RefusalReason;
  detail?: string;
  id?: FrameId;
}

export interface ErrorFrame {
  type: 'error';
  detail: string;
  /** the offending frame's type, or null when it had none */
  for: string | null;
  id?: FrameId;
}

export interface CallStateFrame {
  type: 'call_state';
  session_id: string;
  status: 'active' | 'ended' | 'unknown';
  ended_at: number | null;
  history: { role: string; content: string }[];
  turn_count: number;
  instructions: { base: string; session: string; pending_turn: string };
  agent_takeover: boolean;
  holder: HolderInfo | null;
  id?: FrameId;
}

/** Every `<command>.ack`: `{type, ok, …}` plus the request's `id` when it sent one. */
export interface AckFrame {
  type: `${string}.ack`;
  ok: boolean;
  id?: FrameId;
  [k: string]: unknown;
}

export type OutboundFrame =
  | TurnRequestFrame | TurnDraftFrame | TurnTimeoutFrame | TurnHoldingFrame | TurnCancelledFrame | TakeoverLostFrame
  | ReplyAckFrame | ErrorFrame | CallStateFrame | AckFrame | { type: 'pong'; id?: FrameId };

/** Bus events this capability publishes besides upstream's `agent.*` (same envelope, spec §6.1). */
export const AGENT_BUS_EVENTS = [
  'turn.awaiting_reply', // {session_id, request_id, transcript, holder, deadline_ms}
  'turn.draft', // {session_id, request_id, transcript, draft, holder}
  'turn.timeout', // {session_id, request_id, holder, fallback}
  'turn.holding', // {session_id, request_id, holder, text}
  'turn.cancelled', // {session_id, request_id, reason}
  'operator.typing', // {session_id, agent, kind, typing}
] as const;

// ---------------------------------------------------------------- operator REST bodies (/api/operator/*)

const operatorName = { operator: AgentName.optional() };

export const operatorBodies = {
  takeover: z.object({ session_id: sid, mode: HoldMode.default('takeover'), ...operatorName }).loose(),
  draft: z.object({ session_id: sid, ...operatorName }).loose(),
  release: z.object({ session_id: sid, ...operatorName }).loose(),
  steer: z.object({ session_id: sid, text: text(MAX_CONTEXT_CHARS), scope: SteerScope.default('turn'), append: z.boolean().optional(), ...operatorName }).loose(),
  say: z.object({ text: text(MAX_REPLY_CHARS), session_id: optSid, ...operatorName }).loose(),
  typing: z.object({ session_id: sid, typing: z.boolean().default(true), ...operatorName }).loose(),
  reply: z.object({ session_id: sid, text: text(MAX_REPLY_CHARS), request_id: z.string().max(128).optional(), ...operatorName }).loose(),
  approve: z
    .object({ request_id: z.string().max(128).optional(), session_id: optSid, text: text(MAX_REPLY_CHARS).optional(), ...operatorName })
    .loose()
    .refine((f) => !!f.request_id || !!f.session_id, { message: 'request_id or session_id required', path: ['request_id'] }),
  hangup: z.object({ session_id: optSid, ...operatorName }).loose(),
} as const;

/** Describe zod issues as one line naming the fields. */
export function describeFrameIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'frame'}: ${i.message}`).join('; ');
}
