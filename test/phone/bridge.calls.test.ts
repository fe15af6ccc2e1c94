/** Call control through the CALL_COMMAND broadcast, confirmed from the (fake) phone's log and call state. */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, until, waitForEvent, type Harness } from './harness';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function readyPhone(over: Parameters<typeof startHarness>[0] = {}, serial = 'P1') {
  h = await startHarness(over);
  await h.bridge.start();
  const dev = h.fake.plug({ serial, setUp: true });
  await waitForEvent(h.bridge, 'deviceReady');
  return dev;
}

describe('dial', () => {
  it('places the call with a pinned serial, the explicit receiver and the base64 JSON form, and confirms it', async () => {
    const dev = await readyPhone();
    const started = waitForEvent(h.bridge, 'callStarted');
    const r = await h.bridge.dial('+49 170 123-4567');
    expect(r).toEqual({ ok: true, detail: 'Dialling +491701234567 on Pixel 7a (P1).', serial: 'P1' });
    const [call] = await started;
    expect(call).toMatchObject({ serial: 'P1', direction: 'outgoing', number: '+491701234567' });

    expect(dev.broadcasts).toHaveLength(1);
    expect(dev.broadcasts[0]).toMatchObject({ type: 'dial', payload: { number: '+491701234567' }, flags: ['--include-stopped-packages'] });
    const broadcast = h.fake.shellCommands('P1').find((c) => c.startsWith('am broadcast'))!;
    expect(broadcast).toContain('-n com.tracsystems.phonebridge/.CallCommandReceiver');
    expect(broadcast).not.toContain('+491701234567');
    // every device request went through a transport pinned to the serial
    const transports = h.fake.requests.filter((r) => r.service.startsWith('host:transport'));
    expect(transports.every((r) => r.service === 'host:transport:P1')).toBe(true);
  });

  it('reaches a force-stopped app thanks to --include-stopped-packages', async () => {
    const dev = await readyPhone();
    dev.app.stopped = true;
    expect((await h.bridge.dial('+15550001111')).ok).toBe(true);
  });

  it('reports "Call already in progress" when the phone is in a call', async () => {
    const dev = await readyPhone();
    dev.incomingCall('+15550002222');
    await waitForEvent(h.bridge, 'callChanged', (c) => c.phase === 'active');
    const r = await h.bridge.dial('+15550001111');
    expect(r).toMatchObject({ ok: false, detail: 'Call already in progress', serial: 'P1' });
  });

  it('reports a missing CALL_PHONE permission in words', async () => {
    const dev = await readyPhone();
    dev.app.permissions.delete('android.permission.CALL_PHONE');
    const r = await h.bridge.dial('+15550001111');
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/^CALL_PHONE permission missing: grant/);
  });

  it('on an unauthorized phone: tells the user to accept the prompt, and sends nothing to it', async () => {
    h = await startHarness();
    await h.bridge.start();
    const dev = h.fake.plug({ serial: 'U1', state: 'unauthorized', setUp: true });
    await until(() => h.bridge.getDevice('U1') !== null, 20_000, 'the unauthorized phone');
    const r = await h.bridge.dial('+15550001111');
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/Allow USB debugging/);
    expect(dev.broadcasts).toHaveLength(0);
    expect(h.fake.shellCommands('U1')).toEqual([]);
  });

  it('says so when no phone is connected, and when the app is not installed', async () => {
    h = await startHarness();
    await h.bridge.start();
    expect(await h.bridge.dial('+15550001111')).toMatchObject({ ok: false, detail: expect.stringMatching(/^No ADB device connected/) });
    const dev = h.fake.plug({ serial: 'N1' });
    await waitForEvent(h.bridge, 'deviceReady');
    const r = await h.bridge.dial('+15550001111');
    expect(r.detail).toMatch(/Clawfinger app is not installed/);
    expect(dev.broadcasts).toHaveLength(0);
  });

  it('when the app never answers, the ack says it was not confirmed (not a fake success)', async () => {
    const dev = await readyPhone({ adb_confirm_timeout_ms: 600 });
    dev.app.responds = false;
    const r = await h.bridge.dial('+15550001111');
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/did not confirm the dial within 1 s/);
  });

  it('falls back to the telephony call state when the log line is missing', async () => {
    const dev = await readyPhone({ adb_confirm_timeout_ms: 600 });
    dev.overrides.push((cmd) => {
      if (!cmd.startsWith('am broadcast')) return undefined;
      dev.call = { state: 'dialing', number: '+15550001111' }; // dials, but logs nothing
      return { stdout: 'Broadcast completed: result=0\n' };
    });
    const r = await h.bridge.dial('+15550001111');
    expect(r).toMatchObject({ ok: true, detail: expect.stringMatching(/confirmed by the phone's call state/) });
  });
});

describe('numbers are validated before any adb traffic', () => {
  const attacks = ['+1; reboot', '$(reboot)', '`reboot`', "+1' ; reboot '", '"+4917012345"', '+1 && reboot', '+1\nreboot', '+1|sh', '١٢٣٤٥٦٧', '+４９１７０', '+49\u202e170', '*#06#;ls', '', '   ', 'a'.repeat(5000)];

  it.each(attacks.map((a) => [JSON.stringify(a).slice(0, 40), a]))('refuses %s', async (_label, attack) => {
    const dev = await readyPhone();
    const before = h.fake.requests.length;
    const r = await h.bridge.dial(attack);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/number/);
    const viaAction = await h.bridge.runAction('P1', 'dial', { number: attack });
    expect(viaAction.ok).toBe(false);
    expect(h.fake.requests.length).toBe(before);
    expect(dev.broadcasts).toHaveLength(0);
  });
});

describe('hangup', () => {
  it('is confirmed only once the call state says the call is gone', async () => {
    const dev = await readyPhone();
    const active = waitForEvent(h.bridge, 'callChanged', (c) => c.phase === 'active');
    await h.bridge.dial('+15550001111');
    await active;
    dev.logsStates = false; // the disconnect shows only in telephony state
    dev.hangupDelayMs = 300;
    const ended = waitForEvent(h.bridge, 'callEnded');
    const r = await h.bridge.hangup();
    expect(r).toEqual({ ok: true, detail: 'Call ended.', serial: 'P1' });
    expect(dev.telephonyState).toBe(0);
    const [e] = await ended;
    expect(e).toMatchObject({ reason: 'hangup_command', direction: 'outgoing', number: '+15550001111' });
    expect(e.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('says when the phone accepted the hang-up but the call stays up', async () => {
    const dev = await readyPhone({ adb_confirm_timeout_ms: 800 });
    dev.incomingCall('+15550002222');
    await waitForEvent(h.bridge, 'callChanged', (c) => c.phase === 'active');
    dev.hangupDelayMs = 60_000;
    const r = await h.bridge.hangup();
    expect(r).toMatchObject({ ok: false, detail: 'The phone accepted the hang-up, but the call is still up.' });
  });

  it('reports that there is no call to hang up', async () => {
    await readyPhone();
    expect(await h.bridge.hangup()).toMatchObject({ ok: false, detail: 'No active call to hang up' });
  });
});

describe('the call ends on the phone', () => {
  it.each([
    ['the other party hangs up', 'ended_on_phone', null],
    ['the max-duration timer fires', 'max_duration', 'max call duration reached'],
    ['the gateway answered hangup:true', 'gateway_hangup', 'gateway hangup — disconnecting call'],
    ['the silence watchdog fires', 'silence_timeout', 'auto hangup after silence timeout'],
  ] as const)('%s → callEnded with reason %s', async (_what, reason, line) => {
    const dev = await readyPhone();
    const started = waitForEvent(h.bridge, 'callStarted');
    dev.incomingCall('+15550003333');
    await waitForEvent(h.bridge, 'callChanged', (c) => c.phase === 'active');
    const [call] = await started;
    expect(call).toMatchObject({ direction: 'incoming', number: '+15550003333' });
    expect(h.bridge.callInfo()).toMatchObject({ appReported: { number: '+15550003333', direction: 'incoming' } });
    const ended = waitForEvent(h.bridge, 'callEnded');
    if (line) dev.appHangsUp(line);
    else dev.remoteHangup();
    const [e] = await ended;
    expect(e).toMatchObject({ serial: 'P1', reason, direction: 'incoming', number: '+15550003333' });
    expect(h.bridge.callInfo('P1')).toBeNull();
  });

  it('a missed log line is caught by the telephony poll', async () => {
    const dev = await readyPhone({ adb_call_poll_ms: 50 });
    dev.incomingCall('+15550003333');
    await waitForEvent(h.bridge, 'callChanged', (c) => c.phase === 'active');
    dev.logsStates = false;
    const ended = waitForEvent(h.bridge, 'callEnded');
    dev.remoteHangup();
    const [e] = await ended;
    expect(e.reason).toBe('ended_on_phone');
  });
});

describe('answer, reject, mute, speaker', () => {
  it('answers a ringing call, sends booleans as booleans', async () => {
    const dev = await readyPhone();
    dev.incomingCall('+15550004444', null);
    await waitForEvent(h.bridge, 'callStarted');
    expect(await h.bridge.answer()).toMatchObject({ ok: true });
    expect(await h.bridge.mute(true)).toMatchObject({ ok: true });
    expect(await h.bridge.speaker(false)).toMatchObject({ ok: true });
    expect(dev.broadcasts.map((b) => [b.type, b.payload])).toEqual([
      ['answer', {}],
      ['mute', { muted: true }],
      ['speaker', { enabled: false }],
    ]);
  });

  it('rejects a ringing call; the call ends as rejected', async () => {
    const dev = await readyPhone();
    dev.incomingCall('+15550004444', null);
    await waitForEvent(h.bridge, 'callStarted');
    const ended = waitForEvent(h.bridge, 'callEnded');
    expect(await h.bridge.reject()).toMatchObject({ ok: true });
    expect((await ended)[0].reason).toBe('rejected');
  });
});

describe('two phones', () => {
  it('asks which one (listing both), uses the serial given, else adb_serial, else ANDROID_SERIAL', async () => {
    h = await startHarness();
    await h.bridge.start();
    const a = h.fake.plug({ serial: 'AAA', setUp: true, model: 'Pixel 7a' });
    const b = h.fake.plug({ serial: 'BBB', setUp: true, model: 'Pixel 10 Pro', codename: 'blazer' });
    await waitForEvent(h.bridge, 'deviceReady');
    await waitForEvent(h.bridge, 'deviceReady');

    const none = await h.bridge.dial('+15550001111');
    expect(none.ok).toBe(false);
    expect(none.detail).toMatch(/Several phones are connected: .*AAA.*BBB.*Choose one/);
    expect(a.broadcasts.length + b.broadcasts.length).toBe(0);

    expect(await h.bridge.dial('+15550001111', { serial: 'BBB' })).toMatchObject({ ok: true, serial: 'BBB' });
    expect(b.broadcasts).toHaveLength(1);
    expect(a.broadcasts).toHaveLength(0);

    h.cfg.adb_serial = 'AAA';
    expect(await h.bridge.dial('+15550001111')).toMatchObject({ ok: true, serial: 'AAA' });
    expect(await h.bridge.dial('+15550001111', { serial: 'ZZZ' })).toMatchObject({ ok: false, detail: expect.stringMatching(/No phone with serial ZZZ is connected \(connected: .*AAA/) });
    h.cfg.adb_serial = 'GONE';
    expect((await h.bridge.hangup()).detail).toMatch(/chosen phone \(GONE/);
  });

  it('honours ANDROID_SERIAL when adb_serial is empty', async () => {
    h = await startHarness({}, { env: { ANDROID_SERIAL: 'BBB' } });
    await h.bridge.start();
    h.fake.plug({ serial: 'AAA', setUp: true });
    const b = h.fake.plug({ serial: 'BBB', setUp: true });
    await waitForEvent(h.bridge, 'deviceReady');
    await waitForEvent(h.bridge, 'deviceReady');
    expect(await h.bridge.dial('+15550001111')).toMatchObject({ ok: true, serial: 'BBB' });
    expect(b.broadcasts).toHaveLength(1);
  });
});
