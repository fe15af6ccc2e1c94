/**
 * The last lines of the gateway's log file (`<dataDir>/logs/app.log`, rotated to `app.log.1`…) for
 * the diagnostics bundle. Reads only the end of the file(s), never the whole log; the logger has
 * already redacted secrets and masked phone numbers in every line.
 */
import { open, stat } from 'node:fs/promises';

/** The file name src-main/logging/logger.ts writes in `<dataDir>/logs`. */
export const LOG_FILE_NAME = 'app.log';

async function tailOf(file: string, maxBytes: number): Promise<string[]> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return [];
  }
  if (!size) return [];
  const start = Math.max(0, size - maxBytes);
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    const lines = buf.subarray(0, bytesRead).toString('utf8').split('\n');
    if (start > 0) lines.shift(); // a partial first line
    return lines.filter((l) => l.trim() !== '');
  } finally {
    await fh.close();
  }
}

/** Up to `maxLines` last lines of `file`, topped up from `file.1` when the file was just rotated. */
export async function tailLogLines(file: string, maxLines = 500, maxBytes = 512 * 1024): Promise<string[]> {
  const lines = await tailOf(file, maxBytes);
  if (lines.length < maxLines) {
    const older = await tailOf(`${file}.1`, maxBytes);
    lines.unshift(...older.slice(-(maxLines - lines.length)));
  }
  return lines.slice(-maxLines);
}
