/**
 * The frames one WebSocket client is sent. Frames sent during one tick of the event loop leave in one
 * write: a turn publishes several events back to back (turn.started, turn.transcript, then the
 * holder's turn.request and turn.awaiting_reply), and writing each on its own costs a system call in
 * the gateway and a wake-up of the client's process per frame (bench:takeover, one agent connected:
 * about 26 instead of 33 write system calls per turn in the gateway). The frames and their order are
 * unchanged; they leave once the tick's synchronous work and microtasks are done, before the event
 * loop polls for I/O again.
 *
 * A client that stops reading is disconnected once more than MAX_BUFFERED bytes wait for it, instead
 * of growing the gateway's memory without bound.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export const MAX_BUFFERED = 8 * 1024 * 1024;

export class Outbox {
  private corked = false;

  /** `raw` is the connection under the WebSocket (the upgrade request's socket). */
  constructor(
    private readonly socket: WebSocket,
    private readonly raw: Pick<Socket, 'cork' | 'uncork'>,
  ) {}

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Send one text frame with the rest of this tick's; false when it was not sent (socket closed, or closed now for being too slow). */
  send(json: string): boolean {
    if (!this.open) return false;
    if (this.socket.bufferedAmount > MAX_BUFFERED) {
      this.socket.close(1013, 'client too slow');
      return false;
    }
    if (!this.corked) {
      this.corked = true;
      this.raw.cork();
      process.nextTick(this.flush);
    }
    this.socket.send(json);
    return true;
  }

  private readonly flush = (): void => {
    this.corked = false;
    this.raw.uncork();
  };
}
