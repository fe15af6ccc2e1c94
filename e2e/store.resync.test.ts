/**
 * The console's stores against a real gateway, in Node (no browser): the event stream builds the live
 * state; after a dropped connection the console resyncs from REST (calls that ended or started while
 * it was away, a caller waiting for the operator); and a stream delivered out of order and with
 * duplicates ends in exactly the state of the ordered stream.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GatewayApi } from '../src-renderer/api/gateway';
import { ApiClient } from '../src-renderer/api/http';
import type { WebSocketLike } from '../src-renderer/api/socket';
import { applyEvents, emptyLive } from '../src-renderer/store/live-reducer';
import { createConnectionStore, createLiveStore, createSignalsStore } from '../src-renderer/store/stores';
import { LiveSync } from '../src-renderer/store/sync';
import type { EventEnvelope } from '../src-shared/protocol/events';
import { startGateway, type TestGateway } from '../test/helpers/gateway';
import { PhoneSim, rawRequest, utterance } from '../test/helpers/phone-sim';

function until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (pred()) return resolve();
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

function makeSync(gw: TestGateway, create: (url: string) => WebSocketLike) {
  const api = new GatewayApi(new ApiClient({ base: gw.url }));
  const live = createLiveStore();
  const connection = createConnectionStore();
  const signals = createSignalsStore();
  const sync = new LiveSync({ api, live, connection, signals, origin: gw.url, createSocket: create, statusIntervalMs: 60_000 });
  return { api, live, connection, signals, sync };
}

describe('console stores with a real gateway', () => {
  let gw: TestGateway;
  const syncs: LiveSync[] = [];

  beforeAll(async () => {
    gw = await startGateway();
  });
  afterEach(() => {
    for (const s of syncs.splice(0)) s.stop();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('builds calls and transcripts from the event stream', async () => {
    const t = makeSync(gw, (url) => new WebSocket(url) as unknown as WebSocketLike);
    syncs.push(t.sync);
    t.sync.start();
    await until(() => t.connection.getState().socket === 'open', 'the socket');
    const phone = new PhoneSim(gw.url, gw.bearer, '+4917000000001');
    await phone.greeting('Hello there.');
    await phone.say(utterance(1, 24000, 1));
    await until(() => (t.live.getState().calls[phone.sessionId]?.lines.length ?? 0) >= 3, 'three lines');
    const c = t.live.getState().calls[phone.sessionId];
    expect(c.summary).toMatchObject({ direction: 'incoming', number: '+4917000000001', state: 'active' });
    expect(c.lines.map((l) => l.kind)).toEqual(['forced', 'caller', 'assistant']);
    expect(t.connection.getState().stats).toMatchObject({ duplicates: 0, missed: 0 });
  });

  it('resyncs from REST after the connection dropped: ended calls end, new calls appear, a waiting caller is shown', async () => {
    let blocked = false;
    let current: WebSocket | null = null;
    const t = makeSync(gw, (url) => {
      if (blocked) throw new Error('network down');
      current = new WebSocket(url);
      return current as unknown as WebSocketLike;
    });
    syncs.push(t.sync);
    t.sync.start();
    await until(() => t.connection.getState().socket === 'open', 'the socket');
    const first = new PhoneSim(gw.url, gw.bearer, '+4917000000002');
    await first.greeting('Hello.');
    await until(() => !!t.live.getState().calls[first.sessionId], 'the first call');

    // the connection drops and stays down while things happen
    blocked = true;
    current!.terminate();
    await until(() => t.connection.getState().socket !== 'open', 'the drop');
    const end = await rawRequest(gw.url, { method: 'POST', path: '/api/session/end', headers: { Authorization: `Bearer ${gw.bearer}`, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ session_id: first.sessionId })) });
    expect(end.status).toBe(200);
    const second = new PhoneSim(gw.url, gw.bearer, '+4917000000003');
    await second.greeting('Hello again.');
    const took = await fetch(`${gw.url}/api/operator/takeover`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session_id: second.sessionId, operator: 'Sam' }) });
    expect(took.status).toBe(200);
    const waiting = second.say(utterance(1, 24000, 2)); // the caller now waits for Sam
    await expect.poll(async () => ((await (await fetch(`${gw.url}/api/operator/pending`)).json()) as { requests: unknown[] }).requests.length, { timeout: 10_000 }).toBe(1);
    expect(t.live.getState().calls[second.sessionId]).toBeUndefined();
    expect(t.live.getState().calls[first.sessionId].summary.state).toBe('active');

    // back online: the console reconnects and resyncs
    blocked = false;
    await until(() => t.connection.getState().socket === 'open', 'the reconnect');
    await until(() => !!t.live.getState().calls[second.sessionId]?.awaiting, 'the waiting caller');
    const s = t.live.getState();
    expect(s.calls[first.sessionId].summary.state).toBe('ended');
    expect(s.calls[second.sessionId].summary).toMatchObject({ state: 'taken_over', holder: { kind: 'operator', name: 'Sam' } });
    expect(s.calls[second.sessionId].awaiting).toMatchObject({ transcript: expect.stringMatching(/^caller utterance number \d+$/) });

    // and keeps following the stream: Sam answers, the phone hears it, the console shows it
    const requestId = s.calls[second.sessionId].awaiting!.requestId;
    await t.api.reply(second.sessionId, 'Sam here.', 'Sam', requestId);
    expect((await waiting).reply).toBe('Sam here.');
    await until(() => t.live.getState().calls[second.sessionId].lines.some((l) => l.kind === 'operator' && l.text === 'Sam here.'), 'the operator line');
    await t.api.release(second.sessionId, 'Sam');
  });

  it('ends in the same state when the stream arrives out of order and with duplicates', async () => {
    const recorded: EventEnvelope[] = [];
    const off = gw.app.ctx.bus.subscribe((e) => recorded.push(JSON.parse(JSON.stringify(e))));
    const phone = new PhoneSim(gw.url, gw.bearer, '+4917000000004');
    await phone.greeting('Hello.');
    for (let i = 0; i < 4; i++) await phone.say(utterance(1, 24000, 10 + i));
    await fetch(`${gw.url}/api/operator/hangup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session_id: phone.sessionId }) });
    off();
    expect(recorded.length).toBeGreaterThan(20);
    const canonical = applyEvents(emptyLive(), recorded, 0);

    // deliver: neighbours swapped, every third frame twice, in chunks
    let rnd = 7;
    const next = () => (rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const frames = recorded.slice();
    for (let i = 0; i + 1 < frames.length; i += 2) if (next() < 0.6) [frames[i], frames[i + 1]] = [frames[i + 1], frames[i]];
    const noisy: EventEnvelope[] = [];
    frames.forEach((f, i) => {
      noisy.push(f);
      if (i % 3 === 0) noisy.push(f);
    });
    let fake: WebSocketLike | null = null;
    const t = makeSync(gw, () => {
      fake = { readyState: 1, onopen: null, onclose: null, onerror: null, onmessage: null, send: () => undefined, close: () => undefined };
      return fake;
    });
    syncs.push(t.sync);
    t.sync.start();
    await until(() => !!fake, 'the socket');
    fake!.onopen?.({});
    await t.sync.resync();
    for (let i = 0; i < noisy.length; i += 5) {
      for (const f of noisy.slice(i, i + 5)) fake!.onmessage?.({ data: JSON.stringify(f) });
      t.sync.flush();
    }
    await until(() => t.sync.sequencer.stats.applied === recorded.length, 'every event applied');
    const got = t.live.getState().calls[phone.sessionId];
    const want = canonical.calls[phone.sessionId];
    expect(got.lines.map((l) => [l.kind, l.text])).toEqual(want.lines.map((l) => [l.kind, l.text]));
    expect(got.summary).toEqual(want.summary);
    expect(t.sync.sequencer.stats).toMatchObject({ duplicates: Math.ceil(frames.length / 3), missed: 0, late: 0 });
  });
});
