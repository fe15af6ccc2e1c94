/** Who produced a line, from the pipeline's producer strings. */
import { describe, expect, it } from 'vitest';
import { parseProducer } from './producer';
import { displayNumber, formatDuration, formatMs } from './format';

describe('parseProducer', () => {
  it.each([
    ['local:qwen2.5-0.5b', 'assistant', 'Assistant · qwen2.5-0.5b'],
    ['agent:helper-bot', 'agent', 'Agent · helper-bot'],
    ['operator:Sam', 'operator', 'Operator · Sam'],
    ['operator:Name: with colon', 'operator', 'Operator · Name: with colon'],
    ['inject', 'inject', 'Injected'],
    ['forced', 'forced', 'Greeting / forced'],
    ['holding', 'holding', 'Holding phrase'],
    ['system', 'system', 'System'],
    ['', 'assistant', 'Assistant'],
    ['mystery', 'assistant', 'Assistant · mystery'],
  ])('%s → %s', (p, role, label) => {
    expect(parseProducer(p)).toMatchObject({ role, label });
  });
});

describe('display helpers', () => {
  it('formats durations, latencies and numbers', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(75)).toBe('1:15');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatMs(null)).toBe('—');
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(12_345)).toBe('12.3 s');
    expect(displayNumber('', false)).toBe('Unknown number');
    expect(displayNumber('+4917012345678', false)).toBe('+49•••••••••78');
    expect(displayNumber('+4917012345678', true)).toBe('+4917012345678');
  });
});
