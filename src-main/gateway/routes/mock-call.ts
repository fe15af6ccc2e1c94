/**
 * Mock calls through this computer's microphone and speakers (or a WAV replayed as the caller):
 *   POST /api/mock-call/start   {source, path?, input_device?, sink, output_device?, barge_in?, realtime?, greeting?, caller_number?}
 *   POST /api/mock-call/stop    {id?}  (mock id or session id; none = all)
 *   GET  /api/mock-call         {active, recent}
 *   GET  /api/mock-call/devices ALSA capture/playback device names where the OS lists them
 *   POST /api/mock-call/turn    a browser mock call's turn: the phone's multipart /api/turn form, run
 *                               as a mock session (history direction `mock`); the console's microphone
 *                               in the page is the caller
 * A browser mock call ends with /api/mock-call/stop {id: its session id}.
 * Auth is the gateway's global hook.
 */
import { isAbsolute, normalize } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { AUDIO_DEVICE_ID } from '../../../src-shared/config/sections/mock-call';
import { AudioDeviceError } from '../../mock-call/errors';
import { MockCallInputError, MockCallLimitError, type MockCallManager, type MockCallStartOptions } from '../../mock-call/manager';
import type { RunTurn } from '../../calls/types';
import { readTurnInput } from './phone';
import { parseBody } from './validate';

const device = z.string().max(128).regex(AUDIO_DEVICE_ID, 'invalid audio device name (letters, digits and _:,.=@- only)');

const startBody = z
  .strictObject({
    source: z.enum(['microphone', 'file']).default('microphone'),
    /** absolute path of a .wav file to replay as the caller (source 'file') */
    path: z.string().min(1).max(4096).optional(),
    input_device: device.optional(),
    sink: z.enum(['speaker', 'file', 'none']).default('speaker'),
    output_device: device.optional(),
    barge_in: z.boolean().optional(),
    /** pace the replayed file like a person talking (default: as fast as the pipeline answers) */
    realtime: z.boolean().optional(),
    greeting: z.enum(['incoming', 'outgoing']).optional(),
    caller_number: z.string().regex(/^\+?[0-9]{0,20}$/, 'digits with an optional leading +').optional(),
  })
  .superRefine((b, ctx) => {
    if (b.source === 'file') {
      if (!b.path) ctx.addIssue({ code: 'custom', path: ['path'], message: "required when source is 'file'" });
      else if (b.path.includes('\0') || !isAbsolute(b.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: 'must be an absolute path' });
      else if (!/\.wav$/i.test(b.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: 'must name a .wav file' });
    } else {
      if (b.path !== undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: "only for source 'file'" });
      if (b.realtime !== undefined) ctx.addIssue({ code: 'custom', path: ['realtime'], message: "only for source 'file'" });
    }
    if (b.sink !== 'speaker' && b.output_device !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['output_device'], message: "only for sink 'speaker'" });
    }
  });

const stopBody = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'a mock call id or session id').optional(),
});

function toOptions(b: z.infer<typeof startBody>): MockCallStartOptions {
  return {
    source:
      b.source === 'file'
        ? { kind: 'file', path: normalize(b.path!), realtime: b.realtime }
        : { kind: 'microphone', device: b.input_device },
    sink: b.sink === 'speaker' ? { kind: 'speaker', device: b.output_device } : { kind: b.sink },
    bargeIn: b.barge_in,
    greeting: b.greeting,
    callerNumber: b.caller_number,
  };
}

function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof AudioDeviceError) {
    const status = e.code === 'bad_audio_file' ? 400 : 503;
    return reply.code(status).send({ detail: e.message, error: e.code, hint: e.hint });
  }
  if (e instanceof MockCallLimitError) return reply.code(429).send({ detail: e.message, error: 'too_many_mock_calls' });
  if (e instanceof MockCallInputError) return reply.code(400).send({ detail: e.message, error: 'invalid_request' });
  return reply.code(500).send({ detail: `mock call failed: ${(e as Error).message}`, error: 'internal' });
}

/** What the browser mock-call routes need from the calls capability. */
export interface BrowserMockCalls {
  /** runs a turn as a mock session */
  runTurn: RunTurn;
  /** the source of a live session; undefined when there is none by that id */
  sourceOf: (sessionId: string) => string | undefined;
  /** ends a live mock session; false when there is none */
  end: (sessionId: string) => boolean;
}

export function registerMockCallRoutes(app: FastifyInstance, manager: MockCallManager, browser: BrowserMockCalls): void {
  app.post('/api/mock-call/start', async (req, reply) => {
    const body = parseBody(reply, startBody, req.body);
    if (!body) return reply;
    try {
      const mock = await manager.start(toOptions(body));
      return { ok: true, mock_call: mock };
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.post('/api/mock-call/stop', async (req, reply) => {
    const body = parseBody(reply, stopBody, req.body);
    if (!body) return reply;
    const stopped = await manager.stop(body.id);
    // a browser mock call: its session is the whole call
    if (body.id !== undefined && stopped.length === 0 && browser.sourceOf(body.id) === 'mock' && browser.end(body.id)) {
      return { ok: true, stopped, session_ended: body.id };
    }
    if (body.id !== undefined && stopped.length === 0) return reply.code(404).send({ detail: 'no such mock call' });
    return { ok: true, stopped };
  });

  app.post('/api/mock-call/turn', async (req, reply) => {
    const input = readTurnInput(req, reply);
    if (!input) return reply;
    const sid = input.sessionId?.trim();
    const source = sid ? browser.sourceOf(sid) : undefined;
    // a phone call (or an API session) cannot be continued as a mock call
    if (source !== undefined && source !== 'mock') return reply.code(409).send({ detail: `session ${sid} is not a mock call` });
    const r = await browser.runTurn(input);
    return reply.code(r.status).send(r.body);
  });

  app.get('/api/mock-call', async () => manager.list());

  app.get('/api/mock-call/devices', async () => manager.devices());
}
