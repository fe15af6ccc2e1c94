/** Child process of bench:gateway: the real app with instant in-process engines; reports peak RSS over IPC. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src-main/app';
import { NoPhoneBridge } from '../src-main/phone/call-control';
import { createInstantEngines } from '../test/helpers/instant-engines';

const dataDir = mkdtempSync(join(tmpdir(), 'cf-bench-'));
writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ bearer_token: 'bench-bearer', port: 0, log_level: 'warn', session_ttl: 3600 }));
const engines = createInstantEngines();
const app = await createApp({ dataDir, logToConsole: false, engines: engines.providers, env: {}, phone: new NoPhoneBridge() });
const url = await app.start();
let peak = process.memoryUsage().rss;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
process.send?.({ url });
process.on('message', async (m: { cmd: string }) => {
  if (m.cmd === 'stats') process.send?.({ peakRss: peak, asrCalls: engines.asrCalls.length });
  if (m.cmd === 'cpu') process.send?.(process.cpuUsage());
  if (m.cmd === 'stop') {
    clearInterval(timer);
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
});
