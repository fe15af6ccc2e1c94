/**
 * Import an upstream Clawfinger gateway's history (its `sessions/` and `caller_history/` folders)
 * into our call history. Idempotent: running it again adds nothing.
 *
 *   npm run import:upstream -- --data-dir <our data dir> --from <upstream gateway folder> [--json]
 *   (or: npx tsx src-main/cli/import-upstream.ts …). Close the app first: the history is locked while it runs.
 *
 * Exit codes: 0 imported (bad files are listed and skipped), 1 the import could not run, 2 usage.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CallStore } from '../store/call-store';
import { importUpstream, type ImportReport } from '../store/import-upstream';

const USAGE = 'usage: import-upstream --data-dir <our data dir> --from <upstream gateway folder with sessions/ and caller_history/> [--json]';

function summary(r: ImportReport): string {
  const lines = [
    `imported from ${r.dir}`,
    `  sessions: ${r.sessions.imported} imported, ${r.sessions.skipped} already present, ${r.sessions.failed.length} failed`,
    `  callers:  ${r.callers.imported} imported, ${r.callers.updated} updated, ${r.callers.skipped} already present, ${r.callers.failed.length} failed`,
  ];
  for (const f of [...r.sessions.failed, ...r.callers.failed]) lines.push(`  skipped ${JSON.stringify(f.file)}: ${f.error}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({ options: { 'data-dir': { type: 'string' }, from: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values } = args;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values['data-dir'] || !values.from) {
    console.error(USAGE);
    return 2;
  }
  let store: CallStore;
  try {
    // retention off: this short-lived process does not know the user's retention settings
    store = CallStore.open(resolve(values['data-dir']), {
      retentionIntervalMs: 0,
      settings: () => ({ record_audio: false, recording_max_age_days: 0, recording_max_disk_mb: 0 }),
    });
  } catch (e) {
    console.error(`cannot open the call history: ${(e as Error).message}`);
    return 1;
  }
  try {
    const report = await importUpstream(store, resolve(values.from));
    console.log(values.json ? JSON.stringify(report, null, 2) : summary(report));
    return 0;
  } catch (e) {
    console.error(`import failed: ${(e as Error).message}`);
    return 1;
  } finally {
    store.close();
  }
}

process.exitCode = await main();
