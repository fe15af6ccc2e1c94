/** Notifications: once per call/turn, through the desktop bridge or the browser, only when allowed. */
import { describe, expect, it } from 'vitest';
import type { ClawfingerBridge } from '../api/bridge';
import type { CallSummary } from '../api/types';
import { Notifier, type NotificationApi } from './notify';

const call = (over: Partial<CallSummary> = {}): CallSummary => ({
  session_id: 's1', state: 'active', direction: 'incoming', number: '+4917012345678', device: null, started_at: 1, ended_at: null,
  end_reason: null, holder: null, turn_count: 0, authenticated: false, last_latency_ms: null, ...over,
});

function web(permission: string) {
  const shown: string[][] = [];
  const api: NotificationApi = { permission, requestPermission: async () => 'granted', show: (t, b, tag) => shown.push([t, b, tag]) };
  return { api, shown };
}

describe('Notifier', () => {
  it('announces an incoming call once, with the number masked', () => {
    const w = web('granted');
    const n = new Notifier(null, w.api, () => true);
    expect(n.incomingCall(call())).toBe(true);
    expect(n.incomingCall(call())).toBe(false);
    expect(n.incomingCall(call({ session_id: 's2', direction: 'outgoing' }))).toBe(false);
    expect(w.shown).toEqual([['Incoming call', 'A caller from +49•••••••••78 is talking to the assistant.', 'in:s1:1']]);
  });

  it('tells the operator a caller is waiting, once per request', () => {
    const w = web('granted');
    const n = new Notifier(null, w.api, () => true);
    n.callerWaiting('s1', 'r1', 'Can I speak to a person?');
    n.callerWaiting('s1', 'r1', 'Can I speak to a person?');
    n.callerWaiting('s1', 'r2', '');
    expect(w.shown.map((x) => x[1])).toEqual(['“Can I speak to a person?”', 'The caller said something: type your reply.']);
  });

  it('shows nothing without permission or when the operator turned notifications off', () => {
    const denied = web('denied');
    expect(new Notifier(null, denied.api, () => true).incomingCall(call())).toBe(false);
    const off = web('granted');
    expect(new Notifier(null, off.api, () => false).callerWaiting('s', 'r', 'x')).toBe(false);
    expect(denied.shown.length + off.shown.length).toBe(0);
  });

  it('uses the desktop bridge when present, and leaves incoming calls to the desktop shell', async () => {
    const sent: string[][] = [];
    const bridge: ClawfingerBridge = {
      getToken: async () => 't', notify: async (t, b) => void sent.push([t, b]), openDataFolder: async () => undefined, pickFile: async () => null, platform: 'linux',
    };
    const w = web('granted');
    const n = new Notifier(bridge, w.api, () => true);
    expect(n.permission).toBe('granted');
    expect(n.incomingCall(call())).toBe(false);
    expect(n.callerWaiting('s1', 'r1', 'hello')).toBe(true);
    expect(sent).toEqual([['A caller is waiting for you', '“hello”']]);
    expect(w.shown).toEqual([]);
  });
});
