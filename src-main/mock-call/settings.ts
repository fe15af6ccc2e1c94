/** Mock-call settings as read from the app config (keys in src-shared/config/sections/mock-call.ts). */
import { fillOwner, type AppConfig } from '../../src-shared/config/schema';
import type { EndpointerSettings } from './endpointer';
import type { VadChoice } from './vad';

export interface MockCallSettings {
  endpointing: EndpointerSettings;
  vad: VadChoice;
  bargeIn: boolean;
  bargeInMinSpeechMs: number;
  levelIntervalMs: number;
  /** spoken by the greeting turn (forced reply); '' = no greeting text known (phone fallback) */
  greeting: string;
  callerNumber: string;
}

export interface MockCallOverrides {
  bargeIn?: boolean;
  /** which configured greeting the assistant opens with */
  greeting?: 'incoming' | 'outgoing';
  callerNumber?: string;
}

export function settingsFromConfig(cfg: AppConfig, o: MockCallOverrides = {}): MockCallSettings {
  const template = o.greeting === 'outgoing' ? cfg.greeting_outgoing : cfg.greeting_incoming;
  return {
    endpointing: {
      preRollMs: cfg.mock_vad_pre_roll_ms,
      minSpeechMs: cfg.mock_vad_min_speech_ms,
      endSilenceMs: cfg.mock_vad_end_silence_ms,
      maxUtteranceMs: cfg.mock_vad_max_utterance_ms,
      threshold: cfg.mock_vad_threshold, // energy scores are 0 or 1, so any threshold works for both
    },
    vad: { engine: cfg.mock_vad_engine, energyThreshold: cfg.mock_vad_energy_threshold },
    bargeIn: o.bargeIn ?? cfg.mock_barge_in,
    bargeInMinSpeechMs: cfg.mock_barge_in_min_speech_ms,
    levelIntervalMs: cfg.mock_level_interval_ms,
    greeting: fillOwner(template, cfg.greeting_owner).trim(),
    callerNumber: o.callerNumber ?? '',
  };
}
