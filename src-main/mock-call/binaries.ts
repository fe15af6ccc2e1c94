/** Finding the audio tools on PATH without a shell. */
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { AudioDeviceError, recorderInstallHint } from './errors';

export type RecorderName = 'arecord' | 'sox' | 'rec';
export type RecorderChoice = RecorderName | 'auto';

export function findBinary(name: string, searchPath = process.env.PATH ?? '', platform = process.platform): string | null {
  const exts = platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = join(dir, name + ext);
      try {
        accessSync(p, fsConstants.X_OK);
        return p;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/**
 * The recorder node-record-lpcm16 should run. `auto`: arecord on Linux (ALSA directly, lists
 * devices), otherwise sox; rec is sox under another name.
 */
export function resolveRecorder(choice: RecorderChoice, searchPath = process.env.PATH ?? '', platform = process.platform): RecorderName {
  const order: RecorderName[] =
    choice !== 'auto' ? [choice] : platform === 'linux' ? ['arecord', 'sox', 'rec'] : ['sox', 'rec'];
  for (const name of order) if (findBinary(name, searchPath, platform)) return name;
  const wanted = choice === 'auto' ? order.join(', ') : choice;
  throw new AudioDeviceError('no_recorder', `No audio recorder found on PATH (looked for ${wanted}).`, recorderInstallHint(platform));
}
