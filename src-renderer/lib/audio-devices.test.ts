import { describe, expect, it } from 'vitest';
import { deviceChoices } from './audio-devices';

describe('deviceChoices', () => {
  const list = [{ id: 'hw:1,0', description: 'USB headset' }, { id: 'default', description: 'default' }, { id: '', description: 'nameless' }];

  it('offers the system default first, then each listed device by description and id', () => {
    expect(deviceChoices(list, '')).toEqual([['', 'System default'], ['hw:1,0', 'USB headset (hw:1,0)'], ['default', 'default']]);
  });

  it('keeps a current value the system no longer lists, saying so', () => {
    expect(deviceChoices(list, 'hw:2,0').at(-1)).toEqual(['hw:2,0', 'hw:2,0 (not listed now)']);
    expect(deviceChoices(list, 'hw:1,0')).toHaveLength(3);
  });
});
