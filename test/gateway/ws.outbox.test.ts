/**
 * What a WebSocket client is sent: frames sent during one tick leave together once the tick is done,
 * in order, and a client that stops reading is disconnected instead of growing the gateway's memory.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Outbox, MAX_BUFFERED } from '../../src-main/gateway/ws/outbox';
import { eventStream, startGateway, type TestGateway } from '../helpers/gateway';

const tick = () => new Promise<void>((r) => setImmediate(r));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A bare ws server on 127.0.0.1:0 and one client; the server side's Outbox and raw socket. */
async function pair(): Promise<{ out: Outbox; raw: Socket; received: string[]; client: WebSocket }> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => {
    wss.close();
    server.close(() => r());
    server.closeAllConnections();
  }));
  const accepted = new Promise<{ out: Outbox; raw: Socket }>((resolve) => wss.once('connection', (ws, req) => resolve({ out: new Outbox(ws, req.socket), raw: req.socket })));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
  cleanups.push(() => client.terminate());
  const received: string[] = [];
  client.on('message', (d) => received.push(d.toString()));
  await new Promise<void>((r, j) => client.once('open', () => r()).once('error', j));
  return { ...(await accepted), received, client };
}

describe('WebSocket outbox', () => {
  it('holds the frames of one tick in the socket and writes them together when the tick is done, in order', async () => {
    const { out, raw, received } = await pair();
    const frames = Array.from({ length: 6 }, (_, i) => JSON.stringify({ type: 'turn.event', n: i, pad: 'x'.repeat(100 * i) }));
    for (const f of frames) expect(out.send(f)).toBe(true);
    // nothing has gone out yet: every frame waits in the corked socket
    expect(raw.writableCorked).toBe(1);
    expect(raw.writableLength).toBeGreaterThanOrEqual(frames.reduce((n, f) => n + f.length, 0));
    await tick();
    expect(raw.writableCorked).toBe(0);
    await expect.poll(() => received.length).toBe(frames.length);
    expect(received).toEqual(frames);

    // the next tick is held and written on its own
    out.send('{"type":"late"}');
    expect(raw.writableCorked).toBe(1);
    await tick();
    expect(raw.writableCorked).toBe(0);
    await expect.poll(() => received.at(-1)).toBe('{"type":"late"}');
  });

  it('sends nothing once the socket is closed', async () => {
    const { out, client, received } = await pair();
    client.close();
    await expect.poll(() => out.open).toBe(false);
    expect(out.send('{"type":"after"}')).toBe(false);
    await tick();
    expect(received).toEqual([]);
  });
});

describe('events socket: a client that stops reading', () => {
  let gw: TestGateway;
  afterEach(async () => gw?.close());

  it('is disconnected with 1013 "client too slow" while the others get every event and the gateway stays up', async () => {
    gw = await startGateway();
    const wsUrl = `${gw.url.replace(/^http/, 'ws')}/ws/events`;
    const slow = new WebSocket(wsUrl);
    cleanups.push(() => slow.terminate());
    await new Promise<void>((r, j) => slow.once('open', () => r()).once('error', j));
    const fast = await eventStream(gw.url);
    cleanups.push(() => fast.close());
    let slowFrames = 0;
    slow.on('message', () => slowFrames++);
    slow.pause();

    // three times what the gateway keeps for one client, in 256 KB events, published as a turn would
    const blob = 'a'.repeat(256 * 1024);
    const count = Math.ceil((3 * MAX_BUFFERED) / blob.length);
    for (let i = 0; i < count; i++) {
      gw.app.ctx.bus.publish('test.big', 'sid-outbox', { i, blob });
      if (i % 4 === 3) await tick();
    }
    await fast.waitFor((e) => e.type === 'test.big' && e.data.i === count - 1, 10_000);
    expect(fast.events.filter((e) => e.type === 'test.big')).toHaveLength(count);

    const closed = new Promise<{ code: number; reason: string }>((r) => slow.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    slow.resume();
    expect(await closed).toEqual({ code: 1013, reason: 'client too slow' });
    expect(slowFrames).toBeGreaterThan(0);
    expect(slowFrames).toBeLessThan(count);

    // the gateway and the other client carry on
    const status = await fetch(`${gw.url}/api/status`);
    expect(status.status).toBe(200);
    gw.app.ctx.bus.publish('test.after', 'sid-outbox', {});
    await fast.waitFor((e) => e.type === 'test.after');
  });
});
