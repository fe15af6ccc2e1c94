/**
 * A fake adb server for tests and benchmarks: speaks the adb host protocol on a loopback port
 * (4-hex-digit length + request; OKAY / FAIL + hex4 message) and simulates phones behind it.
 *
 * Host services: host:version, host:devices(-l), host:track-devices(-l), host:transport:<serial>,
 * host:transport-any, host:tport:serial:<serial> / host:tport:any (OKAY + 8-byte transport id),
 * host:features, host-serial:<serial>:features, host:kill.
 * Device services: shell:<cmd>, shell,v2[,raw]:<cmd> (framed stdout/stderr/exit), reverse:forward:,
 * reverse:list-forward, reverse:killforward(-all), sync: (SEND/DATA/DONE, STAT, RECV, LIST, QUIT).
 *
 * Each FakeDevice answers the exact shell commands of the phone spec (§4–§7) from a small state model
 * (props, app install/permissions/role, root, rootd, files, reverse rules, call state), answers
 * CALL_COMMAND broadcasts the way the app does (logcat lines + call state) and streams logcat.
 * Everything is asynchronous: never call a synchronous child process from the hosting process.
 */
import net from 'node:net';
import { createHash } from 'node:crypto';

export const PKG = 'com.tracsystems.phonebridge';
const ALL_PERMS = ['CALL_PHONE', 'ANSWER_PHONE_CALLS', 'READ_PHONE_STATE', 'RECORD_AUDIO', 'POST_NOTIFICATIONS'].map((p) => `android.permission.${p}`);

type Exec = { stdout?: string | Buffer; stderr?: string; exit?: number };

export interface FakeDeviceOptions {
  serial: string;
  state?: string;
  model?: string;
  codename?: string;
  androidVersion?: string;
  sdk?: number;
  /** app installed + debuggable + all permissions + dialer role + battery + root + rootd (a fully set-up phone) */
  setUp?: boolean;
  shellV2?: boolean;
}

export interface CallSim {
  state: 'idle' | 'ringing' | 'dialing' | 'active';
  number: string | null;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0').toUpperCase();
}
function value(s: string | Buffer): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from(hex4(b.length)), b]);
}
function fail(msg: string): Buffer {
  return Buffer.concat([Buffer.from('FAIL'), value(msg)]);
}
const OKAY = Buffer.from('OKAY');
const pad2 = (n: number) => String(n).padStart(2, '0');

/** Reads exact byte counts from a socket. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  closed = false;
  constructor(socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.waiter?.();
    });
    const end = () => {
      this.closed = true;
      this.waiter?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }
  async read(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (this.closed) return null;
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = null;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

export class FakeDevice {
  serial: string;
  state: string;
  model: string;
  codename: string;
  transportId: number;
  shellV2: boolean;
  props: Record<string, string>;
  app = {
    installed: false,
    versionName: '0.1.0',
    debuggable: true,
    permissions: new Set<string>(),
    userId: 10234,
    /** force-stopped: broadcasts without --include-stopped-packages are not delivered */
    stopped: false,
    /** false: the app ignores call commands (no log lines) */
    responds: true,
    apk: Buffer.from('PK\x03\x04fake-apk'),
  };
  dialerHolder = 'com.google.android.dialer';
  idleWhitelist = new Set<string>();
  runAnyInBackground = 'ignore';
  lockDisabled = true;
  su: string | null = null;
  rootdInstalled = false;
  rootdRunning = false;
  unlocked = true;
  ota = '0';
  files = new Map<string, Buffer>();
  reverses = new Map<string, string>();
  call: CallSim = { state: 'idle', number: null };
  /** the voice registration state of SIM slot 1 (0 in service, 1 out of service, 2 emergency only, 3 radio off); slot 2 has no SIM */
  serviceState = 0;
  /** ms until the callee answers an outgoing call (null: never) */
  remoteAnswersAfterMs: number | null = 20;
  /** ms between "Hangup command executed" and the call being gone */
  hangupDelayMs = 20;
  /** the app logs state lines (false: only telephony state changes, e.g. a missed logcat) */
  logsStates = true;
  readonly shellLog: string[] = [];
  readonly broadcasts: { id?: string; type?: string; payload?: Record<string, unknown>; flags: string[] }[] = [];
  /** test overrides, tried first: return undefined to fall through */
  readonly overrides: ((cmd: string) => Exec | undefined)[] = [];
  private readonly logStreams = new Set<{ socket: net.Socket; v2: boolean }>();
  readonly sockets = new Set<net.Socket>();
  private pid = 4321;
  private timers = new Set<NodeJS.Timeout>();

  constructor(opts: FakeDeviceOptions, transportId: number) {
    this.serial = opts.serial;
    this.state = opts.state ?? 'device';
    this.model = opts.model ?? 'Pixel 7a';
    this.codename = opts.codename ?? 'lynx';
    this.transportId = transportId;
    this.shellV2 = opts.shellV2 ?? true;
    this.props = {
      'ro.product.model': this.model,
      'ro.product.device': this.codename,
      'ro.product.manufacturer': 'Google',
      'ro.build.version.release': opts.androidVersion ?? '15',
      'ro.build.version.sdk': String(opts.sdk ?? 35),
      'ro.build.id': 'BP4A.260205.001',
      'ro.boot.slot_suffix': '_a',
      'sys.boot_completed': '1',
      'gsm.sim.state': 'READY',
      'gsm.operator.alpha': 'TestNet',
    };
    if (opts.setUp) this.setUp();
  }

  /** A phone where everything is in order. */
  setUp(): this {
    this.app.installed = true;
    for (const p of ALL_PERMS) this.app.permissions.add(p);
    this.dialerHolder = PKG;
    this.idleWhitelist.add(PKG);
    this.runAnyInBackground = 'allow';
    this.su = '/data/adb/ap/bin/su';
    this.rootdInstalled = true;
    this.rootdRunning = true;
    this.ota = '1';
    return this;
  }

  get telephonyState(): 0 | 1 | 2 {
    return this.call.state === 'idle' ? 0 : this.call.state === 'ringing' ? 1 : 2;
  }

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Emit a logcat line (threadtime format) to every open logcat stream. */
  log(tag: string, message: string, level = 'I'): void {
    const d = new Date();
    const time = `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
    const line = Buffer.from(`${time} ${String(this.pid).padStart(5)} ${String(this.pid + 7).padStart(5)} ${level} ${tag.padEnd(8)}: ${message}\n`);
    for (const s of this.logStreams) s.socket.write(s.v2 ? packet(1, line) : line);
  }

  get logcatStreams(): number {
    return this.logStreams.size;
  }

  private setCall(state: CallSim['state'], number: string | null = this.call.number): void {
    this.call = { state, number: state === 'idle' ? null : number };
  }

  private stateLine(s: string): void {
    if (this.logsStates) this.log('BridgeInCallService', `state=${s}`);
  }

  /** The other party (or the person at the phone) hangs up. */
  remoteHangup(): void {
    if (this.call.state === 'idle') return;
    this.stateLine('disconnecting');
    this.setCall('idle');
    this.stateLine('disconnected');
    this.log('GatewayCallAssistant', 'service onDestroy');
  }

  /** An incoming call; the app auto-answers after `answerAfterMs` (null: keeps ringing). */
  incomingCall(number: string, answerAfterMs: number | null = 10): void {
    this.log('BridgeInCallService', `incoming call from: ${number}, autoAnswer=${answerAfterMs !== null}`);
    this.setCall('ringing', number);
    this.stateLine('ringing');
    if (answerAfterMs !== null)
      this.later(answerAfterMs, () => {
        if (this.call.state !== 'ringing') return;
        this.log('BridgeInCallService', `auto-answering incoming call from ${number}`);
        this.setCall('active');
        this.stateLine('active');
        this.log('GatewayCallAssistant', `call metadata: caller=${number}, direction=incoming, maxDuration=300s`);
      });
  }

  /** The app's own hang-up (max duration, silence, gateway hangup): a reason line, then disconnect. */
  appHangsUp(reasonLine: string): void {
    this.log('GatewayCallAssistant', reasonLine);
    this.remoteHangup();
  }

  private commandFailed(reason: string, exception = 'java.lang.IllegalStateException'): void {
    this.log('CallCommandExecutor', 'command failed', 'E');
    this.log('CallCommandExecutor', `${exception}: ${reason}`, 'E');
    this.log('CallCommandExecutor', '\tat com.tracsystems.phonebridge.CallCommandExecutor.execute(CallCommandExecutor.kt:42)', 'E');
  }

  /** What the app does with a CALL_COMMAND. */
  private onCallCommand(cmd: { type?: string; payload?: Record<string, unknown> }): void {
    const p = cmd.payload ?? {};
    switch (cmd.type) {
      case 'dial': {
        if (!this.app.permissions.has('android.permission.CALL_PHONE')) return this.commandFailed('CALL_PHONE permission missing', 'java.lang.SecurityException');
        if (this.call.state !== 'idle') return this.commandFailed('Call already in progress');
        const number = String(p.number ?? '');
        this.log('AndroidTelecomCtrl', `Dial command executed: ${number}`);
        this.setCall('dialing', number);
        this.stateLine('dialing');
        if (this.remoteAnswersAfterMs !== null)
          this.later(this.remoteAnswersAfterMs, () => {
            if (this.call.state !== 'dialing') return;
            this.setCall('active');
            this.stateLine('active');
            this.log('GatewayCallAssistant', `call metadata: caller=${number}, direction=outgoing, maxDuration=300s`);
          });
        return;
      }
      case 'hangup':
        if (this.call.state === 'idle') return this.commandFailed('No active call available to hang up');
        this.log('AndroidTelecomCtrl', 'Hangup command executed');
        this.later(this.hangupDelayMs, () => this.remoteHangup());
        return;
      case 'answer':
        if (this.call.state !== 'ringing') return this.commandFailed('No ringing call to answer');
        this.log('AndroidTelecomCtrl', 'Answer command executed');
        this.setCall('active');
        this.stateLine('active');
        return;
      case 'reject':
        if (this.call.state !== 'ringing') return this.commandFailed('No ringing call to reject');
        this.log('AndroidTelecomCtrl', 'Reject command executed');
        this.setCall('idle');
        this.stateLine('disconnected');
        return;
      case 'mute':
        if (typeof p.muted !== 'boolean') return this.commandFailed('muted must be a boolean', 'java.lang.IllegalArgumentException');
        this.log('AndroidTelecomCtrl', 'Mute command executed');
        return;
      case 'speaker':
        if (typeof p.enabled !== 'boolean') return this.commandFailed('enabled must be a boolean', 'java.lang.IllegalArgumentException');
        this.log('AndroidTelecomCtrl', 'Speaker command executed');
        return;
      default:
        return this.commandFailed(`Unknown command: ${cmd.type}`, 'java.lang.IllegalArgumentException');
    }
  }

  private broadcast(words: string[]): Exec {
    const done = { stdout: 'Broadcasting: Intent { act=com.tracsystems.phonebridge.CALL_COMMAND flg=0x400000 cmp=com.tracsystems.phonebridge/.CallCommandReceiver }\nBroadcast completed: result=0\n' };
    const flags = words.filter((w) => w.startsWith('--include'));
    const extras: Record<string, string> = {};
    for (let i = 0; i < words.length; i++) if (words[i] === '--es' || words[i] === '--ez') extras[words[i + 1]] = words[i + 2];
    let cmd: { id?: string; type?: string; payload?: Record<string, unknown> } = {};
    let bad = false;
    if (extras.payload_b64) {
      try {
        cmd = JSON.parse(Buffer.from(extras.payload_b64, 'base64').toString('utf8'));
      } catch {
        bad = true;
      }
    } else cmd = { type: extras.type, payload: extras.number ? { number: extras.number } : {} };
    this.broadcasts.push({ ...cmd, flags });
    const component = words[words.indexOf('-n') + 1];
    if (!this.app.installed || component !== `${PKG}/.CallCommandReceiver` || !this.app.responds) return done;
    if (this.app.stopped && !flags.includes('--include-stopped-packages')) return done;
    this.later(2, () => (bad ? this.log('CallCommandReceiver', 'failed to process call command', 'E') : this.onCallCommand(cmd)));
    return done;
  }

  private appFile(rel: string): string {
    return `/data/data/${PKG}/${rel}`;
  }

  /** A nested command run as the app (run-as) or as root (su): && chains of simple commands. */
  private runInner(inner: string, base: string): Exec {
    let out = '';
    for (const part of inner.split(' && ')) {
      const w = part.trim().split(/\s+/);
      const abs = (p: string) => (p.startsWith('/') ? p : `${base}/${p}`);
      if (w[0] === 'mkdir') continue;
      if (w[0] === 'echo' && w[2] === '|' && w[3] === 'base64' && w[5] === '>') {
        this.files.set(abs(w[6]), Buffer.from(w[1], 'base64'));
        continue;
      }
      if (w[0] === 'rm') {
        const target = abs(w[w.length - 1]);
        for (const k of [...this.files.keys()]) if (k === target || k.startsWith(`${target}/`)) this.files.delete(k);
        continue;
      }
      if (w[0] === 'cat') {
        const f = this.files.get(abs(w[1]));
        if (!f) return { stderr: `cat: ${w[1]}: No such file or directory\n`, exit: 1 };
        out += f.toString('utf8');
        continue;
      }
      if (w[0] === 'ls') {
        const dir = abs(w[1]);
        const names = [...this.files.keys()].filter((k) => k.startsWith(`${dir}/`)).map((k) => k.slice(dir.length + 1));
        if (!names.length) return { stderr: `ls: ${w[1]}: No such file or directory\n`, exit: 1 };
        out += names.join('\n') + '\n';
        continue;
      }
      if (w[0] === 'chown' || w[0] === 'restorecon' || w[0] === 'id') {
        if (w[0] === 'id') out += 'uid=0(root) gid=0(root) groups=0(root) context=u:r:magisk:s0\n';
        continue;
      }
      if (w[0] === 'nohup' && w[2] === '/data/adb/service.d/phonebridge-rootd.sh') {
        if (this.rootdInstalled) this.later(5, () => (this.rootdRunning = true));
        continue;
      }
      return { stderr: `/system/bin/sh: ${w[0]}: not found\n`, exit: 127 };
    }
    return { stdout: out, exit: 0 };
  }

  /** Answer one shell command line (the phone side of the spec's commands). */
  async exec(cmdline: string, server: FakeAdbServer): Promise<Exec> {
    this.shellLog.push(cmdline);
    for (const o of this.overrides) {
      const r = o(cmdline);
      if (r) return r;
    }
    const nested = cmdline.match(/^(\S+) -c '(.*)'$/s);
    if (nested && nested[1] !== 'run-as') {
      if (nested[1] !== this.su) return { stderr: `/system/bin/sh: ${nested[1]}: inaccessible or not found\n`, exit: 127 };
      return this.runInner(nested[2], `/data/data/${PKG}/files`);
    }
    const runAsSh = cmdline.match(/^run-as (\S+) sh -c '(.*)'$/s);
    if (runAsSh) {
      if (!this.app.installed) return { stderr: `run-as: unknown package: ${runAsSh[1]}\n`, exit: 1 };
      if (!this.app.debuggable) return { stderr: `run-as: package not debuggable: ${runAsSh[1]}\n`, exit: 1 };
      return this.runInner(runAsSh[2], this.appFile('files').replace(/\/files$/, ''));
    }
    const w = cmdline.split(' ');
    const [c0, c1, c2] = w;
    const pipe = cmdline.split(' | ');
    if (pipe.length > 1) {
      if (pipe[0] === 'echo CMD_B64:aWQ=' && pipe[1] === 'nc 127.0.0.1 48733')
        return this.rootdRunning ? { stdout: 'uid=0(root) gid=0(root) groups=0(root)\n__PB_EXIT__:0\n' } : { exit: 1 };
      const reach = cmdline.match(/^echo (\S+) \| base64 -d \| nc 127\.0\.0\.1 (\d+)$/);
      if (reach) {
        const local = this.reverses.get(`tcp:${reach[2]}`);
        if (!local) return { exit: 1 };
        return { stdout: await httpThrough(Number(local.replace('tcp:', '')), Buffer.from(reach[1], 'base64')) };
      }
      return { stderr: 'unsupported pipeline\n', exit: 127 };
    }
    if (c0 === 'getprop') return c1 ? { stdout: `${this.props[c1] ?? ''}\n` } : { stdout: Object.entries(this.props).map(([k, v]) => `[${k}]: [${v}]`).join('\n') + '\n' };
    if (c0 === 'date' && c1 === '+%s') return { stdout: `${Math.floor(Date.now() / 1000)}\n` };
    if (cmdline === 'dumpsys user') return { stdout: `Users:\n  UserInfo{0:Owner:c13} ${this.unlocked ? 'RUNNING_UNLOCKED' : 'RUNNING_LOCKED'}\n` };
    if (cmdline === `pm path ${PKG}`) return this.app.installed ? { stdout: `package:/data/app/~~abc==/${PKG}-xyz==/base.apk\n` } : { exit: 1 };
    if (cmdline === `dumpsys package ${PKG}`) {
      if (!this.app.installed) return { stdout: '' };
      const perms = ALL_PERMS.map((p) => `      ${p}: granted=${this.app.permissions.has(p)}`).join('\n');
      return { stdout: `Packages:\n  Package [${PKG}] (abc):\n    userId=${this.app.userId}\n    versionCode=1 minSdk=29 targetSdk=35\n    versionName=${this.app.versionName}\n    pkgFlags=[ ${this.app.debuggable ? 'DEBUGGABLE ' : ''}HAS_CODE ALLOW_CLEAR_USER_DATA ]\n    runtime permissions:\n${perms}\n` };
    }
    if (c0 === 'sha256sum') return { stdout: `${createHash('sha256').update(this.app.apk).digest('hex')}  ${c1}\n` };
    if (c0 === 'cmd' && c1 === 'role') {
      if (c2 === 'get-role-holders') return { stdout: `${this.dialerHolder}\n` };
      if (c2 === 'add-role-holder') {
        if (this.app.installed && w[4] === PKG) this.dialerHolder = PKG;
        return {};
      }
    }
    if (cmdline === 'dumpsys deviceidle whitelist') return { stdout: [...this.idleWhitelist].map((p) => `user,${p},${this.app.userId}`).join('\n') + '\n' };
    if (c0 === 'dumpsys' && c1 === 'deviceidle' && w[3]?.startsWith('+')) {
      this.idleWhitelist.add(w[3].slice(1));
      return { stdout: `Added: ${w[3].slice(1)}\n` };
    }
    if (cmdline === `cmd appops get ${PKG} RUN_ANY_IN_BACKGROUND`) return { stdout: `RUN_ANY_IN_BACKGROUND: ${this.runAnyInBackground}\n` };
    if (cmdline === `cmd appops set ${PKG} RUN_ANY_IN_BACKGROUND allow`) {
      this.runAnyInBackground = 'allow';
      return {};
    }
    if (cmdline === `am get-standby-bucket ${PKG}`) return { stdout: '10\n' };
    if (cmdline === 'locksettings get-disabled') return { stdout: `${this.lockDisabled}\n` };
    if (cmdline === 'settings get global airplane_mode_on') return { stdout: '0\n' };
    if (cmdline === 'settings get global ota_disable_automatic_update') return { stdout: `${this.ota}\n` };
    if (cmdline === 'settings put global ota_disable_automatic_update 1') {
      this.ota = '1';
      return {};
    }
    if (cmdline === 'dumpsys battery') return { stdout: 'Current Battery Service state:\n  AC powered: false\n  USB powered: true\n  level: 87\n  temperature: 312\n' };
    if (cmdline === 'dumpsys telephony.registry') {
      const reg = (n: number) => `mServiceState={mVoiceRegState=${n}(${['IN_SERVICE', 'OUT_OF_SERVICE', 'EMERGENCY_ONLY', 'POWER_OFF'][n]}), mDataRegState=${n}(${['IN_SERVICE', 'OUT_OF_SERVICE', 'EMERGENCY_ONLY', 'POWER_OFF'][n]}), mChannelNumber=-1}`;
      return { stdout: `last known state:\n  Phone Id=0\n  mCallState=${this.telephonyState}\n  mCallIncomingNumber=\n  ${reg(this.serviceState)}\n  Phone Id=1\n  mCallState=0\n  ${reg(1)}\n` };
    }
    if (c0 === 'cat') {
      const f = this.files.get(c1);
      return f ? { stdout: f } : { stderr: `cat: ${c1}: No such file or directory\n`, exit: 1 };
    }
    if (c0 === 'mkdir') return {};
    if (c0 === 'rm') {
      this.files.delete(w[w.length - 1]);
      return {};
    }
    if (c0 === 'run-as') {
      if (!this.app.installed) return { stderr: `run-as: unknown package: ${c1}\n`, exit: 1 };
      if (!this.app.debuggable) return { stderr: `run-as: package not debuggable: ${c1}\n`, exit: 1 };
      return this.runInner(w.slice(2).join(' '), `/data/data/${PKG}`);
    }
    if (c0 === 'pm' && c1 === 'grant') {
      if (!this.app.installed) return { stderr: `Exception occurred while executing 'grant': Unknown package: ${c2}\n`, exit: 255 };
      this.app.permissions.add(w[3]);
      return {};
    }
    if (c0 === 'pm' && c1 === 'install') {
      const apk = this.files.get(w[w.length - 1]);
      if (!apk || apk.readUInt32LE(0) !== 0x04034b50) return { stdout: 'Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse]\n', exit: 1 };
      this.app.installed = true;
      this.app.apk = Buffer.from(apk);
      if (w.includes('-g')) for (const p of ALL_PERMS) this.app.permissions.add(p);
      return { stdout: 'Performing Streamed Install\nSuccess\n' };
    }
    if (c0 === 'am' && c1 === 'start') {
      if (!this.app.installed) return { stderr: `Error: Activity class {${w[3]}} does not exist.\n`, exit: 1 };
      this.app.stopped = false;
      return { stdout: `Starting: Intent { cmp=${w[3]} }\n` };
    }
    if (c0 === 'am' && c1 === 'broadcast') return this.broadcast(w);
    if (c0 === 'am' && c1 === 'force-stop') {
      this.app.stopped = true;
      return {};
    }
    if (/^\S+$/.test(c0) && c1 === '-c' && c2 === 'id' && w.length === 3) {
      return c0 === this.su ? { stdout: 'uid=0(root) gid=0(root) groups=0(root)\n' } : { stderr: `/system/bin/sh: ${c0}: inaccessible or not found\n`, exit: 127 };
    }
    void server;
    return { stderr: `/system/bin/sh: ${c0}: not found\n`, exit: 127 };
  }

  addLogStream(socket: net.Socket, v2: boolean): void {
    const entry = { socket, v2 };
    this.logStreams.add(entry);
    socket.once('close', () => this.logStreams.delete(entry));
  }
}

function packet(id: number, data: Buffer | string): Buffer {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
  const h = Buffer.alloc(5);
  h[0] = id;
  h.writeUInt32LE(b.length, 1);
  return Buffer.concat([h, b]);
}

/** What `nc` on the phone would get through a reverse rule: the host port's raw answer. */
function httpThrough(port: number, request: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => s.destroy(), 3000);
    s.on('connect', () => s.write(request));
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

export interface RequestRecord {
  serial: string | null;
  service: string;
}

export class FakeAdbServer {
  readonly devices = new Map<string, FakeDevice>();
  readonly requests: RequestRecord[] = [];
  private readonly trackers = new Set<{ socket: net.Socket; long: boolean }>();
  private readonly sockets = new Set<net.Socket>();
  private nextTransport = 1;
  private constructor(private readonly server: net.Server, public port: number) {}

  static async start(port = 0): Promise<FakeAdbServer> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const fake = new FakeAdbServer(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (s) => fake.onConnection(s));
    return fake;
  }

  /** Connected sockets (trackers, shells, logcat streams). */
  get connectionCount(): number {
    return this.sockets.size;
  }

  get trackerCount(): number {
    return this.trackers.size;
  }

  /** Plug a phone in (or bring an existing FakeDevice back). */
  plug(d: FakeDeviceOptions | FakeDevice): FakeDevice {
    const dev = d instanceof FakeDevice ? d : new FakeDevice(d, this.nextTransport++);
    if (d instanceof FakeDevice) dev.transportId = this.nextTransport++;
    this.devices.set(dev.serial, dev);
    this.notify();
    return dev;
  }

  /** Unplug: the device's connections drop and its reverse rules vanish (they live in the adb connection). */
  unplug(serial: string): FakeDevice | undefined {
    const dev = this.devices.get(serial);
    if (!dev) return undefined;
    this.devices.delete(serial);
    dev.reverses.clear();
    for (const s of dev.sockets) s.destroy();
    dev.sockets.clear();
    this.notify();
    return dev;
  }

  setState(serial: string, state: string): void {
    const dev = this.devices.get(serial);
    if (!dev) return;
    dev.state = state;
    if (state !== 'device') for (const s of dev.sockets) s.destroy();
    this.notify();
  }

  /**
   * Reboot: gone for `downMs`, then back still booting (`sys.boot_completed` 0 for `bootMs`), with
   * the reverse rule gone, the dialer role back at the stock dialer, rootd stopped, the call dropped.
   */
  reboot(serial: string, downMs = 30, bootMs = 30): void {
    const dev = this.unplug(serial);
    if (!dev) return;
    dev.dialerHolder = 'com.google.android.dialer';
    dev.rootdRunning = false;
    dev.call = { state: 'idle', number: null };
    dev.props['sys.boot_completed'] = '0';
    setTimeout(() => {
      this.plug(dev);
      setTimeout(() => (dev.props['sys.boot_completed'] = '1'), bootMs);
    }, downMs);
  }

  /** Like `adb kill-server` + restart: every connection drops, every reverse rule is lost. */
  restartServer(): void {
    for (const d of this.devices.values()) d.reverses.clear();
    for (const s of this.sockets) s.destroy();
  }

  /** All shell command lines received (optionally of one device). */
  shellCommands(serial?: string): string[] {
    return this.requests.filter((r) => r.serial !== null && (!serial || r.serial === serial) && /^shell[,:]/.test(r.service)).map((r) => r.service.replace(/^shell(,[^:]*)?:/, ''));
  }

  async close(): Promise<void> {
    for (const d of this.devices.values()) d.clearTimers();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private listText(long: boolean): string {
    return [...this.devices.values()]
      .map((d) => {
        if (!long) return `${d.serial}\t${d.state}\n`;
        const state = d.state === 'no permissions' ? 'no permissions (missing udev rules? user is in the plugdev group); see [http://developer.android.com/tools/device.html]' : d.state;
        const info = d.state === 'device' ? ` product:${d.codename} model:${d.model.replace(/ /g, '_')} device:${d.codename}` : '';
        return `${d.serial.padEnd(22)} ${state} usb:1-${d.transportId}${info} transport_id:${d.transportId}\n`;
      })
      .join('');
  }

  private notify(): void {
    for (const t of this.trackers) t.socket.write(value(this.listText(t.long)));
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const reader = new ByteReader(socket);
    void this.serve(socket, reader).catch(() => socket.destroy());
  }

  private async readRequest(reader: ByteReader): Promise<string | null> {
    const len = await reader.read(4);
    if (!len) return null;
    const n = Number.parseInt(len.toString('ascii'), 16);
    if (!Number.isFinite(n)) return null;
    const body = await reader.read(n);
    return body ? body.toString('utf8') : null;
  }

  private async serve(socket: net.Socket, reader: ByteReader): Promise<void> {
    let device: FakeDevice | null = null;
    for (;;) {
      const req = await this.readRequest(reader);
      if (req === null) return void socket.end();
      this.requests.push({ serial: device?.serial ?? null, service: req });
      if (!device) {
        if (req === 'host:version') return void socket.end(Buffer.concat([OKAY, value('0029')]));
        if (req === 'host:devices' || req === 'host:devices-l') return void socket.end(Buffer.concat([OKAY, value(this.listText(req.endsWith('-l')))]));
        if (req === 'host:track-devices' || req === 'host:track-devices-l') {
          const t = { socket, long: req.endsWith('-l') };
          this.trackers.add(t);
          socket.once('close', () => this.trackers.delete(t));
          socket.write(Buffer.concat([OKAY, value(this.listText(t.long))]));
          return;
        }
        if (req === 'host:kill') {
          socket.end(OKAY);
          this.restartServer();
          return;
        }
        const feat = req.match(/^host(?:-serial:([^:]+))?:features$/);
        if (feat) return void socket.end(Buffer.concat([OKAY, value('shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir')]));
        const tr = req.match(/^host:(transport|tport):(?:serial:)?(.+)$/) ?? req.match(/^host:(transport)-(any)$/);
        if (tr) {
          const tport = tr[1] === 'tport';
          const target = tr[2];
          const dev = target === 'any' ? (this.devices.size === 1 ? [...this.devices.values()][0] : null) : this.devices.get(target);
          if (!dev) return void socket.end(fail(target === 'any' ? (this.devices.size ? 'more than one device/emulator' : 'no devices/emulators found') : `device '${target}' not found`));
          if (dev.state === 'unauthorized')
            return void socket.end(fail("device unauthorized.\nThis adb server's $ADB_VENDOR_KEYS is not set\nTry 'adb kill-server' if that seems wrong.\nOtherwise check for a confirmation dialog on your device."));
          if (dev.state === 'no permissions') return void socket.end(fail('insufficient permissions for device: missing udev rules? user is in the plugdev group'));
          if (dev.state !== 'device') return void socket.end(fail(`device ${dev.state}`));
          device = dev;
          dev.sockets.add(socket);
          socket.once('close', () => dev.sockets.delete(socket));
          if (tport) {
            const id = Buffer.alloc(8);
            id.writeBigUInt64LE(BigInt(dev.transportId));
            socket.write(Buffer.concat([OKAY, id]));
          } else socket.write(OKAY);
          continue;
        }
        return void socket.end(fail(`unknown host service '${req}'`));
      }
      await this.serveDevice(device, req, socket, reader);
      return;
    }
  }

  private async serveDevice(dev: FakeDevice, req: string, socket: net.Socket, reader: ByteReader): Promise<void> {
    const shell = req.match(/^shell(,[^:]*)?:(.*)$/s);
    if (shell) {
      const v2 = !!shell[1]?.includes('v2');
      if (v2 && !dev.shellV2) return void socket.end(fail('closed'));
      socket.write(OKAY);
      const cmdline = shell[2];
      if (/^logcat( |$)/.test(cmdline)) {
        dev.addLogStream(socket, v2);
        return;
      }
      const r = await dev.exec(cmdline, this);
      const stdout = r.stdout ?? '';
      if (socket.destroyed) return;
      if (v2) {
        const parts: Buffer[] = [];
        if (stdout.length) parts.push(packet(1, stdout));
        if (r.stderr) parts.push(packet(2, r.stderr));
        parts.push(packet(3, Buffer.from([r.exit ?? 0])));
        socket.end(Buffer.concat(parts));
      } else socket.end(Buffer.concat([Buffer.isBuffer(stdout) ? stdout : Buffer.from(stdout), Buffer.from(r.stderr ?? '')]));
      return;
    }
    const fwd = req.match(/^reverse:forward:(?:norebind:)?(tcp:\d+);(tcp:\d+)$/);
    if (fwd) {
      dev.reverses.set(fwd[1], fwd[2]);
      return void socket.end(Buffer.concat([OKAY, OKAY]));
    }
    if (req === 'reverse:list-forward') {
      const text = [...dev.reverses.entries()].map(([r, l]) => `UsbFfs ${r} ${l}\n`).join('');
      return void socket.end(Buffer.concat([OKAY, value(text)]));
    }
    const kill = req.match(/^reverse:killforward:(tcp:\d+)$/);
    if (kill) {
      dev.reverses.delete(kill[1]);
      return void socket.end(Buffer.concat([OKAY, OKAY]));
    }
    if (req === 'reverse:killforward-all') {
      dev.reverses.clear();
      return void socket.end(Buffer.concat([OKAY, OKAY]));
    }
    if (req === 'sync:') {
      socket.write(OKAY);
      await this.serveSync(dev, socket, reader);
      return;
    }
    socket.end(fail(`unknown device service '${req}'`));
  }

  private async serveSync(dev: FakeDevice, socket: net.Socket, reader: ByteReader): Promise<void> {
    for (;;) {
      const head = await reader.read(8);
      if (!head) return;
      const id = head.subarray(0, 4).toString('ascii');
      const len = head.readUInt32LE(4);
      if (id === 'QUIT') return void socket.end();
      const arg = (await reader.read(len))?.toString('utf8');
      if (arg === undefined) return;
      if (id === 'SEND') {
        const comma = arg.lastIndexOf(',');
        const path = arg.slice(0, comma);
        const chunks: Buffer[] = [];
        for (;;) {
          const h = await reader.read(8);
          if (!h) return;
          const kind = h.subarray(0, 4).toString('ascii');
          const n = h.readUInt32LE(4);
          if (kind === 'DATA') {
            const data = await reader.read(n);
            if (!data) return;
            chunks.push(Buffer.from(data));
          } else if (kind === 'DONE') break;
          else return void socket.end(Buffer.concat([Buffer.from('FAIL'), le32(11), Buffer.from('bad request')]));
        }
        dev.files.set(path, Buffer.concat(chunks));
        this.requests.push({ serial: dev.serial, service: `sync:SEND ${path}` });
        socket.write(Buffer.concat([OKAY, le32(0)]));
        continue;
      }
      if (id === 'STAT') {
        const f = dev.files.get(arg);
        const b = Buffer.alloc(16);
        b.write('STAT', 0, 'ascii');
        if (f) {
          b.writeUInt32LE(0o100644, 4);
          b.writeUInt32LE(f.length, 8);
          b.writeUInt32LE(Math.floor(Date.now() / 1000), 12);
        }
        socket.write(b);
        continue;
      }
      if (id === 'RECV') {
        const f = dev.files.get(arg);
        if (!f) {
          const msg = Buffer.from('No such file or directory');
          socket.write(Buffer.concat([Buffer.from('FAIL'), le32(msg.length), msg]));
          continue;
        }
        socket.write(Buffer.concat([Buffer.from('DATA'), le32(f.length), f, Buffer.from('DONE'), le32(0)]));
        continue;
      }
      if (id === 'LIST') {
        socket.write(Buffer.concat([Buffer.from('DONE'), Buffer.alloc(16)]));
        continue;
      }
      return void socket.end();
    }
  }
}

function le32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
