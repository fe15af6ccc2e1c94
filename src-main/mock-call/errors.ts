/** Errors a mock call reports to the operator, each with what to do about it on this OS. */

export type AudioErrorCode =
  | 'no_recorder' // no sox/rec/arecord binary
  | 'no_microphone' // the recorder could not open a capture device or delivered nothing
  | 'no_output_device' // the playback device could not be opened (or aborted the player process)
  | 'bad_audio_file' // the WAV to replay is missing or unreadable
  | 'vad_unavailable'; // the Silero model could not load (callers fall back to energy VAD)

export class AudioDeviceError extends Error {
  constructor(readonly code: AudioErrorCode, message: string, readonly hint: string) {
    super(message);
    this.name = 'AudioDeviceError';
  }
}

type Platform = NodeJS.Platform;

export function recorderInstallHint(platform: Platform = process.platform): string {
  if (platform === 'darwin') return 'Install SoX: `brew install sox` (provides `sox` and `rec`).';
  if (platform === 'win32') return 'Install SoX for Windows and add its folder (with sox.exe) to PATH, then restart the app.';
  return 'Install a recorder: `sudo apt install alsa-utils` (arecord) or `sudo apt install sox libsox-fmt-all` on Debian/Ubuntu; `sudo dnf install alsa-utils sox` on Fedora.';
}

export function microphoneHint(platform: Platform = process.platform): string {
  if (platform === 'darwin') return 'Connect a microphone and allow microphone access for this app in System Settings → Privacy & Security → Microphone.';
  if (platform === 'win32') return 'Connect a microphone and allow desktop apps to use it in Settings → Privacy & security → Microphone.';
  return 'Connect a microphone, check `arecord -l` lists a capture device and that it is not muted (`alsamixer`), make sure your user is in the `audio` group, or choose another input device.';
}

export function speakerHint(platform: Platform = process.platform): string {
  if (platform === 'darwin') return 'Check the output device in System Settings → Sound, or choose the sink `none`/`file`.';
  if (platform === 'win32') return 'Check the output device in Settings → System → Sound, or choose the sink `none`/`file`.';
  return 'Check `aplay -l` lists a playback device, choose another output device (`aplay -L` names), or use the sink `none`/`file`. The gateway keeps running.';
}

/** The last few meaningful lines of a child's stderr, for error messages. */
export function stderrTail(text: string, lines = 4): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ');
}
