/**
 * The USB phone bridge: follows the adb server's device list, keeps every phone in working order
 * (reverse port, dialer role, rootd — phone spec §4.5), runs the health checks of §6, places and ends
 * calls through the app's CALL_COMMAND broadcast and confirms them from the phone, and tells the
 * gateway when a call really ended.
 *
 * Events (EventEmitter): `callStarted`, `callChanged`, `callEnded`, `deviceReady`, `deviceRemoved`,
 * `alert`, `adbStatus`. Bus events: `device.added|removed|changed|check|alert` (session_id '').
 */
import { EventEmitter } from 'node:events';
import type { EventBus } from '../events/bus';
import { dialableNumber } from '../../src-shared/text/phone-number';
import type { CallControl, CallControlResult } from './call-control';
import { AdbClient, AdbError, toAdbError, type TrackedDevice } from './adb-client';
import { defaultSerial, findAdbBinary, isLoopbackHost, resolveAdbEndpoint, startAdbServer, type AdbBinary } from './adb-server';
import { CallTracker, parseTelephonyCallState, type CallEnded, type CallInfo } from './call-tracker';
import { callCommandLine, CommandWatcher, type CallCommandPayload, type CallCommandType } from './call-commands';
import { evaluateChecks, explainState, gatherFacts, hasReverseRule, skippedChecks, worstStatus, type Probe } from './checks';
import { DIALER_ROLE, PKG } from './constants';
import { LogcatMonitor, matchesFilter, type LogFilter, type LogLine } from './logcat';
import { maskMaybe, maskText } from './mask';
import { sh } from './shell';
import * as setup from './setup';
import type { ActionId, ActionResult, AdbStatus, DeviceDetail, DeviceFacts, DeviceSummary, HealthCheck } from './types';

export interface PhoneBridgeConfig {
  adb_host: string;
  adb_port: number;
  adb_serial: string;
  adb_path: string;
  /** the gateway's configured port (0 = any: then `gatewayPort` tells the bound one) */
  port: number;
  adb_reverse_port: number;
  adb_confirm_timeout_ms: number;
  adb_command_timeout_ms: number;
  adb_auto_upkeep: boolean;
  adb_call_poll_ms: number;
  adb_start_server: boolean;
}

export interface PhoneBridgeOptions {
  /** read when needed, so live config edits apply (adb host/port changes need `restart()`) */
  config: () => PhoneBridgeConfig;
  bus?: EventBus;
  /** default process.env (ANDROID_ADB_SERVER_PORT, ADB_SERVER_SOCKET, ANDROID_SERIAL, PATH) */
  env?: Record<string, string | undefined>;
  /** the running gateway's bearer ('' = no auth): used for reachability and profile checks */
  gatewayBearer?: () => string;
  /** the gateway's bearer, generated and saved first if none is set (used by push_profile) */
  ensureGatewayBearer?: () => Promise<string>;
  /** the port the gateway is actually bound to (its config `port` may be 0); default: config `port` */
  gatewayPort?: () => number;
  /** recent gateway log lines for the diagnostics bundle */
  gatewayLog?: () => string[] | Promise<string[]>;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

export interface DeviceAlert {
  serial: string;
  level: 'critical' | 'warning' | 'info';
  /** critical/warning codes raise a problem; info codes report the recovery (the console clears the device's problems) */
  code: 'reverse_lost_in_call' | 'reverse_restored' | 'adb_server_lost' | 'adb_server_restored' | 'call_ended_while_disconnected';
  message: string;
}

export interface PhoneBridgeEvents {
  callStarted: [CallInfo];
  callChanged: [CallInfo];
  callEnded: [CallEnded];
  deviceReady: [DeviceDetail];
  deviceRemoved: [{ serial: string; reason: 'unplugged' | 'adb_server_lost' | 'stopped' }];
  alert: [DeviceAlert];
  adbStatus: [AdbStatus];
}

export type CallCommandOptions = { serial?: string };

interface DeviceRecord {
  serial: string;
  tracked: TrackedDevice;
  connectedAt: number;
  /** bumped whenever the device goes away or changes state: running upkeep for an old generation stops */
  generation: number;
  facts: DeviceFacts | null;
  checks: HealthCheck[];
  checkedAt: number | null;
  reverseActive: boolean;
  ready: boolean;
  upkeep: { step: string; ok: boolean; detail: string }[];
  logcat: LogcatMonitor | null;
  checking: Promise<HealthCheck[]> | null;
  queue: Promise<unknown>;
  watchers: Set<CommandWatcher>;
}

/** How long upkeep waits for the first unlock after a boot before giving up on role and rootd. */
const UNLOCK_WAIT_MS = 120_000;

const ADB_UNSTARTED: AdbStatus = { ok: false, detail: 'The phone bridge has not started yet.', host: '', port: 0, version: null, binary: null };

export class AdbPhoneBridge extends EventEmitter<PhoneBridgeEvents> implements CallControl {
  private client: AdbClient | null = null;
  private adb: AdbStatus = { ...ADB_UNSTARTED };
  private readonly devices = new Map<string, DeviceRecord>();
  /** call trackers outlive a device's disappearance (unplugged mid-call) */
  private readonly calls = new Map<string, CallTracker>();
  private readonly polls = new Map<string, NodeJS.Timeout>();
  private tracker: { close(): void } | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = 250;
  private lastServerStart = 0;
  /** the adb server went away (alerted): say so when it is back */
  private adbLost = false;
  private lifecycle: Promise<unknown> = Promise.resolve();
  private binary: AdbBinary | null = null;
  private running = false;
  private readonly env: Record<string, string | undefined>;

  constructor(private readonly opts: PhoneBridgeOptions) {
    super();
    this.env = opts.env ?? process.env;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Connect to (or start) the adb server and follow its devices. Never throws: see `status().adb`. */
  async start(): Promise<AdbStatus> {
    if (this.running) return this.adb;
    this.running = true;
    const cfg = this.opts.config();
    const ep = resolveAdbEndpoint(cfg, this.env);
    this.client = new AdbClient({ host: ep.host, port: ep.port });
    this.adb = { ok: false, detail: 'Connecting to the adb server…', host: ep.host, port: ep.port, version: null, binary: null };
    await this.connect();
    return this.adb;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.tracker?.close();
    this.tracker = null;
    for (const serial of [...this.devices.keys()]) this.dropDevice(serial, 'stopped', false);
    for (const t of this.polls.values()) clearInterval(t);
    this.polls.clear();
    for (const c of this.calls.values()) c.removeAllListeners();
    this.calls.clear();
    this.client?.destroy();
    this.client = null;
    this.adb = { ...ADB_UNSTARTED, detail: 'The phone bridge is stopped.' };
  }

  /**
   * Stop and start again with the current config (after adb_host/adb_port/adb_path changes). A bridge
   * that is not running stays stopped; overlapping restarts run one after the other.
   */
  restart(): Promise<AdbStatus> {
    const next = this.lifecycle.then(async () => {
      if (!this.running) return { ...this.adb };
      this.log('info', 'restarting the phone bridge (adb settings changed)');
      await this.stop();
      this.binary = null;
      this.lastServerStart = 0;
      return this.start();
    });
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  private setAdb(next: Partial<AdbStatus>): void {
    const prev = this.adb;
    this.adb = { ...this.adb, ...next };
    if (prev.ok !== this.adb.ok || prev.detail !== this.adb.detail) this.emit('adbStatus', { ...this.adb });
  }

  private async connect(): Promise<void> {
    if (!this.running || !this.client) return;
    const cfg = this.opts.config();
    const client = this.client;
    try {
      let version: number;
      try {
        version = await client.version();
      } catch (e) {
        const err = toAdbError(e);
        if (err.code !== 'server_unreachable' && err.code !== 'timeout') throw err;
        await this.startServerIfAllowed(cfg);
        version = await client.version();
      }
      if (!this.running || this.client !== client) return;
      const handle = await client.trackDevices(
        (list) => this.onDeviceList(list),
        () => this.onTrackerLost(),
      );
      if (!this.running || this.client !== client) {
        handle.close();
        return;
      }
      this.tracker = handle;
      this.reconnectDelay = 250;
      if (this.adbLost) {
        this.adbLost = false;
        this.alert({ serial: '', level: 'info', code: 'adb_server_restored', message: 'The adb server is back: phones are reconnecting.' });
      }
      this.setAdb({ ok: true, detail: `adb server ${this.adb.host}:${this.adb.port} (version ${version})`, version, binary: this.binary?.ok ? this.binary.path : this.adb.binary });
    } catch (e) {
      const err = toAdbError(e);
      this.setAdb({ ok: false, detail: err.message });
      this.log('warn', 'adb not available', { detail: err.message });
      this.scheduleReconnect();
    }
  }

  private async startServerIfAllowed(cfg: PhoneBridgeConfig): Promise<void> {
    const { host, port } = this.adb;
    if (!cfg.adb_start_server) throw new AdbError('server_unreachable', `No adb server is running at ${host}:${port} (starting one is switched off: adb_start_server).`);
    if (!isLoopbackHost(host)) throw new AdbError('server_unreachable', `No adb server answers at ${host}:${port}. Start it on that machine or fix adb_host/adb_port.`);
    this.binary ??= await findAdbBinary(cfg.adb_path, this.env);
    if (!this.binary.ok) throw new AdbError('adb_missing', this.binary.detail);
    if (Date.now() - this.lastServerStart < 10_000) throw new AdbError('server_unreachable', `The adb server at ${host}:${port} is not answering (restarting it).`);
    this.lastServerStart = Date.now();
    this.setAdb({ binary: this.binary.path, detail: `Starting the adb server (${this.binary.path})…` });
    await startAdbServer(this.binary.path, port);
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  private onTrackerLost(): void {
    this.tracker = null;
    if (!this.running) return;
    this.setAdb({ ok: false, detail: 'Lost the connection to the adb server; reconnecting…' });
    const live = [...this.devices.keys()].filter((s) => this.calls.get(s)?.live);
    for (const serial of [...this.devices.keys()]) this.dropDevice(serial, 'adb_server_lost', true);
    if (!live.length) {
      this.adbLost = true;
      this.alert({ serial: '', level: 'warning', code: 'adb_server_lost', message: 'The adb server went away: phones are reconnected as soon as it is back.' });
    }
    this.scheduleReconnect();
  }

  // ---------------------------------------------------------------- device list

  private onDeviceList(list: TrackedDevice[]): void {
    if (!this.running) return;
    const seen = new Set<string>();
    for (const d of list) {
      seen.add(d.serial);
      const rec = this.devices.get(d.serial);
      if (!rec) {
        const fresh: DeviceRecord = {
          serial: d.serial,
          tracked: d,
          connectedAt: Date.now(),
          generation: 0,
          facts: null,
          checks: [],
          checkedAt: null,
          reverseActive: false,
          ready: false,
          upkeep: [],
          logcat: null,
          checking: null,
          queue: Promise.resolve(),
          watchers: new Set(),
        };
        this.devices.set(d.serial, fresh);
        this.publish('device.added', this.summary(fresh));
        if (d.state === 'device') this.upkeepInBackground(fresh);
        else this.setNotUsable(fresh);
      } else if (rec.tracked.state !== d.state || rec.tracked.model !== d.model) {
        const wasUsable = rec.tracked.state === 'device';
        rec.tracked = d;
        if (d.state === 'device' && !wasUsable) this.upkeepInBackground(rec);
        else if (d.state !== 'device' && wasUsable) {
          this.detach(rec);
          this.setNotUsable(rec);
        } else this.publish('device.changed', this.summary(rec));
      }
    }
    for (const serial of [...this.devices.keys()]) if (!seen.has(serial)) this.dropDevice(serial, 'unplugged', true);
  }

  private setNotUsable(rec: DeviceRecord): void {
    rec.checks = skippedChecks(rec.tracked.state);
    rec.checkedAt = Date.now();
    rec.ready = false;
    this.publish('device.check', { serial: rec.serial, checks: rec.checks, health: worstStatus(rec.checks), ready: false });
    this.publish('device.changed', this.summary(rec));
  }

  /** Stop everything tied to the device's current connection. */
  private detach(rec: DeviceRecord, alertLiveCall = true): void {
    rec.generation++;
    rec.ready = false;
    rec.reverseActive = false;
    rec.logcat?.stop();
    rec.logcat = null;
    for (const w of rec.watchers) w.cancel(`The phone ${this.name(rec)} was disconnected before it confirmed the command.`);
    rec.watchers.clear();
    this.stopPoll(rec.serial);
    const call = this.calls.get(rec.serial);
    if (call?.live && alertLiveCall) {
      call.markUnobserved();
      this.alert({
        serial: rec.serial,
        level: 'critical',
        code: 'reverse_lost_in_call',
        message: `The phone ${this.name(rec)} lost its USB link during a call: it cannot reach the gateway until it is plugged back in.`,
      });
    }
  }

  private dropDevice(serial: string, reason: 'unplugged' | 'adb_server_lost' | 'stopped', publish: boolean): void {
    const rec = this.devices.get(serial);
    if (!rec) return;
    if (rec.tracked.state === 'device') this.detach(rec, reason !== 'stopped');
    else rec.generation++;
    this.devices.delete(serial);
    const call = this.calls.get(serial);
    if (call && !call.live) {
      call.removeAllListeners();
      this.calls.delete(serial);
    }
    if (publish) {
      this.publish('device.removed', { serial, reason });
      this.emit('deviceRemoved', { serial, reason });
    }
  }

  private callTracker(serial: string): CallTracker {
    let t = this.calls.get(serial);
    if (t) return t;
    t = new CallTracker(serial);
    t.on('started', (c) => {
      this.emit('callStarted', c);
      this.publishDevice(serial);
      this.ensurePoll(serial);
    });
    t.on('changed', (c) => {
      this.emit('callChanged', c);
      this.publishDevice(serial);
    });
    t.on('ended', (e) => {
      this.stopPoll(serial);
      this.log('info', 'call ended', { serial, reason: e.reason, number: maskMaybe(e.number) });
      this.emit('callEnded', e);
      this.publishDevice(serial);
      if (!this.devices.has(serial)) {
        this.calls.get(serial)?.removeAllListeners();
        this.calls.delete(serial);
      }
    });
    this.calls.set(serial, t);
    return t;
  }

  private publishDevice(serial: string): void {
    const rec = this.devices.get(serial);
    if (rec) this.publish('device.changed', this.summary(rec));
  }

  // ---------------------------------------------------------------- upkeep

  private probe(serial: string): Probe {
    const client = this.requireClient();
    return {
      run: (cmd, t) => client.shell(serial, cmd, t ?? this.opts.config().adb_command_timeout_ms),
      listReverses: () => client.listReverses(serial),
    };
  }

  /** this computer's side of the reverse rule: the port the gateway is bound to */
  private gatewayPort(cfg = this.opts.config()): number {
    return this.opts.gatewayPort?.() || cfg.port;
  }

  /** the phone's side of the reverse rule: adb_reverse_port, else the gateway's port */
  private reversePort(cfg = this.opts.config()): number {
    return cfg.adb_reverse_port || this.gatewayPort(cfg);
  }

  private portsFor(cfg = this.opts.config()): { reversePort: number; gatewayPort: number } {
    return { reversePort: this.reversePort(cfg), gatewayPort: this.gatewayPort(cfg) };
  }

  private current(rec: DeviceRecord, gen: number): boolean {
    return this.running && this.devices.get(rec.serial) === rec && rec.generation === gen;
  }

  private upkeepInBackground(rec: DeviceRecord): void {
    this.onUsable(rec).catch((e) => {
      rec.upkeep.push({ step: 'upkeep', ok: false, detail: (e as Error).message });
      this.log('error', 'device upkeep failed', { serial: rec.serial, detail: (e as Error).message });
    });
  }

  /** The device became usable: logcat, wait for boot, reverse, (auto) role + rootd, checks → ready. */
  private async onUsable(rec: DeviceRecord): Promise<void> {
    rec.generation++;
    const gen = rec.generation;
    const cfg = this.opts.config();
    const client = this.requireClient();
    const serial = rec.serial;
    const steps: DeviceRecord['upkeep'] = [];
    rec.upkeep = steps;
    rec.ready = false;
    this.publish('device.changed', this.summary(rec));
    const calls = this.callTracker(serial);

    const monitor = new LogcatMonitor(client, serial, 500, (e) => this.log('debug', 'logcat stream error', { serial, detail: e.message }));
    rec.logcat = monitor;
    monitor.subscribe((line) => calls.onLogLine(line));
    monitor.subscribe((line) => {
      const m = line.tag === 'GatewayCallAssistant' ? line.message.match(/build marker:\s*(\S+)/) : null;
      if (m && rec.facts) rec.facts.app.buildMarker = m[1];
    });
    const logcatStarted = monitor.start();

    const step = async (name: string, fn: () => Promise<{ ok: boolean; detail: string }>) => {
      if (!this.current(rec, gen)) return false;
      try {
        const r = await fn();
        steps.push({ step: name, ok: r.ok, detail: r.detail });
        return r.ok;
      } catch (e) {
        steps.push({ step: name, ok: false, detail: toAdbError(e).message });
        return false;
      }
    };

    await step('boot', () => this.waitForBoot(rec, gen));
    const reverseOk = await step('reverse', () => setup.createReverse(this.setupContext(rec)));
    rec.reverseActive = reverseOk;
    if (!this.current(rec, gen)) return;

    // a call that was live when the phone went away: has it ended meanwhile?
    if (calls.live && !calls.current()?.observed) {
      await step('call state', async () => {
        const r = await client.shell(serial, sh('dumpsys', 'telephony.registry'), cfg.adb_command_timeout_ms);
        const st = parseTelephonyCallState(r.stdout);
        if (st !== null) calls.onTelephonyState(st, { afterReconnect: true });
        if (calls.live && reverseOk) {
          this.alert({ serial, level: 'info', code: 'reverse_restored', message: `The phone ${this.name(rec)} is back: its link to the gateway is restored and the call continues.` });
        } else if (!calls.live) {
          this.alert({ serial, level: 'info', code: 'call_ended_while_disconnected', message: `The call on ${this.name(rec)} ended while the phone was unplugged.` });
        }
        return { ok: true, detail: calls.live ? 'call still live' : 'call ended while unplugged' };
      });
    }

    // role and rootd need the user unlocked after a (re)boot (phone spec §4.5 step 1)
    const unlocked = cfg.adb_auto_upkeep ? await step('unlocked', () => this.waitForUnlock(rec, gen)) : false;
    if (cfg.adb_auto_upkeep && !unlocked && this.current(rec, gen)) {
      steps.push({ step: 'dialer role', ok: false, detail: 'skipped: the phone has not been unlocked since it started' });
      steps.push({ step: 'rootd', ok: false, detail: 'skipped: the phone has not been unlocked since it started' });
    }
    if (cfg.adb_auto_upkeep && unlocked) {
      await step('dialer role', async () => {
        const installed = await client.shell(serial, sh('pm', 'path', PKG), cfg.adb_command_timeout_ms);
        if (!/^package:/m.test(installed.stdout)) return { ok: true, detail: 'app not installed: nothing to do' };
        const holders = await client.shell(serial, sh('cmd', 'role', 'get-role-holders', DIALER_ROLE), cfg.adb_command_timeout_ms);
        if (holders.stdout.split(/\s+/).includes(PKG)) return { ok: true, detail: 'already the default phone app' };
        return setup.setDialerRole(this.setupContext(rec));
      });
      await step('rootd', () => setup.startRootd(this.setupContext(rec)));
    }
    await logcatStarted;
    if (!this.current(rec, gen)) return;
    await this.runChecks(serial);
    if (!this.current(rec, gen)) return;
    rec.ready = rec.reverseActive;
    this.publish('device.changed', this.summary(rec));
    if (calls.live) this.ensurePoll(serial);
    this.emit('deviceReady', this.detail(rec));
  }

  private async waitForBoot(rec: DeviceRecord, gen: number): Promise<{ ok: boolean; detail: string }> {
    const client = this.requireClient();
    const until = Date.now() + 120_000;
    while (this.current(rec, gen)) {
      try {
        const r = await client.shell(rec.serial, sh('getprop', 'sys.boot_completed'), 5000);
        if (r.stdout.trim() === '1') return { ok: true, detail: 'boot completed' };
      } catch {
        // not answering yet
      }
      if (Date.now() > until) return { ok: false, detail: 'the phone did not finish starting within 2 minutes' };
      await new Promise((r) => setTimeout(r, 500));
    }
    return { ok: false, detail: 'device went away' };
  }

  /** `dumpsys user` shows RUNNING_UNLOCKED: apps (and the dialer role) work only then. */
  private async waitForUnlock(rec: DeviceRecord, gen: number): Promise<{ ok: boolean; detail: string }> {
    const client = this.requireClient();
    const until = Date.now() + UNLOCK_WAIT_MS;
    let asked = false;
    const waiting = { step: 'unlocked', ok: false, detail: 'waiting: unlock the phone once after it started' };
    try {
      while (this.current(rec, gen)) {
        try {
          const r = await client.shell(rec.serial, sh('dumpsys', 'user'), 5000);
          if (/RUNNING_UNLOCKED/.test(r.stdout)) return { ok: true, detail: 'unlocked' };
          if (!/RUNNING_/.test(r.stdout)) return { ok: true, detail: 'user state unknown: going on' };
        } catch {
          // not answering yet
        }
        if (!asked) {
          asked = true;
          this.log('info', 'waiting for the phone to be unlocked', { serial: rec.serial });
          rec.upkeep.push(waiting);
          this.publish('device.changed', this.summary(rec));
        }
        if (Date.now() > until) return { ok: false, detail: 'the phone was not unlocked within 2 minutes: unlock it, then run the checks again' };
        await new Promise((r) => setTimeout(r, 500));
      }
      return { ok: false, detail: 'device went away' };
    } finally {
      const i = rec.upkeep.indexOf(waiting);
      if (i >= 0) rec.upkeep.splice(i, 1);
    }
  }

  private ensurePoll(serial: string): void {
    const every = this.opts.config().adb_call_poll_ms;
    if (!every || this.polls.has(serial) || !this.devices.get(serial)?.logcat) return;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.pollCall(serial).finally(() => (busy = false));
    }, every);
    this.polls.set(serial, timer);
  }

  private stopPoll(serial: string): void {
    const t = this.polls.get(serial);
    if (t) clearInterval(t);
    this.polls.delete(serial);
  }

  /** While a call is live: telephony state (a missed logcat line must not leave a session open) and the reverse rule. */
  private async pollCall(serial: string): Promise<void> {
    const rec = this.devices.get(serial);
    const calls = this.calls.get(serial);
    if (!rec || !calls?.live || !this.client || rec.tracked.state !== 'device') return;
    const gen = rec.generation;
    const client = this.client;
    const ports = this.portsFor();
    try {
      const r = await client.shell(serial, sh('dumpsys', 'telephony.registry'), 5000);
      const st = parseTelephonyCallState(r.stdout);
      if (st !== null && this.current(rec, gen)) calls.onTelephonyState(st);
      if (!calls.live || !this.current(rec, gen)) return;
      const list = await client.listReverses(serial);
      if (!this.current(rec, gen)) return;
      if (!hasReverseRule(list, ports)) {
        rec.reverseActive = false;
        this.alert({ serial, level: 'critical', code: 'reverse_lost_in_call', message: `The phone ${this.name(rec)} lost its link to the gateway during a call (reverse rule gone): restoring it.` });
        const fixed = await setup.createReverse(this.setupContext(rec));
        rec.reverseActive = fixed.ok;
        if (fixed.ok) this.alert({ serial, level: 'info', code: 'reverse_restored', message: `The link from ${this.name(rec)} to the gateway is restored.` });
        this.publish('device.changed', this.summary(rec));
      }
    } catch (e) {
      this.log('debug', 'call poll failed', { serial, detail: (e as Error).message });
    }
  }

  // ---------------------------------------------------------------- checks

  /** Run all health checks on a device now (shares a run already in progress). */
  runChecks(serial: string): Promise<HealthCheck[]> {
    const rec = this.devices.get(serial);
    if (!rec) return Promise.reject(new AdbError('not_found', this.notConnected(serial)));
    if (rec.tracked.state !== 'device') {
      this.setNotUsable(rec);
      return Promise.resolve(rec.checks);
    }
    if (rec.checking) return rec.checking;
    const gen = rec.generation;
    const cfg = this.opts.config();
    const ctx = { state: rec.tracked.state, ...this.portsFor(cfg), bearer: this.opts.gatewayBearer?.() ?? '' };
    rec.checking = (async () => {
      const raw = await gatherFacts(this.probe(serial), ctx, cfg.adb_command_timeout_ms);
      const ev = evaluateChecks(raw, ctx);
      if (this.devices.get(serial) !== rec || rec.generation !== gen) return ev.checks;
      ev.facts.app.buildMarker = rec.facts?.app.buildMarker ?? null;
      rec.facts = ev.facts;
      rec.checks = ev.checks;
      rec.checkedAt = Date.now();
      rec.reverseActive = ev.reverseActive;
      if (ev.telephonyState !== null) {
        const calls = this.callTracker(serial);
        if (ev.telephonyState !== 0 || calls.live) calls.onTelephonyState(ev.telephonyState);
      }
      this.publish('device.check', { serial, checks: rec.checks, health: worstStatus(rec.checks), ready: rec.ready || rec.reverseActive });
      return rec.checks;
    })().finally(() => {
      rec.checking = null;
    });
    return rec.checking;
  }

  // ---------------------------------------------------------------- call control

  private pick(serial?: string): { ok: true; rec: DeviceRecord } | { ok: false; detail: string } {
    if (!this.running || !this.client) return { ok: false, detail: 'The phone bridge is not running.' };
    const all = [...this.devices.values()];
    const usable = (rec: DeviceRecord): { ok: true; rec: DeviceRecord } | { ok: false; detail: string } =>
      rec.tracked.state === 'device' ? { ok: true, rec } : { ok: false, detail: `${this.name(rec)}: ${explainState(rec.tracked.state)}` };
    if (!this.adb.ok && !all.length) return { ok: false, detail: `No ADB device connected: adb is not available (${this.adb.detail})` };
    const list = () => all.map((r) => this.name(r)).join(', ');
    if (serial) {
      const rec = this.devices.get(serial);
      return rec ? usable(rec) : { ok: false, detail: `No phone with serial ${serial} is connected${all.length ? ` (connected: ${list()})` : ''}.` };
    }
    const preferred = defaultSerial(this.opts.config(), this.env);
    if (preferred) {
      const rec = this.devices.get(preferred);
      return rec ? usable(rec) : { ok: false, detail: `The chosen phone (${preferred}, from adb_serial/ANDROID_SERIAL) is not connected${all.length ? ` (connected: ${list()})` : ''}.` };
    }
    if (!all.length) return { ok: false, detail: 'No ADB device connected: plug in the phone with USB debugging enabled.' };
    const ready = all.filter((r) => r.tracked.state === 'device');
    if (ready.length === 1) return { ok: true, rec: ready[0] };
    if (ready.length > 1) return { ok: false, detail: `Several phones are connected: ${ready.map((r) => this.name(r)).join(', ')}. Choose one (serial) or set adb_serial.` };
    return all.length === 1 ? usable(all[0]) : { ok: false, detail: `No phone is ready: ${all.map((r) => `${this.name(r)}: ${explainState(r.tracked.state)}`).join(' ')}` };
  }

  private exclusive<T>(rec: DeviceRecord, fn: () => Promise<T>): Promise<T> {
    const next = rec.queue.then(fn, fn);
    rec.queue = next.catch(() => undefined);
    return next;
  }

  /** Validated strictly (digits, leading +, * and #) before anything reaches adb. */
  dial(number: string, opts: CallCommandOptions = {}): Promise<CallControlResult> {
    return this.command({ type: 'dial', number }, opts);
  }

  hangup(opts: CallCommandOptions = {}): Promise<CallControlResult> {
    return this.command({ type: 'hangup' }, opts);
  }

  answer(opts: CallCommandOptions = {}): Promise<CallControlResult> {
    return this.command({ type: 'answer' }, opts);
  }

  reject(opts: CallCommandOptions = {}): Promise<CallControlResult> {
    return this.command({ type: 'reject' }, opts);
  }

  mute(muted: boolean, opts: CallCommandOptions = {}): Promise<CallControlResult> {
    return this.command({ type: 'mute', muted: muted === true }, opts);
  }

  speaker(enabled: boolean, opts: CallCommandOptions = {}): Promise<CallControlResult> {
    return this.command({ type: 'speaker', enabled: enabled === true }, opts);
  }

  /** Send one call command to the chosen phone and wait for its confirmation. */
  async command(cmd: CallCommandPayload, opts: CallCommandOptions = {}): Promise<CallControlResult> {
    if (cmd.type === 'dial') {
      const v = dialableNumber(cmd.number);
      if (!v.ok) return { ok: false, detail: v.detail };
      cmd = { type: 'dial', number: v.number };
    }
    const picked = this.pick(opts.serial);
    if (!picked.ok) return { ok: false, detail: picked.detail };
    const rec = picked.rec;
    if (rec.facts && !rec.facts.app.installed) return { ok: false, detail: `The Clawfinger app is not installed on ${this.name(rec)}: install it from the Devices panel.`, serial: rec.serial };
    try {
      const r = await this.exclusive(rec, () => this.sendCommand(rec, cmd));
      return { ...r, serial: rec.serial };
    } catch (e) {
      return { ok: false, detail: this.explainAdbError(rec, e), serial: rec.serial };
    }
  }

  private explainAdbError(rec: DeviceRecord, e: unknown): string {
    const err = toAdbError(e);
    switch (err.code) {
      case 'unauthorized':
      case 'offline':
      case 'no_permissions':
        return `${this.name(rec)}: ${explainState(err.code === 'no_permissions' ? 'no permissions' : err.code)}`;
      case 'not_found':
        return `The phone ${this.name(rec)} is no longer connected.`;
      case 'server_unreachable':
        return `The adb server is not reachable: ${err.message}`;
      case 'timeout':
        return `The phone ${this.name(rec)} did not answer adb in time: ${err.message}`;
      default:
        return `ADB command failed: ${err.message}`;
    }
  }

  private async sendCommand(rec: DeviceRecord, cmd: CallCommandPayload): Promise<{ ok: boolean; detail: string }> {
    const cfg = this.opts.config();
    const client = this.requireClient();
    const serial = rec.serial;
    const type: CallCommandType = cmd.type;
    const monitor = rec.logcat;
    if (!monitor) return { ok: false, detail: `The phone ${this.name(rec)} is not ready yet.` };
    const streaming = await monitor.start();
    const calls = this.callTracker(serial);
    const watcher = new CommandWatcher(type);
    rec.watchers.add(watcher);
    const unsubscribe = monitor.subscribe((l) => watcher.feed(l));
    let timer: NodeJS.Timeout | null = null;
    try {
      if (cmd.type === 'dial') calls.noteDialRequested(cmd.number);
      const r = await client.shell(serial, callCommandLine(cmd), cfg.adb_command_timeout_ms);
      const text = `${r.stdout}\n${r.stderr}`;
      if (!/Broadcast completed/.test(text)) {
        watcher.cancel(`The phone did not accept the command: ${text.trim().split('\n')[0] || 'no answer'}`);
      }
      const confirmMs = cfg.adb_confirm_timeout_ms;
      timer = setTimeout(() => watcher.cancel('timeout'), streaming ? confirmMs : 0);
      const verdict = await watcher.result;
      if (type === 'dial' && !verdict.ok) calls.clearDialRequest();
      if (verdict.ok) {
        if (type === 'dial' && cmd.type === 'dial') return { ok: true, detail: `Dialling ${cmd.number} on ${this.name(rec)}.` };
        if (type === 'hangup') return this.awaitCallEnd(rec, calls, confirmMs);
        return { ok: true, detail: `${type[0].toUpperCase()}${type.slice(1)} done on ${this.name(rec)}.` };
      }
      if (verdict.reason !== 'timeout') return { ok: false, detail: verdict.reason };
      // no log line (in time, or no log stream): ask telephony directly, until the deadline
      const deadline = Date.now() + (streaming ? 0 : confirmMs);
      for (;;) {
        const st = await this.telephonyState(serial);
        if (type === 'dial' && st === 2) return { ok: true, detail: `Dialling on ${this.name(rec)} (confirmed by the phone's call state).` };
        if (type === 'hangup' && st === 0) {
          if (calls.live) calls.onTelephonyState(0);
          return { ok: true, detail: 'Call ended.' };
        }
        if (Date.now() >= deadline || (type !== 'dial' && type !== 'hangup')) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      return { ok: false, detail: `The phone ${this.name(rec)} did not confirm the ${type} within ${Math.round(confirmMs / 1000)} s: check that the Clawfinger app is installed and has been opened once.` };
    } finally {
      if (timer) clearTimeout(timer);
      unsubscribe();
      rec.watchers.delete(watcher);
    }
  }

  private async telephonyState(serial: string): Promise<0 | 1 | 2 | null> {
    try {
      const r = await this.requireClient().shell(serial, sh('dumpsys', 'telephony.registry'), 5000);
      return parseTelephonyCallState(r.stdout);
    } catch {
      return null;
    }
  }

  /** After "Hangup command executed": the call must really end (call state), within the timeout. */
  private async awaitCallEnd(rec: DeviceRecord, calls: CallTracker, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.devices.get(rec.serial) === rec) {
      const st = await this.telephonyState(rec.serial);
      if (st === 0) {
        if (calls.live) calls.onTelephonyState(0);
        return { ok: true, detail: 'Call ended.' };
      }
      if (st === null && !calls.live) return { ok: true, detail: 'Call ended.' };
      // wake on the next call-state change from logcat, or look again in a moment
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          calls.off('ended', done);
          resolve();
        };
        const t = setTimeout(done, 500);
        calls.once('ended', done);
      });
    }
    return { ok: false, detail: 'The phone accepted the hang-up, but the call is still up.' };
  }

  /** The current call on a device (or on the only/default device), for cross-checks. */
  callInfo(serial?: string): CallInfo | null {
    if (serial) return this.calls.get(serial)?.current() ?? null;
    const live = [...this.calls.values()].map((c) => c.current()).filter((c): c is CallInfo => c !== null);
    return live.length === 1 ? live[0] : null;
  }

  /**
   * Direction and number of the live call on `serial` as the bridge itself observed them (not the
   * app's call metadata, which can be the previous call's): for the gateway's cross-check of a new
   * call's caller fields. null: no live call known.
   */
  observedCall(serial: string): { direction: 'incoming' | 'outgoing' | null; number: string | null } | null {
    return this.calls.get(serial)?.observedFields() ?? null;
  }

  // ---------------------------------------------------------------- actions

  private setupContext(rec: DeviceRecord): setup.SetupContext {
    const cfg = this.opts.config();
    return { client: this.requireClient(), serial: rec.serial, timeoutMs: cfg.adb_command_timeout_ms, ...this.portsFor(cfg), facts: rec.facts };
  }

  /**
   * Run a setup/fix action. Inputs are validated by the caller (routes use zod); anything reaching a
   * device goes through the validated builders. Returns `{ok, detail, checks?}`; setup actions re-run
   * the checks afterwards and return them.
   */
  async runAction(serial: string, action: ActionId, body: Record<string, unknown> = {}): Promise<ActionResult> {
    const rec = this.devices.get(serial);
    if (!rec) return { ok: false, detail: this.notConnected(serial) };
    switch (action) {
      case 'dial':
        return { ...(await this.dial(String(body.number ?? ''), { serial })) };
      case 'hangup':
        return { ...(await this.hangup({ serial })) };
      case 'answer':
        return { ...(await this.answer({ serial })) };
      case 'reject':
        return { ...(await this.reject({ serial })) };
      case 'mute':
        return { ...(await this.mute(body.muted === true, { serial })) };
      case 'speaker':
        return { ...(await this.speaker(body.enabled === true, { serial })) };
      default:
        break;
    }
    if (rec.tracked.state !== 'device') return { ok: false, detail: `${this.name(rec)}: ${explainState(rec.tracked.state)}` };
    if (action === 'recheck') {
      const checks = await this.runChecks(serial);
      return { ok: true, detail: 'Checks done.', checks };
    }
    if (action === 'diagnostics') return { ok: true, detail: 'Diagnostics bundle (phone numbers masked).', bundle: await this.diagnostics(serial) };
    const ctx = this.setupContext(rec);
    let result: ActionResult;
    try {
      result = await this.exclusive(rec, async (): Promise<ActionResult> => {
        switch (action) {
          case 'create_reverse': {
            const r = await setup.createReverse(ctx);
            rec.reverseActive = r.ok;
            return r;
          }
          case 'install_apk':
            return setup.installApk(ctx, String(body.apk_path ?? ''), body.allow_downgrade === true);
          case 'grant_permissions':
            return setup.grantPermissions(ctx);
          case 'set_dialer_role':
            return setup.setDialerRole(ctx);
          case 'battery_unrestricted':
            return setup.batteryUnrestricted(ctx);
          case 'launch_app':
            return setup.launchApp(ctx);
          case 'push_profile': {
            const bearer = this.opts.ensureGatewayBearer ? await this.opts.ensureGatewayBearer() : (this.opts.gatewayBearer?.() ?? '');
            const profile = body.profile && typeof body.profile === 'object' ? (body.profile as Record<string, unknown>) : undefined;
            const r = await setup.pushProfile(ctx, { profile, bearer });
            return bearer || !r.ok ? r : { ...r, detail: `${r.detail} The gateway itself has no bearer token set, so it accepts any.` };
          }
          case 'verify_profile':
            return setup.verifyProfile(ctx);
          case 'start_rootd':
            return setup.startRootd(ctx);
          case 'remove_test_audio':
            return setup.removeTestAudio(ctx);
          case 'disable_ota':
            return setup.disableOta(ctx);
          default:
            return { ok: false, detail: `Unknown action ${action}.` };
        }
      });
    } catch (e) {
      result = { ok: false, detail: this.explainAdbError(rec, e) };
    }
    if (this.devices.get(serial) !== rec) return result;
    const checks = await this.runChecks(serial).catch(() => rec.checks);
    return { ...result, checks };
  }

  // ---------------------------------------------------------------- logcat + diagnostics

  /** Follow a device's app log; null if the device is not connected/usable. */
  subscribeLogcat(serial: string, filter: LogFilter, fn: (line: LogLine) => void): (() => void) | null {
    const rec = this.devices.get(serial);
    if (!rec?.logcat) return null;
    const monitor = rec.logcat;
    return monitor.subscribe((l) => {
      if (matchesFilter(l, filter)) fn(l);
    });
  }

  recentLogcat(serial: string, filter: LogFilter = {}, limit = 200): LogLine[] | null {
    const rec = this.devices.get(serial);
    if (!rec) return null;
    return rec.logcat?.recent(filter, limit) ?? [];
  }

  /** Device facts, checks, recent app log and gateway log, with phone numbers and tokens masked. */
  async diagnostics(serial: string): Promise<Record<string, unknown>> {
    const rec = this.devices.get(serial);
    if (!rec) throw new AdbError('not_found', this.notConnected(serial));
    const gatewayLog = (await Promise.resolve(this.opts.gatewayLog?.() ?? []).catch(() => [] as string[])).slice(-500).map(maskText);
    const detail = this.detail(rec);
    return {
      generated_at: new Date().toISOString(),
      adb: { ...this.adb },
      device: { ...detail, call: detail.call ? { ...detail.call, number: maskMaybe(detail.call.number), appReported: null } : null },
      logcat: (rec.logcat?.recent({}, 500) ?? []).map((l) => `${l.time} ${l.pid} ${l.tid} ${l.level} ${l.tag}: ${maskText(l.message)}`),
      gateway_log: gatewayLog,
    };
  }

  // ---------------------------------------------------------------- views

  status(): { adb: AdbStatus; devices: DeviceSummary[] } {
    return { adb: { ...this.adb }, devices: this.listDevices() };
  }

  listDevices(): DeviceSummary[] {
    return [...this.devices.values()].map((r) => this.summary(r));
  }

  getDevice(serial: string): DeviceDetail | null {
    const rec = this.devices.get(serial);
    return rec ? this.detail(rec) : null;
  }

  /** Resources held (for leak checks): open adb sockets, logcat listeners, call polls, trackers. */
  resources(): { sockets: number; logcatListeners: number; polls: number; callTrackers: number; devices: number } {
    let listeners = 0;
    for (const r of this.devices.values()) listeners += r.logcat?.listenerCount ?? 0;
    return { sockets: this.client?.openSocketCount ?? 0, logcatListeners: listeners, polls: this.polls.size, callTrackers: this.calls.size, devices: this.devices.size };
  }

  private name(rec: DeviceRecord): string {
    const model = rec.facts?.model ?? rec.tracked.model?.replace(/_/g, ' ');
    return model ? `${model} (${rec.serial})` : rec.serial;
  }

  private notConnected(serial: string): string {
    return `No phone with serial ${serial} is connected.`;
  }

  private summary(rec: DeviceRecord): DeviceSummary {
    return {
      serial: rec.serial,
      state: rec.tracked.state,
      stateDetail: explainState(rec.tracked.state),
      model: rec.facts?.model ?? rec.tracked.model?.replace(/_/g, ' ') ?? null,
      codename: rec.facts?.codename ?? rec.tracked.device ?? null,
      androidVersion: rec.facts?.androidVersion ?? null,
      usb: rec.tracked.usb ?? null,
      ready: rec.ready,
      reverseActive: rec.reverseActive,
      health: worstStatus(rec.checks),
      call: this.calls.get(rec.serial)?.current() ?? null,
      connectedAt: rec.connectedAt,
    };
  }

  private detail(rec: DeviceRecord): DeviceDetail {
    return { ...this.summary(rec), facts: rec.facts, checks: rec.checks, checkedAt: rec.checkedAt, upkeep: [...rec.upkeep] };
  }

  private requireClient(): AdbClient {
    if (!this.client) throw new AdbError('server_unreachable', 'The phone bridge is not running.');
    return this.client;
  }

  private alert(a: DeviceAlert): void {
    this.log(a.level === 'info' ? 'info' : 'warn', a.message, { serial: a.serial, code: a.code });
    this.emit('alert', a);
    this.publish('device.alert', { ...a });
  }

  private publish(type: 'device.added' | 'device.removed' | 'device.changed' | 'device.check' | 'device.alert', data: object): void {
    const d = data as Record<string, unknown>;
    const call = d.call as CallInfo | null | undefined;
    const safe = call ? { ...d, call: { ...call, number: maskMaybe(call.number), appReported: call.appReported ? { ...call.appReported, number: maskMaybe(call.appReported.number) } : null } } : d;
    this.opts.bus?.publish(type, '', safe);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void {
    this.opts.log?.(level, msg, data);
  }
}

