/**
 * Turns a source's chunks into fixed VAD frames, with one read in flight at a time so a caller
 * can race the next frame against something else (playback ending) without losing audio.
 */
import { FRAME_SAMPLES } from './vad/classifier';
import type { AudioSource } from './types';

export class FrameReader {
  private buf = new Int16Array(0);
  private pending: Promise<Int16Array | null> | null = null;
  private ended = false;

  constructor(private readonly source: AudioSource) {}

  /** The next frame (the same promise until `take()`); null at the end of the input. */
  peek(): Promise<Int16Array | null> {
    this.pending ??= this.readFrame();
    return this.pending;
  }

  /** Consume the frame `peek()` returned. */
  take(): void {
    this.pending = null;
  }

  async next(): Promise<Int16Array | null> {
    const f = await this.peek();
    this.take();
    return f;
  }

  /** Drop buffered audio (live sources, after the call was busy). A read in flight is kept. */
  flush(): void {
    this.source.flush();
    if (!this.pending) this.buf = new Int16Array(0);
  }

  private async readFrame(): Promise<Int16Array | null> {
    while (this.buf.length < FRAME_SAMPLES) {
      if (this.ended) return null;
      const chunk = await this.source.read();
      if (!chunk) {
        this.ended = true;
        return null;
      }
      const merged = new Int16Array(this.buf.length + chunk.length);
      merged.set(this.buf, 0);
      merged.set(chunk, this.buf.length);
      this.buf = merged;
    }
    const frame = this.buf.slice(0, FRAME_SAMPLES);
    this.buf = this.buf.subarray(FRAME_SAMPLES);
    return frame;
  }
}
