import { describe, expect, it } from 'vitest';
import { callCommandLine, CommandWatcher, explainFailure } from '../../src-main/phone/call-commands';
import { parseDeviceList } from '../../src-main/phone/adb-client';
import { CallTracker, parseTelephonyCallState, type CallEnded } from '../../src-main/phone/call-tracker';
import { parseThreadtime, type LogLine } from '../../src-main/phone/logcat';
import { maskText } from '../../src-main/phone/mask';
import { sessionEndReason } from '../../src-main/phone/session-end';
import { templateProfile, validateProfile, withGateway, KNOWN_CODENAMES } from '../../src-main/phone/profile';
import { b64, op, sh, UnsafeShellToken } from '../../src-main/phone/shell';

const line = (tag: string, message: string, level = 'I'): LogLine => ({ time: '01-01 00:00:00.000', pid: 1, tid: 1, level: level as LogLine['level'], tag, message, receivedAt: 0, seq: 0 });

describe('device shell command builder', () => {
  it('joins safe words and fixed operators', () => {
    expect(sh('pm', 'grant', 'com.x', 'android.permission.CALL_PHONE').text).toBe('pm grant com.x android.permission.CALL_PHONE');
    expect(sh('echo', 'CMD_B64:aWQ=', op('|'), 'nc', '127.0.0.1', 48733).text).toBe('echo CMD_B64:aWQ= | nc 127.0.0.1 48733');
    expect(sh('su', '-c', sh('nohup', '/x.sh', op('&'))).text).toBe("su -c 'nohup /x.sh &'");
    expect(sh('sha256sum', '/data/app/~~Ab+c==/pkg-1/base.apk').text).toContain('~~Ab+c==');
  });

  it.each([['+1; reboot'], ['$(reboot)'], ['`id`'], ["a'b"], ['a"b'], ['a b'], ['a\nb'], ['*'], ['#x'], ['~root'], [''], ['١٢٣'], ['a|b'], ['a&b'], ['a>b']])('refuses the word %j', (w) => {
    expect(() => sh('echo', w)).toThrow(UnsafeShellToken);
  });

  it('refuses operators outside the fixed set', () => {
    expect(() => op('$(' as never)).toThrow(UnsafeShellToken);
  });

  it('makes any text a safe word through base64', () => {
    const word = b64('"; rm -rf / #$(x)`y`');
    expect(() => sh('echo', word)).not.toThrow();
  });
});

describe('CALL_COMMAND broadcast line', () => {
  it('uses -n, --include-stopped-packages and a base64 JSON payload with typed values', () => {
    const cmd = callCommandLine({ type: 'mute', muted: true }, 'id-1').text;
    expect(cmd).toMatch(/^am broadcast -a com\.tracsystems\.phonebridge\.CALL_COMMAND -n com\.tracsystems\.phonebridge\/\.CallCommandReceiver --include-stopped-packages --es payload_b64 \S+$/);
    const payload = JSON.parse(Buffer.from(cmd.split(' ').pop()!, 'base64').toString('utf8'));
    expect(payload).toEqual({ id: 'id-1', type: 'mute', payload: { muted: true } });
  });
});

describe('adb device list parsing', () => {
  it('reads -l lines, tab lines and the "no permissions" state', () => {
    const list = parseDeviceList(
      [
        '38071FDJH000B1         device usb:1-1 product:lynx model:Pixel_7a device:lynx transport_id:3',
        'emulator-5554\toffline',
        'ABC123                 unauthorized usb:1-2 transport_id:4',
        '0123456789AB           no permissions (missing udev rules? user is in the plugdev group); see [http://developer.android.com/tools/device.html] usb:3-2 transport_id:5',
        '',
      ].join('\n'),
    );
    expect(list).toEqual([
      { serial: '38071FDJH000B1', state: 'device', usb: '1-1', product: 'lynx', model: 'Pixel_7a', device: 'lynx', transportId: '3' },
      { serial: 'emulator-5554', state: 'offline' },
      { serial: 'ABC123', state: 'unauthorized', usb: '1-2', transportId: '4' },
      { serial: '0123456789AB', state: 'no permissions', usb: '3-2', transportId: '5' },
    ]);
  });
});

describe('logcat and telephony parsing', () => {
  it('parses threadtime lines with padded tags', () => {
    const l = parseThreadtime('03-04 10:11:12.345  4321  4328 I BridgeInCallService: state=active');
    expect(l).toMatchObject({ time: '03-04 10:11:12.345', pid: 4321, tid: 4328, level: 'I', tag: 'BridgeInCallService', message: 'state=active' });
    expect(parseThreadtime('--------- beginning of main')).toBeNull();
  });

  it('reads mCallState, preferring a live slot', () => {
    expect(parseTelephonyCallState('mCallState=0\nmCallState=2')).toBe(2);
    expect(parseTelephonyCallState('mCallState=0')).toBe(0);
    expect(parseTelephonyCallState('nothing')).toBeNull();
  });
});

describe('command confirmation from logcat', () => {
  it('confirms on the executed line', async () => {
    const w = new CommandWatcher('dial');
    w.feed(line('AndroidTelecomCtrl', 'Dial command executed: +4912345'));
    expect((await w.result).ok).toBe(true);
  });

  it('takes the reason from the stack trace line after "command failed"', async () => {
    const w = new CommandWatcher('dial');
    w.feed(line('CallCommandExecutor', 'command failed', 'E'));
    w.feed(line('GatewayCallAssistant', 'unrelated'));
    w.feed(line('CallCommandExecutor', 'java.lang.IllegalStateException: Call already in progress', 'E'));
    expect(await w.result).toEqual({ ok: false, reason: 'Call already in progress' });
  });

  it('gives a verdict without a reason line after a short wait', async () => {
    const w = new CommandWatcher('hangup', 20);
    w.feed(line('CallCommandExecutor', 'command failed', 'E'));
    const r = await w.result;
    expect(r.ok).toBe(false);
  });

  it('explains the known failures in words', () => {
    expect(explainFailure('CALL_PHONE permission missing', 'dial')).toMatch(/^CALL_PHONE permission missing/);
    expect(explainFailure('No active call available to hang up', 'hangup')).toBe('No active call to hang up');
    expect(explainFailure('Unknown command: bt', 'dial')).toMatch(/update the Clawfinger app/);
  });
});

describe('call tracker', () => {
  it('follows an incoming call to its end and names the reason', () => {
    const t = new CallTracker('S');
    const ended: CallEnded[] = [];
    t.on('ended', (e) => ended.push(e));
    t.onLogLine(line('BridgeInCallService', 'incoming call from: +49 170 1234567, autoAnswer=true'));
    t.onLogLine(line('BridgeInCallService', 'state=ringing'));
    t.onLogLine(line('BridgeInCallService', 'state=active'));
    expect(t.current()).toMatchObject({ phase: 'active', direction: 'incoming', number: '+491701234567' });
    t.onLogLine(line('GatewayCallAssistant', 'max call duration reached'));
    t.onLogLine(line('BridgeInCallService', 'state=disconnected'));
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ reason: 'max_duration', direction: 'incoming', number: '+491701234567' });
    expect(t.live).toBe(false);
  });

  it('drops a number that is not a phone number', () => {
    const t = new CallTracker('S');
    t.onLogLine(line('BridgeInCallService', 'incoming call from: $(reboot), autoAnswer=true'));
    expect(t.current()?.number).toBeNull();
  });

  it('an unanswered call ends as not_answered; telephony idle ends a call whose last log line was missed', () => {
    const t = new CallTracker('S');
    const ended: CallEnded[] = [];
    t.on('ended', (e) => ended.push(e));
    t.onLogLine(line('BridgeInCallService', 'state=dialing'));
    t.onLogLine(line('BridgeInCallService', 'state=disconnected'));
    t.onTelephonyState(2);
    t.onTelephonyState(0);
    expect(ended.map((e) => e.reason)).toEqual(['not_answered', 'ended_on_phone']);
  });

  it("observed fields leave out what only the app's (possibly stale) call metadata said", () => {
    const t = new CallTracker('S');
    t.onTelephonyState(2);
    t.onLogLine(line('GatewayCallAssistant', 'call metadata: caller=+4917099999999, direction=incoming, maxDuration=300s'));
    expect(t.current()).toMatchObject({ direction: 'incoming', number: '+4917099999999' });
    expect(t.observedFields()).toEqual({ direction: null, number: null });
    // the bridge's own observation replaces the app's report
    t.onLogLine(line('AndroidTelecomCtrl', 'Dial command executed: +15550001111'));
    expect(t.observedFields()).toEqual({ direction: 'outgoing', number: '+15550001111' });
    t.onTelephonyState(0);
    expect(t.observedFields()).toBeNull();
    // a new call starts clean
    t.onLogLine(line('BridgeInCallService', 'incoming call from: +491701234567, autoAnswer=true'));
    t.onLogLine(line('GatewayCallAssistant', 'call metadata: caller=+4917099999999, direction=outgoing, maxDuration=300s'));
    expect(t.observedFields()).toEqual({ direction: 'incoming', number: '+491701234567' });
  });
});

describe('profiles', () => {
  it('has built-in templates for the two known phones that pass the app validation', () => {
    for (const c of KNOWN_CODENAMES) {
      const p = templateProfile(c, 'http://127.0.0.1:8996', 'tok');
      expect(validateProfile(p).ok).toBe(true);
    }
    expect(templateProfile('unknownphone', 'http://127.0.0.1:8996', 'tok')).toBeNull();
  });

  it('refuses what the app would refuse', () => {
    expect(validateProfile([])).toEqual({ ok: false, problems: ['the profile is not a JSON object'] });
    const r = validateProfile({ gateway: { base_url: ' ', bearer: '' }, playback: { candidate_order_in_app: [0, -1] } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join(' ')).toMatch(/base_url is blank.*bearer is blank.*playback has no usable device numbers/);
  });

  it('replaces the gateway section and drops the aliases', () => {
    const p = withGateway({ gateway: { baseUrl: 'x', api_key: 'y' }, beep: { mode: 'off' } }, 'http://127.0.0.1:1', 'b');
    expect(p).toEqual({ gateway: { base_url: 'http://127.0.0.1:1', bearer: 'b' }, beep: { mode: 'off' } });
  });
});

describe('masking', () => {
  it('masks numbers and bearer tokens but keeps short numbers', () => {
    const m = maskText('incoming call from: +491701234567 maxDuration=300s Authorization: Bearer abc.def "bearer": "secret"');
    expect(m).not.toContain('1701234');
    expect(m).toContain('300s');
    expect(m).not.toContain('abc.def');
    expect(m).not.toContain('secret');
  });
});

describe('session end reasons', () => {
  it('maps phone-side reasons onto the gateway session reasons', () => {
    expect(sessionEndReason('hangup_command')).toBe('hangup');
    expect(sessionEndReason('max_duration')).toBe('max_duration');
    expect(sessionEndReason('gateway_rejected')).toBe('rejected');
    expect(sessionEndReason('ended_on_phone')).toBe('phone_ended');
    expect(sessionEndReason('ended_while_disconnected')).toBe('phone_ended');
  });
});
