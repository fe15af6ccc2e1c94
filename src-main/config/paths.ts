/** Where the app keeps its data by default: the user's app-data folder. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(env: Record<string, string | undefined> = process.env, platform = process.platform): string {
  if (env.CLAWFINGER_DATA_DIR) return env.CLAWFINGER_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Clawfinger');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Clawfinger');
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'clawfinger');
}
