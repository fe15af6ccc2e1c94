/** Device alerts in the console: critical problems stay until the device recovers or the operator dismisses them. */
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../api/types';
import { Notifier, type NotificationApi } from '../lib/notify';
import { applySignals, createSignalsStore, dismissDeviceAlert } from './stores';

let seq = 0;
const alert = (serial: string, level: string, code: string, message = `${code} on ${serial}`): EventEnvelope =>
  ({ type: 'device.alert', session_id: '', timestamp: 1000 + seq, seq: ++seq, data: { serial, level, code, message } }) as EventEnvelope;

describe('device alerts', () => {
  it('a critical alert is kept (once per device and problem) and cleared by the device\'s recovery only', () => {
    const store = createSignalsStore();
    applySignals(store, [alert('A', 'critical', 'reverse_lost_in_call'), alert('B', 'critical', 'reverse_lost_in_call')]);
    applySignals(store, [alert('A', 'critical', 'reverse_lost_in_call', 'again')]);
    expect(store.getState().deviceAlerts.map((a) => [a.serial, a.message])).toEqual([['B', 'reverse_lost_in_call on B'], ['A', 'again']]);
    expect(store.getState().versions.devices).toBe(3);
    applySignals(store, [alert('A', 'info', 'reverse_restored')]);
    expect(store.getState().deviceAlerts.map((a) => a.serial)).toEqual(['B']);
    applySignals(store, [alert('B', 'info', 'call_ended_while_disconnected')]);
    expect(store.getState().deviceAlerts).toEqual([]);
  });

  it('the adb server alert clears when the server is back; a dismissed alert is gone; junk data does not break the store', () => {
    const store = createSignalsStore();
    applySignals(store, [alert('', 'warning', 'adb_server_lost'), alert('C', 'critical', 'reverse_lost_in_call')]);
    applySignals(store, [{ type: 'device.alert', session_id: '', timestamp: 5, data: { level: 7, serial: null } } as unknown as EventEnvelope]);
    expect(store.getState().deviceAlerts).toHaveLength(2);
    applySignals(store, [alert('', 'info', 'adb_server_restored')]);
    const left = store.getState().deviceAlerts;
    expect(left.map((a) => a.serial)).toEqual(['C']);
    dismissDeviceAlert(store, left[0].id);
    expect(store.getState().deviceAlerts).toEqual([]);
  });

  it('a critical alert notifies once when notifications are on; warnings and disabled notifications do not', () => {
    const shown: string[][] = [];
    const api: NotificationApi = { permission: 'granted', requestPermission: async () => 'granted', show: (t, b, tag) => shown.push([t, b, tag]) };
    let on = true;
    const n = new Notifier(null, api, () => on);
    expect(n.deviceAlert({ id: 'x1', level: 'critical', message: 'The phone lost its USB link during a call.' })).toBe(true);
    expect(n.deviceAlert({ id: 'x1', level: 'critical', message: 'The phone lost its USB link during a call.' })).toBe(false);
    expect(n.deviceAlert({ id: 'x2', level: 'warning', message: 'adb gone' })).toBe(false);
    on = false;
    expect(n.deviceAlert({ id: 'x3', level: 'critical', message: 'again' })).toBe(false);
    expect(shown).toEqual([['Phone needs attention', 'The phone lost its USB link during a call.', 'dev:x1']]);
  });
});
