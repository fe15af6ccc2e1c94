/** Mock calls: public API for the composition root, the routes and the bench. */
export { MockCallManager, MockCallInputError, MockCallLimitError } from './manager';
export type { MockCallManagerDeps, MockCallStartOptions, SourceSpec, SinkSpec } from './manager';
export { MockCall, FALLBACK_GREETING_HINT } from './mock-call';
export type { MockCallDeps, MockCallSnapshot, MockCallState, MockEndReason, MockTurn, MockTurnTimings, PlaybackReport } from './mock-call';
export { settingsFromConfig } from './settings';
export type { MockCallSettings, MockCallOverrides } from './settings';
export { AudioDeviceError } from './errors';
export type { AudioErrorCode } from './errors';
export { MicrophoneSource } from './microphone-source';
export { FileSource } from './file-source';
export { SpeakerSink } from './speaker-sink';
export { MemorySink, NullSink, FileSink } from './memory-sink';
export { listAudioDevices } from './devices';
export { liveChildPids } from './child-registry';
export type { AudioSource, AudioSink, PlaybackHandle, PlaybackResult } from './types';
