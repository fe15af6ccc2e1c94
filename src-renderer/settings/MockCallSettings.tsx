/**
 * Mock calls: how a mock call on the gateway computer cuts the caller's speech into utterances (voice
 * detection), barge-in, its audio devices and the level meter (`/api/config/mock-call`). A mock call
 * reads these when it starts: a call already running keeps the settings it started with.
 */
import { useServices, useSignals } from '../app/context';
import { useLoad } from '../app/hooks';
import { Badge, Button, Notice } from '../components/ui';
import type { MockCallConfigView, MockCallSettingValues } from '../../src-shared/protocol/settings';
import { deviceChoices } from '../lib/audio-devices';
import { CheckField, FormFooter, LoadState, NumberField, SelectField, useConfigForm } from './form';

type Key = keyof MockCallSettingValues;

const KEYS: readonly Key[] = [
  'mock_barge_in', 'mock_barge_in_min_speech_ms', 'mock_vad_engine', 'mock_vad_threshold', 'mock_vad_energy_threshold',
  'mock_vad_pre_roll_ms', 'mock_vad_min_speech_ms', 'mock_vad_end_silence_ms', 'mock_vad_max_utterance_ms',
  'mock_input_device', 'mock_output_device', 'mock_recorder', 'mock_level_interval_ms',
];

/** Endpointing keys whose defaults are the phone's own constants (phone spec §2.2). */
const PHONE_KEYS: readonly Key[] = ['mock_vad_pre_roll_ms', 'mock_vad_min_speech_ms', 'mock_vad_end_silence_ms', 'mock_vad_max_utterance_ms'];

const ENGINES = [['silero', 'Silero (bundled model)'], ['energy', 'Energy (loudness only)']] as const;
const RECORDERS = [['auto', 'Automatic (arecord on Linux, else sox)'], ['arecord', 'arecord (ALSA)'], ['sox', 'sox'], ['rec', 'rec (sox)']] as const;

function fmt(v: MockCallSettingValues[Key]): string {
  if (typeof v === 'number') return v.toLocaleString('en-US');
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return v === '' ? 'system default' : v;
}

/** Device choices: the system default, the devices the gateway lists, and the saved value when it is not listed. */
export function MockCallSettings() {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.mockCall);
  const f = useConfigForm<MockCallConfigView>(api.mockCallConfig, api.setMockCallConfig, version, { savedText: 'Saved — the next mock call uses these settings.' });
  const [devices] = useLoad(() => api.mockDevices(), []);
  const d = f.draft;
  if (!d) return <LoadState load={f.load} what="Mock call settings" />;
  const e = f.errors;
  const def = d.defaults;
  const unit = (k: Key) => (k.endsWith('_ms') ? ' ms' : '');
  const dflt = (k: Key) => `${PHONE_KEYS.includes(k) ? 'phone' : 'default'}: ${fmt(def[k])}${unit(k)}`;
  // an override wins over the saved value: say so instead of the usual hint
  const hint = (k: Key, text: string) => (d.overridden[k] ? `Set by the ${d.overridden[k]}: that value wins over this one.` : `${text} (${dflt(k)})`);
  const set = (patch: Partial<MockCallSettingValues>) => f.set(patch);
  const num = (k: Key, label: string, u: string, min: number, max: number, step: number, text: string) => (
    <NumberField label={label} unit={u} value={d[k] as number} min={min} max={max} step={step} onChange={(v) => set({ [k]: v })} error={e[k]} hint={hint(k, text)} />
  );
  const ins = devices.state === 'ready' && Array.isArray(devices.data.inputs) ? devices.data.inputs : [];
  const outs = devices.state === 'ready' && Array.isArray(devices.data.outputs) ? devices.data.outputs : [];
  const atDefaults = KEYS.every((k) => d[k] === def[k]);

  return (
    <form
      className="card form"
      noValidate
      aria-label="Mock call settings"
      onSubmit={(ev) => {
        ev.preventDefault();
        void f.apply(Object.fromEntries(KEYS.map((k) => [k, typeof d[k] === 'string' ? (d[k] as string).trim() : d[k]])));
      }}
    >
      <p className="muted small">
        For mock calls on the gateway computer (Mock call view). Changes apply to the next mock call: a call already running keeps the settings it
        started with. The endpointing defaults are the phone's own, so a mock call cuts speech the way a real call does.
      </p>
      {f.dirty ? (
        <p>
          <Badge tone="warn">Unsaved changes</Badge>
        </p>
      ) : null}

      <h3>Voice detection</h3>
      <div className="grid-2">
        <SelectField
          label="Speech detector"
          value={d.mock_vad_engine}
          options={ENGINES}
          onChange={(v) => set({ mock_vad_engine: v as MockCallSettingValues['mock_vad_engine'] })}
          error={e.mock_vad_engine}
          hint={hint('mock_vad_engine', 'Silero falls back to energy when its model cannot load')}
        />
        {num('mock_vad_threshold', 'Speech threshold', '0.05–0.95', 0.05, 0.95, 0.05, 'Silero: the speech probability that starts speech; speech continues down to this − 0.15')}
        {num('mock_vad_energy_threshold', 'Energy threshold', 'RMS, 1–32767', 1, 32767, 1, 'Energy detector: a 32 ms frame this loud or louder counts as speech')}
        {num('mock_vad_pre_roll_ms', 'Pre-roll', 'ms', 0, 5000, 10, 'Audio from before speech starts, kept with the utterance')}
        {num('mock_vad_min_speech_ms', 'Minimum speech', 'ms', 32, 5000, 10, 'Shorter speech is discarded')}
        {num('mock_vad_end_silence_ms', 'End-of-speech silence', 'ms', 96, 10000, 10, 'Continuous silence that ends an utterance')}
        {num('mock_vad_max_utterance_ms', 'Maximum utterance', 'ms', 500, 60000, 100, 'Hard cut of one utterance, pre-roll included')}
      </div>

      <h3>Barge-in</h3>
      <div className="grid-2">
        <CheckField
          label="Let the caller talk over the reply"
          checked={d.mock_barge_in}
          onChange={(v) => set({ mock_barge_in: v })}
          error={e.mock_barge_in}
          hint={hint('mock_barge_in', 'Playback stops at once and only the heard part of the reply counts. There is no echo cancellation: with loudspeakers the reply itself can trigger it — use headphones, or raise the minimum speech')}
        />
        {num('mock_barge_in_min_speech_ms', 'Minimum speech over a reply', 'ms', 32, 3000, 10, 'Speech needed over a playing reply before it is cut; guards against clicks and speaker echo')}
      </div>

      <h3>Audio devices</h3>
      <div className="grid-2">
        <SelectField label="Microphone" value={d.mock_input_device} options={deviceChoices(ins, d.mock_input_device)} onChange={(v) => set({ mock_input_device: v })} error={e.mock_input_device} hint={hint('mock_input_device', 'Capture device on the gateway computer')} />
        <SelectField label="Speaker" value={d.mock_output_device} options={deviceChoices(outs, d.mock_output_device)} onChange={(v) => set({ mock_output_device: v })} error={e.mock_output_device} hint={hint('mock_output_device', 'Playback device on the gateway computer')} />
        <SelectField
          label="Recorder"
          value={d.mock_recorder}
          options={RECORDERS}
          onChange={(v) => set({ mock_recorder: v as MockCallSettingValues['mock_recorder'] })}
          error={e.mock_recorder}
          hint={hint('mock_recorder', 'The program that records the microphone')}
        />
      </div>
      {devices.state === 'error' || devices.state === 'missing' ? (
        <Notice tone="warn" title="Could not list the audio devices">
          {devices.detail} — the system default is always available.
        </Notice>
      ) : devices.state === 'ready' && devices.data.note ? (
        <p className="muted small">{devices.data.note}</p>
      ) : null}

      <h3>Level meter</h3>
      <div className="grid-2">{num('mock_level_interval_ms', 'Level meter interval', 'ms', 32, 2000, 10, 'How often the microphone level is sent to the console')}</div>

      <FormFooter busy={f.busy} message={f.message} label="Save">
        <Button onClick={() => set({ ...def })} disabled={atDefaults}>
          Reset to defaults
        </Button>
        <Button onClick={f.revert} disabled={!f.dirty}>
          Revert
        </Button>
      </FormFooter>
    </form>
  );
}
