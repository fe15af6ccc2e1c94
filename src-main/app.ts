/**
 * The composition root: builds the whole app from a data dir and config. The headless `serve`
 * command and the Electron main process both call `createApp` — nothing else constructs services.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { CallManager } from './calls/manager';
import { LatencyWindow } from './calls/latency';
import { TurnPipeline } from './calls/pipeline';
import type { ReplyBroker } from './calls/broker';
import { InMemoryCallerMemory, type CallerMemory, type CallObserver, type RunTurn } from './calls/types';
import { ConfigStore, writeFileAtomic } from './config/store';
import { defaultProviders } from './engines/providers';
import { ModelManager, modelsDirFor } from './models/manager';
import { registerModelRoutes } from './gateway/routes/models';
import { EngineSet, type EngineProviders } from './engines/select';
import { EventBus } from './events/bus';
import type { AgentDirectory, GatewayContext } from './gateway/context';
import { buildServer, type RouteModule } from './gateway/server';
import { createLogger, type Logger } from './logging/logger';
import { NoPhoneBridge, type CallControl } from './phone/call-control';
import { AdbPhoneBridge, generateBearer, sessionEndReason } from './phone';
import { LOG_FILE_NAME, tailLogLines } from './phone/log-tail';
import { registerDeviceRoutes } from './gateway/routes/devices';
import { CallStore } from './store';
import { registerHistoryRoutes } from './gateway/routes/history';
import { MockCallManager } from './mock-call';
import { registerMockCallRoutes } from './gateway/routes/mock-call';
import { createAgentInterface } from './agents';

export interface AppOptions {
  dataDir: string;
  /** default `<dataDir>/config.json` */
  configFile?: string;
  /** command-line overrides (never saved) */
  host?: string;
  port?: number;
  env?: Record<string, string | undefined>;
  /** false: no console logging (tests) */
  logToConsole?: boolean;
  /** engine implementations per stage; tests pass fakes */
  engines?: EngineProviders;
  phone?: CallControl;
  /** built console folder; default: out/renderer next to the project */
  consoleDir?: string;
}

export interface App {
  ctx: GatewayContext;
  server: FastifyInstance;
  /** http://host:port once started */
  url: string;
  /** true when this start created config.json (first run) */
  firstRun: boolean;
  start(): Promise<string>;
  stop(): Promise<void>;
}

/** Capabilities plug in here: routes, observers, a reply broker, an agent directory. */
export interface AppExtensions {
  routes: RouteModule[];
  observers: CallObserver[];
  broker?: ReplyBroker;
  agents?: AgentDirectory;
  callerMemory?: CallerMemory;
  onStart: (() => Promise<void> | void)[];
  onStop: (() => Promise<void> | void)[];
}

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function readOrCreateToken(file: string): string {
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim();
    if (t.length >= 16) return t;
  }
  const t = randomBytes(24).toString('base64url');
  writeFileAtomic(file, t + '\n', 0o600);
  return t;
}

const ENGINE_KEYS = new Set(['asr_engine', 'tts_engine', 'llm_engine', 'mlx_audio_base', 'llm_base_url', 'tts_lang', 'piper_backend']);

export async function createApp(opts: AppOptions): Promise<App> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const overrides: Record<string, unknown> = {};
  if (opts.host !== undefined) overrides.host = opts.host;
  if (opts.port !== undefined) overrides.port = opts.port;
  const { store: config, created } = ConfigStore.open(opts.configFile ?? join(dataDir, 'config.json'), { env: opts.env, overrides });
  const cfg = config.get();
  const { logger, close: closeLog } = createLogger({ level: cfg.log_level, logDir: join(dataDir, 'logs'), console: opts.logToConsole !== false });
  for (const e of config.envErrors) logger.warn(e, 'ignored environment override');
  for (const a of config.adjusted) logger.warn(a, 'config value read leniently (as upstream did)');
  const operatorToken = readOrCreateToken(join(dataDir, 'operator-token'));

  const ext: AppExtensions = { routes: [], observers: [], onStart: [], onStop: [] };
  const bus = new EventBus();
  const calls = new CallManager({ bus, config: () => config.get(), callerMemory: new InMemoryCallerMemory(), logger: logger as Logger });
  const models = new ModelManager({ dir: () => modelsDirFor(config.get().models_dir, dataDir), bus });
  ext.routes.push((app) => registerModelRoutes(app, models));
  const engines = new EngineSet(opts.engines ?? defaultProviders(() => config.get(), { models }), () => config.get(), logger as Logger);
  calls.onEnded((s) => engines.current().llm.releaseSession?.(s.id));
  config.onChange((_c, changed) => {
    if (changed.some((k) => ENGINE_KEYS.has(k))) engines.rebuild();
  });
  let boundPort = cfg.port;
  // the phone bridge (ADB) unless the caller supplies call control (tests, embedding)
  const bridge = opts.phone
    ? null
    : new AdbPhoneBridge({
        config: () => config.get(),
        bus,
        gatewayBearer: () => config.get().bearer_token,
        ensureGatewayBearer: async () => {
          const t = config.get().bearer_token;
          if (t) return t;
          const fresh = generateBearer();
          config.update({ bearer_token: fresh });
          return fresh;
        },
        log: (level, msg, data) => logger[level](data ?? {}, msg),
        // the reverse rule leads to the port the gateway is bound to (config `port` may be 0)
        gatewayPort: () => boundPort,
        // the diagnostics bundle's gateway log: the tail of the log file (already redacted by the logger)
        gatewayLog: () => tailLogLines(join(dataDir, 'logs', LOG_FILE_NAME), 500),
      });
  const phones = () => bridge?.listDevices().filter((d) => d.state === 'device').map((d) => d.serial) ?? [];
  const pipeline = new TurnPipeline({ calls, engines: () => engines.current(), config: () => config.get(), bus, logger: logger as Logger, broker: () => ext.broker ?? { requestReply: () => null }, phones, phoneCall: bridge ? (serial) => bridge.observedCall(serial) : undefined });
  const latency = new LatencyWindow();
  latency.attach(bus);

  let listening: { host: string; port: number } | null = null;
  const consoleDir = opts.consoleDir ?? join(projectRoot, 'out', 'renderer');
  const ctx: GatewayContext = {
    config, bus, logger: logger as Logger, calls, pipeline, engines, phone: opts.phone ?? bridge ?? new NoPhoneBridge(), latency, dataDir,
    operatorToken: () => operatorToken, startedAt: Date.now(), consoleDir, port: () => boundPort, listening: () => listening,
    agents: { list: () => ext.agents?.list() ?? [] },
  };

  // ---- capabilities: each is constructed here and plugs its routes, observers and hooks into `ext` ----

  // call history: every turn committed as it completes; caller memory lives here too
  const history = CallStore.open(dataDir, {
    settings: () => config.get(),
    // recordings are written off the event loop; a turn commits a few ms after the phone has its answer
    recordingWrites: 'background',
    onError: (err, context) => logger.error({ err, context }, 'call history'),
  });
  ext.callerMemory = history;
  ext.observers.push(history);
  ext.routes.push((app) => registerHistoryRoutes(app, history, ctx));

  if (bridge) {
    ext.routes.push((app) => registerDeviceRoutes(app, bridge));
    // the phone never tells the gateway that a call ended: the bridge sees it in the phone's call state
    bridge.on('callEnded', (e) => {
      // a session whose phone is unknown ends only when this was the only phone (with two, it may be the other's)
      const onlyPhone = new Set([...phones(), e.serial]).size === 1;
      for (const s of calls.active()) {
        if (s.source === 'phone' && (s.device === e.serial || (s.device === null && onlyPhone))) calls.end(s.id, sessionEndReason(e.reason));
      }
    });
    ext.onStart.push(() => void bridge.start());
    // a new adb server address or binary takes effect at once (a bridge not started yet stays stopped)
    config.onChange((_c, changed) => {
      if (changed.some((k) => k === 'adb_host' || k === 'adb_port' || k === 'adb_path')) void bridge.restart();
    });
    ext.onStop.push(() => bridge.stop());
  }

  const agentInterface = createAgentInterface(ctx); // issue 3: agent WebSocket, takeover broker, operator modes
  ext.broker = agentInterface.broker;
  ext.agents = agentInterface.hub;
  ext.routes.push(...agentInterface.routes);
  ext.onStop.push(() => agentInterface.stop());

  // mock calls: real sessions whose audio is this computer's microphone and speakers
  const runMockTurn: RunTurn = (input) => pipeline.run(input, 'mock');
  const mockCalls = new MockCallManager({
    runTurn: runMockTurn,
    bus,
    getConfig: () => config.get(),
    endSession: (sid, reason) => void calls.end(sid, reason),
    onPlayback: (r) => {
      const s = r.session_id ? calls.get(r.session_id) : undefined;
      if (!s || !r.interrupted) return;
      calls.notify('callEvent', s.summaryView(), 'mock.playback', { turn: r.turn, heard_text: r.heard_text, played_ms: r.played_ms, total_ms: r.total_ms, barge_in: r.barge_in });
      // barge-in: the words actually heard replace the reply in the LLM history and the transcript
      // (a reply cut because the call stopped or the device failed is not a conversation event)
      if (r.barge_in) calls.replyInterrupted(s.id, { reply: r.reply, heard_text: r.heard_text, played_ms: r.played_ms, total_ms: r.total_ms });
    },
    recordingsDir: join(dataDir, 'mock-calls'),
    speaker: process.versions.electron ? { execPath: process.execPath } : undefined,
  });
  ext.routes.push((app) =>
    registerMockCallRoutes(app, mockCalls, {
      runTurn: runMockTurn,
      sourceOf: (sid) => calls.get(sid)?.source,
      end: (sid) => calls.end(sid, 'mock_stopped'),
    }),
  );
  ext.onStop.push(() => mockCalls.shutdown());

  // ---- end of capabilities ----

  if (ext.callerMemory) calls.useCallerMemory(ext.callerMemory);
  for (const o of ext.observers) calls.addObserver(o);
  const server = await buildServer(ctx, ext.routes);

  const app: App = {
    ctx, server, url: '', firstRun: created,
    async start() {
      const c = config.get();
      try {
        await server.listen({ host: c.host, port: c.port });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE') throw new Error(`port ${c.port} on ${c.host} is already in use (is Clawfinger already running?) — choose another with --port or the "port" setting`);
        if (err.code === 'EACCES') throw new Error(`not allowed to listen on ${c.host}:${c.port} — choose a port above 1024`);
        throw e;
      }
      listening = { host: c.host, port: c.port };
      const addr = server.server.address();
      boundPort = typeof addr === 'object' && addr ? addr.port : c.port;
      const host = c.host.includes(':') ? `[${c.host}]` : c.host;
      app.url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${boundPort}`;
      calls.startSweeper();
      void engines.warmup();
      for (const f of ext.onStart) await f();
      logger.info({ url: app.url, dataDir }, 'gateway listening');
      return app.url;
    },
    async stop() {
      calls.stopSweeper();
      for (const f of ext.onStop) await f();
      calls.endAll('shutdown');
      await server.close();
      await models.close(); // running downloads stop (their partial files stay for a resume)
      await history.whenDurable(); // queued turns and call ends (endAll above) committed, their recordings written and synced
      history.close();
      await engines.close();
      closeLog();
    },
  };
  return app;
}
