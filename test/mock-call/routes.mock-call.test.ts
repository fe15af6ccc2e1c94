/** The mock-call HTTP API on a bare Fastify bound to 127.0.0.1:0, with a fake RunTurn. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerMockCallRoutes } from '../../src-main/gateway/routes/mock-call';
import { liveChildPids } from '../../src-main/mock-call/child-registry';
import { MockCallManager } from '../../src-main/mock-call/manager';
import type { MockCallSnapshot } from '../../src-main/mock-call/mock-call';
import { buildTrack, hasBinary, missingSpeechTools } from '../helpers/speech-fixtures';
import { alsaHome, fakeRunTurn, testConfig, type AlsaHome, type FakeTurn } from './helpers';

const missing = missingSpeechTools();

describe.skipIf(missing.length > 0)(`mock-call routes (skipped: missing Debian tools ${missing.join(', ')})`, () => {
  let dir: string;
  let wavPath: string;
  let app: FastifyInstance;
  let base: string;
  let manager: MockCallManager;
  let fake: FakeTurn;
  let endSession: ReturnType<typeof vi.fn<(sessionId: string, reason: 'mock_stopped') => void>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cf-mock-routes-'));
    const track = await buildTrack([{ pause: 300 }, { say: 'Hello, anyone home?' }, { pause: 900 }]);
    wavPath = join(dir, 'caller.wav');
    await writeFile(wavPath, track.wav);
    await writeFile(join(dir, 'junk.wav'), 'not audio at all');
    fake = fakeRunTurn({ hangOn: (_i, input) => input.callerNumber === '+4930999' && !input.resetSession });
    endSession = vi.fn<(sessionId: string, reason: 'mock_stopped') => void>();
    manager = new MockCallManager({ runTurn: fake.runTurn, getConfig: () => testConfig(), endSession, recordingsDir: join(dir, 'rec') });
    app = Fastify();
    registerMockCallRoutes(app, manager, { runTurn: fake.runTurn, sourceOf: () => undefined, end: () => false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await manager.shutdown();
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (path: string, body?: unknown) =>
    fetch(`${base}${path}`, body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function waitEnded(id: string): Promise<MockCallSnapshot> {
    const call = manager.get(id);
    if (call) return call.run();
    return manager.list().recent.find((s) => s.id === id)!;
  }

  it('starts a mock call replaying a WAV, lists it, and it runs through to the end', async () => {
    const res = await post('/api/mock-call/start', { source: 'file', path: wavPath, sink: 'none', caller_number: '+4930111' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; mock_call: MockCallSnapshot };
    expect(body.ok).toBe(true);
    expect(body.mock_call).toMatchObject({ source: { kind: 'file', live: false }, sink: { kind: 'none' }, barge_in: false });
    const final = await waitEnded(body.mock_call.id);
    expect(final.end_reason).toBe('source_ended');
    const list = (await (await fetch(`${base}/api/mock-call`)).json()) as { active: MockCallSnapshot[]; recent: MockCallSnapshot[] };
    expect(list.recent.map((s) => s.id)).toContain(body.mock_call.id);
    expect(fake.inputs.filter((i) => i.callerNumber === '+4930111')).toHaveLength(2);
  });

  it('stops a running mock call by id, mid-turn, and ends its session', async () => {
    const res = await post('/api/mock-call/start', { source: 'file', path: wavPath, sink: 'none', caller_number: '+4930999', barge_in: true, greeting: 'outgoing' });
    const { mock_call } = (await res.json()) as { mock_call: MockCallSnapshot };
    expect(mock_call.barge_in).toBe(true);
    await fake.utterancesArrived(fake.utterances.length + 1);
    const active = (await (await fetch(`${base}/api/mock-call`)).json()) as { active: MockCallSnapshot[] };
    expect(active.active.map((s) => s.id)).toContain(mock_call.id);
    const stop = await post('/api/mock-call/stop', { id: mock_call.id });
    expect(stop.status).toBe(200);
    const stopped = (await stop.json()) as { stopped: MockCallSnapshot[] };
    expect(stopped.stopped).toHaveLength(1);
    expect(stopped.stopped[0]).toMatchObject({ id: mock_call.id, state: 'ended', end_reason: 'stopped' });
    expect(endSession).toHaveBeenCalledWith('mock-session-1', 'mock_stopped');
    const after = (await (await fetch(`${base}/api/mock-call`)).json()) as { active: MockCallSnapshot[] };
    expect(after.active).toEqual([]);
  });

  it('stop without a body stops everything; an unknown id is a 404', async () => {
    const ok = await post('/api/mock-call/stop');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, stopped: [] });
    const missingCall = await post('/api/mock-call/stop', { id: 'no-such-call' });
    expect(missingCall.status).toBe(404);
    expect(await missingCall.json()).toEqual({ detail: 'no such mock call' });
  });

  const bad: [string, unknown, RegExp][] = [
    ['unknown source', { source: 'telepathy' }, /source/],
    ['file without a path', { source: 'file', sink: 'none' }, /path: required/],
    ['relative path', { source: 'file', path: 'caller.wav', sink: 'none' }, /path: must be an absolute path/],
    ['not a .wav', { source: 'file', path: '/etc/passwd', sink: 'none' }, /path: must name a \.wav file/],
    ['path with a microphone', { source: 'microphone', path: '/tmp/x.wav' }, /path: only for source 'file'/],
    ['device name with shell characters', { input_device: 'hw:0; rm -rf ~' }, /input_device: invalid audio device name/],
    ['device name starting with a dash', { output_device: '-D' }, /output_device: invalid audio device name/],
    ['output device for a file sink', { source: 'file', path: '/tmp/a.wav', sink: 'file', output_device: 'default' }, /output_device: only for sink 'speaker'/],
    ['unknown field', { source: 'file', path: '/tmp/a.wav', sink: 'none', volume: 11 }, /volume|unrecognized/i],
    ['bad caller number', { source: 'file', path: '/tmp/a.wav', sink: 'none', caller_number: '12; DROP' }, /caller_number/],
    ['barge_in not a boolean', { source: 'file', path: '/tmp/a.wav', sink: 'none', barge_in: 'yes' }, /barge_in/],
  ];
  it.each(bad)('rejects a start request with %s (400, nothing started)', async (_name, body, detail) => {
    const res = await post('/api/mock-call/start', body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
    const list = (await (await fetch(`${base}/api/mock-call`)).json()) as { active: unknown[] };
    expect(list.active).toEqual([]);
  });

  it('rejects a stop request with a malformed id', async () => {
    const res = await post('/api/mock-call/stop', { id: '../../etc' });
    expect(res.status).toBe(400);
  });

  it('a missing or unreadable WAV is a 400 naming the problem', async () => {
    const gone = await post('/api/mock-call/start', { source: 'file', path: join(dir, 'gone.wav'), sink: 'none' });
    expect(gone.status).toBe(400);
    expect(await gone.json()).toMatchObject({ error: 'bad_audio_file', detail: expect.stringMatching(/cannot read/) });
    const junk = await post('/api/mock-call/start', { source: 'file', path: join(dir, 'junk.wav'), sink: 'none' });
    expect(junk.status).toBe(400);
    expect(await junk.json()).toMatchObject({ error: 'bad_audio_file', detail: expect.stringMatching(/not a playable WAV/) });
  });

  describe.skipIf(!hasBinary('arecord'))('with no audio device at all (skipped: arecord missing)', () => {
    let home: AlsaHome;
    beforeAll(async () => {
      home = await alsaHome({ noDevice: true });
      home.activate();
    });
    afterAll(async () => {
      await home.cleanup();
    });

    it('microphone → 503 with the reason and what to do; the gateway keeps serving', async () => {
      const res = await post('/api/mock-call/start', { source: 'microphone', sink: 'none' });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { detail: string; error: string; hint: string };
      expect(body.error).toBe('no_microphone');
      expect(body.detail).toMatch(/could not record/);
      expect(body.hint.length).toBeGreaterThan(20);
      expect((await fetch(`${base}/api/mock-call`)).status).toBe(200);
      expect(liveChildPids()).toEqual([]);
    });

    it('speaker → 503 no_output_device; the gateway process survives the player aborting', async () => {
      const res = await post('/api/mock-call/start', { source: 'file', path: wavPath, sink: 'speaker' });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'no_output_device', detail: expect.stringMatching(/aborted/) });
      const again = await post('/api/mock-call/start', { source: 'file', path: wavPath, sink: 'none' });
      expect(again.status).toBe(200);
      const { mock_call } = (await again.json()) as { mock_call: MockCallSnapshot };
      expect((await waitEnded(mock_call.id)).end_reason).toBe('source_ended');
    });
  });

  it('lists devices (ALSA names where the OS tools exist)', async () => {
    const res = await fetch(`${base}/api/mock-call/devices`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { inputs: unknown[]; outputs: unknown[]; tool: string | null };
    expect(Array.isArray(body.inputs) && Array.isArray(body.outputs)).toBe(true);
    expect(body.tool).toBe(process.platform === 'linux' && hasBinary('arecord') ? 'alsa' : null);
  });
});
