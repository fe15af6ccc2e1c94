/**
 * Phone (ADB device) routes for the console and agents:
 *
 *   GET  /api/devices                          adb status + every phone (summary)
 *   GET  /api/devices/:serial                  one phone: facts, health checks, upkeep log, call
 *   POST /api/devices/:serial/actions/:action  a setup/fix/call action (body per action, zod-validated)
 *   GET  /api/devices/:serial/diagnostics      the diagnostics bundle as a JSON download (numbers masked)
 *   GET  /api/devices/:serial/logcat           the app's log as Server-Sent Events (see below)
 *
 * Logcat stream: `text/event-stream`; query `tags` (comma list), `level` (V|D|I|W|E|F, minimum),
 * `q` (case-insensitive substring of the message), `backlog` (0–500 recent lines first, default 100), `raw=1` to show
 * phone numbers unmasked. Events: `line` with data `{seq,time,level,tag,message}`; `end` with
 * `{detail}` when the phone goes away; a `: ping` comment every 15 s.
 *
 * Errors are `{detail}` in plain words. No auth here: the gateway's global hook guards these routes.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { AdbPhoneBridge } from '../../phone/bridge';
import { LOG_LEVELS, type LogLine } from '../../phone/logcat';
import { maskText } from '../../phone/mask';
import { ACTION_IDS, type ActionId } from '../../phone/types';
import { describeIssues } from './validate';

export type DeviceRoutesBridge = Pick<AdbPhoneBridge, 'status' | 'getDevice' | 'runAction' | 'subscribeLogcat' | 'recentLogcat' | 'diagnostics' | 'on' | 'off'>;

const serialParam = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'not a device serial');
const deviceParams = z.object({ serial: serialParam });
const actionParams = z.object({ serial: serialParam, action: z.string().max(40) });

const empty = z.object({}).strict();
const ACTION_BODIES: Record<ActionId, z.ZodTypeAny> = {
  recheck: empty,
  create_reverse: empty,
  install_apk: z.object({ apk_path: z.string().min(1).max(4096), allow_downgrade: z.boolean().optional() }).strict(),
  grant_permissions: empty,
  set_dialer_role: empty,
  battery_unrestricted: empty,
  launch_app: empty,
  push_profile: z.object({ profile: z.record(z.string(), z.unknown()).optional() }).strict(),
  verify_profile: empty,
  start_rootd: empty,
  remove_test_audio: empty,
  disable_ota: empty,
  diagnostics: empty,
  dial: z.object({ number: z.string().min(1).max(64) }).strict(),
  hangup: empty,
  answer: empty,
  reject: empty,
  mute: z.object({ muted: z.boolean() }).strict(),
  speaker: z.object({ enabled: z.boolean() }).strict(),
};

const tagName = /^[A-Za-z0-9_.-]{1,64}$/;
const logcatQuery = z.object({
  tags: z
    .string()
    .max(1000)
    .optional()
    .transform((s) => (s ? s.split(',').map((t) => t.trim()).filter(Boolean) : []))
    .refine((tags) => tags.every((t) => tagName.test(t)), 'tags must be a comma list of log tag names'),
  level: z.enum(LOG_LEVELS).optional(),
  q: z.string().max(200).optional(),
  backlog: z.coerce.number().int().min(0).max(500).default(100),
  raw: z.enum(['0', '1', 'true', 'false']).optional(),
});

function notConnected(reply: FastifyReply, serial: string) {
  return reply.code(404).send({ detail: `No phone with serial ${serial} is connected.` });
}

function bodyOf(raw: unknown): unknown {
  if (raw === undefined || raw === null || raw === '') return {};
  if (Buffer.isBuffer(raw)) {
    if (!raw.length) return {};
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      return Symbol('invalid');
    }
  }
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw);
    } catch {
      return Symbol('invalid');
    }
  }
  return raw;
}

export function registerDeviceRoutes(app: FastifyInstance, bridge: DeviceRoutesBridge): void {
  app.get('/api/devices', async () => bridge.status());

  app.get('/api/devices/:serial', async (req, reply) => {
    const p = deviceParams.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ detail: `invalid request: ${describeIssues(p.error)}` });
    const d = bridge.getDevice(p.data.serial);
    return d ?? notConnected(reply, p.data.serial);
  });

  // a body that does not parse must still answer {detail} (this route's own error handler)
  const bodyError = (err: Error & { statusCode?: number }, _req: unknown, reply: FastifyReply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    reply.code(status).send({ detail: status === 400 ? `invalid request: the body is not valid JSON (${err.message})` : err.message });
  };

  app.post('/api/devices/:serial/actions/:action', { errorHandler: bodyError }, async (req, reply) => {
    const p = actionParams.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ detail: `invalid request: ${describeIssues(p.error)}` });
    const action = p.data.action as ActionId;
    if (!(ACTION_IDS as readonly string[]).includes(action)) {
      return reply.code(404).send({ detail: `Unknown action "${p.data.action}". Actions: ${ACTION_IDS.join(', ')}.` });
    }
    const raw = bodyOf(req.body);
    if (typeof raw === 'symbol') return reply.code(400).send({ detail: 'invalid request: the body is not valid JSON' });
    const body = ACTION_BODIES[action].safeParse(raw);
    if (!body.success) return reply.code(400).send({ detail: `invalid request: ${describeIssues(body.error)}` });
    if (!bridge.getDevice(p.data.serial)) return notConnected(reply, p.data.serial);
    try {
      return await bridge.runAction(p.data.serial, action, body.data as Record<string, unknown>);
    } catch (e) {
      return reply.code(500).send({ detail: `The action failed unexpectedly: ${(e as Error).message}` });
    }
  });

  app.get('/api/devices/:serial/diagnostics', async (req, reply) => {
    const p = deviceParams.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ detail: `invalid request: ${describeIssues(p.error)}` });
    if (!bridge.getDevice(p.data.serial)) return notConnected(reply, p.data.serial);
    try {
      const bundle = await bridge.diagnostics(p.data.serial);
      return reply.header('content-disposition', `attachment; filename="clawfinger-diagnostics-${p.data.serial.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`).send(bundle);
    } catch (e) {
      return reply.code(500).send({ detail: `Could not build the diagnostics bundle: ${(e as Error).message}` });
    }
  });

  app.get('/api/devices/:serial/logcat', async (req, reply) => {
    const p = deviceParams.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ detail: `invalid request: ${describeIssues(p.error)}` });
    const q = logcatQuery.safeParse(req.query ?? {});
    if (!q.success) return reply.code(400).send({ detail: `invalid request: ${describeIssues(q.error)}` });
    const serial = p.data.serial;
    const device = bridge.getDevice(serial);
    if (!device) return notConnected(reply, serial);
    if (device.state !== 'device') return reply.code(409).send({ detail: `The phone ${serial} cannot stream its log: ${device.stateDetail}` });
    const filter = { tags: q.data.tags, minLevel: q.data.level, text: q.data.q };
    const unmasked = q.data.raw === '1' || q.data.raw === 'true';
    const toJson = (l: LogLine) => JSON.stringify({ seq: l.seq, time: l.time, level: l.level, tag: l.tag, message: unmasked ? l.message : maskText(l.message) });

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': logcat\n\n');
    for (const l of bridge.recentLogcat(serial, filter, q.data.backlog) ?? []) res.write(`event: line\ndata: ${toJson(l)}\n\n`);
    let closed = false;
    const cleanup = () => {
      if (closed) return;
      closed = true;
      unsubscribe?.();
      clearInterval(ping);
      bridge.off('deviceRemoved', onRemoved);
      // end the response so the connection does not linger half-open (server close would wait for it)
      if (!res.writableEnded) res.end();
    };
    const onRemoved = (e: { serial: string }) => {
      if (e.serial !== serial) return;
      res.write(`event: end\ndata: ${JSON.stringify({ detail: 'The phone was disconnected.' })}\n\n`);
      cleanup();
    };
    const unsubscribe = bridge.subscribeLogcat(serial, filter, (l) => {
      if (!closed) res.write(`event: line\ndata: ${toJson(l)}\n\n`);
    });
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    bridge.on('deviceRemoved', onRemoved);
    res.once('close', cleanup);
    req.raw.socket.once('close', cleanup);
    if (!unsubscribe) onRemoved({ serial });
  });
}
