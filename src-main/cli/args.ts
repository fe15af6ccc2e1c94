/** Command-line flags shared by `serve` and `start`. */
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../config/paths';

export interface CliOptions {
  dataDir: string;
  configFile?: string;
  host?: string;
  port?: number;
}

export function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('usage: npm run serve -- [--config FILE] [--data-dir DIR] [--host H] [--port N]\n');
    process.exit(0);
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a number from 0 to 65535, got "${values.port}"`);
  }
  return { dataDir: values['data-dir'] ?? defaultDataDir(), configFile: values.config, host: values.host, port };
}
