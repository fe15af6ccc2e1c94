/** Small helpers shared by the gateway tests in this folder (requests the phone does not make itself). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { phoneWavProblem } from '../../src-shared/audio/wav';
import type { EventEnvelope } from '../../src-shared/protocol/events';
import type { TestGateway } from '../helpers/gateway';
import { phoneMultipart, rawRequest } from '../helpers/phone-sim';

export interface JsonReply {
  status: number;
  json: Record<string, unknown>;
  text: string;
}

/** POST /api/turn (or another form route) with the phone's multipart layout and arbitrary fields. */
export async function postForm(
  gw: TestGateway,
  fields: [string, string][],
  audio: Uint8Array | null,
  opts: { path?: string; bearer?: string | null; headers?: Record<string, string> } = {},
): Promise<JsonReply> {
  const boundary = `----PhoneBridge${Date.now()}`;
  let body = phoneMultipart(boundary, fields, audio ?? new Uint8Array(0));
  if (audio === null) {
    // drop the audio part: keep everything up to it, then close
    const cut = body.indexOf(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="audio"`));
    body = Buffer.concat([body.subarray(0, cut), Buffer.from(`--${boundary}--\r\n`)]);
  }
  const bearer = opts.bearer === undefined ? gw.bearer : opts.bearer;
  const r = await rawRequest(gw.url, {
    method: 'POST',
    path: opts.path ?? '/api/turn',
    body,
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}), ...opts.headers },
  });
  return parsed(r.status, r.body);
}

function parsed(status: number, body: Buffer): JsonReply {
  const text = body.toString('utf8');
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { status, json, text };
}

/** A JSON (or raw) request with fetch. `body` objects are JSON-encoded; strings are sent as they are. */
export async function call(gw: TestGateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonReply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const r = await fetch(gw.url + path, init);
  return parsed(r.status, Buffer.from(await r.arrayBuffer()));
}

/** Phone-route request with the bearer. */
export function phoneCall(gw: TestGateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonReply> {
  return call(gw, method, path, body, { Authorization: `Bearer ${gw.bearer}`, ...headers });
}

/** The decoded reply WAV, checked the way the phone checks it. */
export function replyWav(json: Record<string, unknown>, key = 'audio_base64'): Uint8Array {
  const b64 = json[key];
  if (typeof b64 !== 'string' || !b64) throw new Error(`no ${key} in ${JSON.stringify(Object.keys(json))}`);
  const wav = new Uint8Array(Buffer.from(b64, 'base64'));
  const problem = phoneWavProblem(wav);
  if (problem) throw new Error(`invalid WAV: ${problem}`);
  return wav;
}

/** The `turn.*` event types of one session, in order (turn.metrics is our addition and left out). */
export function turnTypes(events: EventEnvelope[], sid: string): string[] {
  return events.filter((e) => e.session_id === sid && e.type.startsWith('turn.') && e.type !== 'turn.metrics').map((e) => e.type);
}

/** The gateway's config.json as saved, as text. */
export function savedConfigText(gw: TestGateway): string {
  return readFileSync(join(gw.dataDir, 'config.json'), 'utf8');
}

/** The gateway's config.json as saved. */
export function savedConfig(gw: TestGateway): Record<string, unknown> {
  return JSON.parse(savedConfigText(gw)) as Record<string, unknown>;
}

/** The keys a refused settings patch names (`errors: [{key, message}]`). */
export function errorKeys(r: { json: Record<string, unknown> }): string[] {
  return ((r.json.errors ?? []) as { key: string }[]).map((e) => e.key);
}
