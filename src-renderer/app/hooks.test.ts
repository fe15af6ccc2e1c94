import { describe, expect, it } from 'vitest';
import { hotkeyLabel, matchesHotkey, type HotkeyEventLike } from './hooks';

const field = { closest: (sel: string) => (sel.includes('textarea') ? {} : null) } as unknown as EventTarget;
const body = { closest: () => null } as unknown as EventTarget;

function ev(over: Partial<HotkeyEventLike>): HotkeyEventLike {
  return { key: 't', code: 'KeyT', altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, repeat: false, target: body, ...over };
}

describe('call shortcuts need a modifier (WCAG 2.1.4)', () => {
  it('a bare letter never triggers an Alt shortcut', () => {
    expect(matchesHotkey(ev({}), 't', 'alt')).toBe(false);
    expect(matchesHotkey(ev({ key: 'T', shiftKey: true }), 't', 'alt')).toBe(false);
  });

  it('Alt+letter triggers it, also from a text field and with a Mac Option character', () => {
    expect(matchesHotkey(ev({ altKey: true }), 't', 'alt')).toBe(true);
    expect(matchesHotkey(ev({ altKey: true, target: field }), 't', 'alt')).toBe(true);
    expect(matchesHotkey(ev({ altKey: true, key: '†' }), 't', 'alt')).toBe(true);
    expect(matchesHotkey(ev({ altKey: true, key: 'h', code: 'KeyH' }), 't', 'alt')).toBe(false);
  });

  it('other modifiers, Alt+Shift and held-down repeats do not trigger it', () => {
    expect(matchesHotkey(ev({ altKey: true, ctrlKey: true }), 't', 'alt')).toBe(false);
    expect(matchesHotkey(ev({ altKey: true, metaKey: true }), 't', 'alt')).toBe(false);
    expect(matchesHotkey(ev({ altKey: true, shiftKey: true }), 't', 'alt')).toBe(false);
    expect(matchesHotkey(ev({ altKey: true, repeat: true }), 't', 'alt')).toBe(false);
  });

  it('a shortcut without modifier stays silent while typing in a field', () => {
    expect(matchesHotkey(ev({}), 't', null)).toBe(true);
    expect(matchesHotkey(ev({ target: field }), 't', null)).toBe(false);
    expect(matchesHotkey(ev({ altKey: true }), 't', null)).toBe(false);
  });

  it('labels read as the aria-keyshortcuts value', () => {
    expect(hotkeyLabel('t', 'alt')).toBe('Alt+T');
    expect(hotkeyLabel('h', null)).toBe('H');
  });
});
