/**
 * Audio device listing where the OS tools allow it: ALSA's `arecord -L` / `aplay -L` on Linux.
 * Elsewhere (sox on macOS/Windows) only the system default can be chosen.
 */
import { execFile } from 'node:child_process';
import { findBinary } from './binaries';

export interface AudioDevice {
  /** the name to pass as input/output device */
  id: string;
  description: string;
}

export interface AudioDeviceList {
  inputs: AudioDevice[];
  outputs: AudioDevice[];
  /** which tool listed them; null when this OS offers no listing (use '' = default) */
  tool: 'alsa' | null;
  note?: string;
}

/** Parse `arecord -L` / `aplay -L`: names at column 0, indented description lines below. */
export function parseAlsaList(text: string): AudioDevice[] {
  const out: AudioDevice[] = [];
  let cur: AudioDevice | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    if (/^\s/.test(line)) {
      if (cur) cur.description = cur.description ? `${cur.description} — ${line.trim()}` : line.trim();
      continue;
    }
    cur = { id: line.trim(), description: '' };
    out.push(cur);
  }
  return out;
}

function listWith(bin: string): Promise<AudioDevice[]> {
  return new Promise((resolve) => {
    execFile(bin, ['-L'], { timeout: 5000, maxBuffer: 1024 * 1024 }, (err, stdout) => {
      resolve(err && !stdout ? [] : parseAlsaList(String(stdout)));
    });
  });
}

export async function listAudioDevices(platform = process.platform): Promise<AudioDeviceList> {
  if (platform !== 'linux') {
    return { inputs: [], outputs: [], tool: null, note: 'Device listing needs ALSA (Linux); the system default devices are used.' };
  }
  const arecord = findBinary('arecord');
  const aplay = findBinary('aplay');
  if (!arecord && !aplay) {
    return { inputs: [], outputs: [], tool: null, note: 'Install alsa-utils (arecord, aplay) to list and choose devices.' };
  }
  const [inputs, outputs] = await Promise.all([arecord ? listWith(arecord) : [], aplay ? listWith(aplay) : []]);
  return { inputs, outputs, tool: 'alsa' };
}
