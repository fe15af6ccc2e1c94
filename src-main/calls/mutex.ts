/** A small FIFO async mutex. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private held = 0;

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    this.held++;
    try {
      return await fn();
    } finally {
      this.held--;
      release();
    }
  }

  get locked(): boolean {
    return this.held > 0;
  }
}
