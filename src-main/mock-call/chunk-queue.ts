/**
 * A queue of PCM chunks between a producer (recorder stdout, a pacing timer) and the call's
 * reader. Bounded: when nobody reads, the oldest audio is dropped (a live source must never grow
 * without limit). With `onDrain` the producer applies back-pressure instead (pauses while
 * `hasRoom` is false, resumes on drain) and nothing is dropped.
 */
export class ChunkQueue {
  private readonly chunks: Int16Array[] = [];
  private queued = 0;
  private ended = false;
  private waiter: ((c: Int16Array | null) => void) | null = null;

  constructor(
    private readonly maxSamples: number,
    /** called when the queue dropped below half of `maxSamples` after a read */
    private readonly onDrain?: () => void,
  ) {}

  get samples(): number {
    return this.queued;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** true while the queue holds less than its bound (producers may keep pushing) */
  get hasRoom(): boolean {
    return this.queued < this.maxSamples;
  }

  push(chunk: Int16Array): void {
    if (this.ended || chunk.length === 0) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.queued += chunk.length;
    // with back-pressure the producer pauses instead; what it already sent must not be lost
    while (!this.onDrain && this.queued > this.maxSamples && this.chunks.length > 1) {
      this.queued -= this.chunks.shift()!.length;
    }
  }

  read(): Promise<Int16Array | null> {
    const c = this.chunks.shift();
    if (c) {
      this.queued -= c.length;
      if (this.onDrain && this.queued < this.maxSamples / 2) this.onDrain();
      return Promise.resolve(c);
    }
    if (this.ended) return Promise.resolve(null);
    if (this.onDrain) this.onDrain();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  flush(): void {
    this.chunks.length = 0;
    this.queued = 0;
    if (this.onDrain) this.onDrain();
  }

  /** No more audio: pending and later reads get what is queued, then null. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
  }

  /** End and discard what is queued (stop). */
  close(): void {
    this.chunks.length = 0;
    this.queued = 0;
    this.end();
  }
}
