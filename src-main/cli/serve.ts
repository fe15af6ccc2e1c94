/** `npm run serve`: the gateway and the console, headless, in plain Node. */
import { createApp } from '../app';
import { parseCli } from './args';

export async function serve(argv: string[]): Promise<void> {
  const opts = parseCli(argv);
  const app = await createApp(opts);
  const url = await app.start();
  const cfg = app.ctx.config.get();
  const out = process.stdout;
  out.write(`\nClawfinger gateway and console: ${url}\n`);
  out.write(`  data folder:    ${app.ctx.dataDir}\n`);
  out.write(`  config:         ${app.ctx.config.file}${app.firstRun ? '  (created with defaults on this first run)' : ''}\n`);
  if (app.firstRun) {
    out.write(`  phone bearer:   written to config.json as "bearer_token" (put it in the phone profile)\n`);
    out.write(`  operator token: ${app.ctx.dataDir}/operator-token (for agents and remote consoles)\n`);
  }
  if (cfg.host !== '127.0.0.1' && cfg.host !== 'localhost' && cfg.host !== '::1') out.write(`  warning: listening on ${cfg.host}; clients on other machines need the operator token\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    out.write(`\n${signal}: stopping…\n`);
    await app.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');
if (isMain) {
  serve(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`clawfinger: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
