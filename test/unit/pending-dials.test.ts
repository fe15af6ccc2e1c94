/** Pending dial options: matched by number (formats differ), replaced by a newer dial, expired after the TTL. */
import { describe, expect, it } from 'vitest';
import { PendingDials } from '../../src-main/calls/pending-dials';

describe('PendingDials', () => {
  it('matches the exact number first, then by trailing digits without trunk zeros', () => {
    const d = new PendingDials();
    d.add('0170 1234567', { greeting: 'national' });
    d.add('+4917012345', { greeting: 'exact' });
    expect(d.take('+49 170 12345')?.greeting).toBe('exact');
    expect(d.take('+491701234567')?.greeting).toBe('national');
    expect(d.size).toBe(0);
  });

  it('does not match short or different numbers', () => {
    const d = new PendingDials();
    d.add('112', { greeting: 'short' });
    d.add('+4917011111', { greeting: 'other' });
    expect(d.take('+44112')).toBeUndefined();
    expect(d.take('+4917022222')).toBeUndefined();
    expect(d.take('')).toBeUndefined();
    expect(d.take('112')?.greeting).toBe('short');
  });

  it('a newer dial to the same number replaces the older options; a dial without options clears them', () => {
    const d = new PendingDials();
    d.add('+4930', { greeting: 'first' });
    d.add('+4930', { greeting: 'second' });
    expect(d.size).toBe(1);
    expect(d.take('+4930')?.greeting).toBe('second');
    d.add('+4930', { instructions: 'x' });
    d.add('+4930', {});
    expect(d.take('+4930')).toBeUndefined();
  });

  it('forgets options after the TTL', () => {
    let now = 1_000_000;
    const d = new PendingDials(60_000, () => now);
    d.add('+4930123', { instructions: 'stale' });
    now += 60_001;
    expect(d.take('+4930123')).toBeUndefined();
    d.add('+4930123', { instructions: 'fresh' });
    now += 59_000;
    expect(d.take('+4930123')?.instructions).toBe('fresh');
  });
});
