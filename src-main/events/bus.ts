/**
 * The in-process event bus. Publishing never waits on a subscriber (upstream awaited every socket in
 * turn, so one slow client stalled /api/turn — spec §16 #37): the envelope is serialised once and
 * handed to each subscriber synchronously; socket subscribers buffer and drop themselves if they
 * fall too far behind.
 */
import type { EventEnvelope, EventType } from '../../src-shared/protocol/events';

export type Subscriber = (event: EventEnvelope, json: string) => void;

export class EventBus {
  private readonly subs = new Set<Subscriber>();
  private seq = 0;

  publish(type: EventType | string, sessionId: string, data: Record<string, unknown> = {}): EventEnvelope {
    const event: EventEnvelope = { type, timestamp: Date.now() / 1000, session_id: sessionId, data, seq: ++this.seq };
    if (this.subs.size === 0) return event;
    const json = JSON.stringify(event);
    for (const s of [...this.subs]) {
      try {
        s(event, json);
      } catch {
        // a failing subscriber must not break the publisher or the others
      }
    }
    return event;
  }

  subscribe(fn: Subscriber): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  get subscriberCount(): number {
    return this.subs.size;
  }

  get lastSeq(): number {
    return this.seq;
  }
}
