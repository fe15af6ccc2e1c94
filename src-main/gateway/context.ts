/** Everything the gateway's routes need, built once by the composition root (src-main/app.ts). */
import type { Logger } from 'pino';
import type { CallManager } from '../calls/manager';
import type { LatencyWindow } from '../calls/latency';
import type { TurnPipeline } from '../calls/pipeline';
import type { ConfigStore } from '../config/store';
import type { EngineSet } from '../engines/select';
import type { EventBus } from '../events/bus';
import type { CallControl } from '../phone/call-control';

export interface AgentDirectory {
  /** upstream `/api/status.agents` entries */
  list(): { name: string; connected_at: number; takeover_sessions: string[] }[];
}

export interface GatewayContext {
  config: ConfigStore;
  bus: EventBus;
  logger: Logger;
  calls: CallManager;
  pipeline: TurnPipeline;
  engines: EngineSet;
  phone: CallControl;
  latency: LatencyWindow;
  dataDir: string;
  operatorToken: () => string;
  startedAt: number;
  /** folder with the built console (index.html); absent → a page explaining how to build it */
  consoleDir?: string;
  agents?: AgentDirectory;
  /** the port actually bound (for Origin checks); set after listen */
  port: () => number;
  /** the host and port the server was started with (as configured; port 0 = any); null before start */
  listening?: () => { host: string; port: number } | null;
}
