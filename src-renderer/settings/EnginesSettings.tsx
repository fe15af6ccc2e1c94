/**
 * Engines: health of each stage, then the settings of speech recognition, the built-in language model,
 * the built-in voices and the models folder (`/api/config/engines`). Applied live: the next turn uses them.
 */
import { useServices, useSignals } from '../app/context';
import { useAction, useLoad } from '../app/hooks';
import type { ModelsResponse } from '../api/types';
import { Badge, Button, Notice } from '../components/ui';
import type { EnginesConfigView } from '../../src-shared/protocol/settings';
import { CheckField, FormFooter, LoadState, NumberField, SelectField, TextField, useConfigForm } from './form';

const STAGE_LABEL = { asr: 'Speech recognition', llm: 'Language model', tts: 'Speech synthesis' } as const;

function EngineHealth() {
  const status = useSignals((s) => s.status);
  const h = status?.engines?.health;
  return (
    <section className="card" aria-label="Engine health">
      <h3>Engines</h3>
      <ul className="engine-list">
        {(['asr', 'llm', 'tts'] as const).map((k) => (
          <li key={k}>
            <strong>{STAGE_LABEL[k]}</strong>
            <Badge tone={h?.[k]?.ok ? 'ok' : h ? 'bad' : 'neutral'}>{h?.[k]?.ok ? 'ready' : h ? 'not ready' : 'unknown'}</Badge>
            <span className="muted small">
              {status?.engines?.selected?.[k] ?? ''} {h?.[k]?.error ? `— ${h[k]!.error}` : ''}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Installed models of a kind as choices; the current value stays selectable even when it is a custom path. */
function modelChoices(models: ModelsResponse | null, kind: string, current: string, auto: string): [string, string][] {
  const out: [string, string][] = [['', auto]];
  for (const m of models?.models ?? []) if (m.kind === kind && m.installed) out.push([m.id, m.title]);
  for (const m of models?.imported ?? []) if (m.kind === kind) out.push([m.id, `${m.name} (imported)`]);
  if (current && !out.some(([v]) => v === current)) out.push([current, `${current} (from the configuration)`]);
  return out;
}

export function EnginesSettings() {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.engines);
  const f = useConfigForm<EnginesConfigView>(api.enginesConfig, api.setEnginesConfig, version);
  // the installed models to choose from (not refetched on every download progress event)
  const [models] = useLoad(() => api.models(), [version]);
  const reload = useAction();
  const d = f.draft;
  if (!d) return <LoadState load={f.load} what="Engine settings" />;
  const e = f.errors;
  const installed = models.state === 'ready' ? models.data : null;
  const over = (k: keyof EnginesConfigView) => (d.overridden[k] ? `Set by the ${d.overridden[k]}: that value wins over this one.` : undefined);
  const set = (patch: Partial<EnginesConfigView>) => f.set(patch);
  const usesServerAsr = d.asr_engine === 'openai' || (d.asr_engine === 'auto' && d.mlx_audio_base !== '');

  return (
    <div className="stack">
      <EngineHealth />
      <form
        className="card form"
        noValidate
        aria-label="Engine settings"
        onSubmit={(ev) => {
          ev.preventDefault();
          const { models_dir_effective: _m, selected: _s, overridden: _o, ...patch } = d;
          void f.apply(patch);
        }}
      >
        <h3>Speech recognition</h3>
        <div className="grid-2">
          <SelectField
            label="Engine"
            value={d.asr_engine}
            options={[['auto', 'Automatic'], ['whisper', 'Built-in (whisper.cpp)'], ['openai', 'OpenAI-compatible server']]}
            onChange={(v) => set({ asr_engine: v as EnginesConfigView['asr_engine'] })}
            error={e.asr_engine}
            hint={over('asr_engine') ?? 'Automatic: the server when its URL is set, otherwise the built-in engine.'}
          />
          <TextField label="Language" value={d.stt_language} onChange={(v) => set({ stt_language: v })} error={e.stt_language} hint={over('stt_language') ?? 'en, de, pt-BR … or auto'} />
        </div>
        {usesServerAsr ? (
          <div className="grid-2">
            <TextField label="ASR server URL" value={d.mlx_audio_base} onChange={(v) => set({ mlx_audio_base: v })} error={e.mlx_audio_base} placeholder="http://127.0.0.1:8000" hint={over('mlx_audio_base')} />
            <TextField label="Server model" value={d.stt_model} onChange={(v) => set({ stt_model: v })} error={e.stt_model} hint={over('stt_model')} />
          </div>
        ) : (
          <div className="grid-2">
            <SelectField label="Whisper model" value={d.whisper_model} options={modelChoices(installed, 'whisper', d.whisper_model, 'Best installed model')} onChange={(v) => set({ whisper_model: v })} error={e.whisper_model} hint="Download more under Models." />
            <NumberField label="Whisper threads (0 = the free cores)" value={d.whisper_threads} min={0} max={64} step={1} onChange={(v) => set({ whisper_threads: v })} error={e.whisper_threads} />
            <NumberField label="Max tokens per segment (0 = no limit)" value={d.whisper_max_tokens} min={0} max={448} step={1} onChange={(v) => set({ whisper_max_tokens: v })} error={e.whisper_max_tokens} />
            <CheckField label="Fast mode for short utterances" checked={d.whisper_short_audio} onChange={(v) => set({ whisper_short_audio: v })} hint="Encodes only as much audio as was spoken." error={e.whisper_short_audio} />
          </div>
        )}

        <h3>Built-in language model</h3>
        <p className="muted small">Used when the language model engine is built-in (Settings › Language model).</p>
        <div className="grid-2">
          <SelectField label="GGUF model" value={d.llama_model} options={modelChoices(installed, 'llm', d.llama_model, 'Best installed model')} onChange={(v) => set({ llama_model: v })} error={e.llama_model} />
          <NumberField label="llama.cpp threads (0 = automatic)" value={d.llama_threads} min={0} max={64} step={1} onChange={(v) => set({ llama_threads: v })} error={e.llama_threads} />
          <NumberField label="Context size (tokens, 0 = automatic)" value={d.llama_context_size} min={0} max={131072} step={256} onChange={(v) => set({ llama_context_size: v })} error={e.llama_context_size} />
          <NumberField label="Calls kept warm" value={d.llama_max_sessions} min={1} max={16} step={1} onChange={(v) => set({ llama_max_sessions: v })} error={e.llama_max_sessions} hint="Each keeps its conversation cached; more use more memory." />
        </div>

        <h3>Built-in voices</h3>
        <div className="grid-2">
          <SelectField label="espeak-ng" value={d.espeak_backend} options={[['wasm', 'Bundled (no install needed)'], ['system', 'The espeak-ng program of this computer']]} onChange={(v) => set({ espeak_backend: v as EnginesConfigView['espeak_backend'] })} error={e.espeak_backend} />
          <TextField label="espeak-ng voice" value={d.espeak_voice} onChange={(v) => set({ espeak_voice: v })} error={e.espeak_voice} placeholder="from the language" hint="e.g. en-us, en-gb, de, en-us+f3" />
          <NumberField label="Rate (words per minute)" value={d.espeak_rate} min={80} max={450} step={5} onChange={(v) => set({ espeak_rate: v })} error={e.espeak_rate} />
          <NumberField label="Pitch (0–99)" value={d.espeak_pitch} min={0} max={99} step={1} onChange={(v) => set({ espeak_pitch: v })} error={e.espeak_pitch} />
          <SelectField label="Piper" value={d.piper_backend} options={[['http', 'A Piper server'], ['local', 'A downloaded Piper voice (built-in)']]} onChange={(v) => set({ piper_backend: v as EnginesConfigView['piper_backend'] })} error={e.piper_backend} />
          {d.piper_backend === 'http' ? (
            <TextField label="Piper server URL" value={d.piper_base} onChange={(v) => set({ piper_base: v })} error={e.piper_base} placeholder="http://127.0.0.1:5123" hint={over('piper_base')} />
          ) : (
            <SelectField label="Piper voice file" value={d.piper_local_voice} options={modelChoices(installed, 'piper', d.piper_local_voice, 'Best installed voice for the language')} onChange={(v) => set({ piper_local_voice: v })} error={e.piper_local_voice} />
          )}
        </div>

        <h3>Models and servers</h3>
        <div className="grid-2">
          <TextField label="Models folder" value={d.models_dir} onChange={(v) => set({ models_dir: v })} error={e.models_dir} placeholder={d.models_dir_effective} hint={`Empty = the data folder. In use: ${d.models_dir_effective}`} />
          <NumberField label="Engine server timeout (seconds)" value={d.engine_timeout_sec} min={1} max={600} step={1} onChange={(v) => set({ engine_timeout_sec: v })} error={e.engine_timeout_sec} />
        </div>
        <FormFooter busy={f.busy} message={f.message} />
      </form>
      <section className="card" aria-label="Configuration file">
        <h3>Configuration file</h3>
        <p className="muted small">Edited config.json by hand? Load it without restarting.</p>
        <div className="row">
          <Button busy={reload.busy} onClick={() => void reload.run(async () => { await api.reloadConfig(); f.reload(); return 'Configuration reloaded from disk.'; })}>
            Reload configuration from disk
          </Button>
          {reload.error ? <span className="field-error" role="alert">{reload.error}</span> : reload.ok ? <span className="ok-text" role="status">{reload.ok}</span> : null}
        </div>
        {Object.keys(d.overridden).length ? (
          <Notice tone="info" title="Some values are set outside this page">
            {Object.entries(d.overridden).map(([k, src]) => `${k} (${src})`).join(', ')} — these win over the saved values until removed.
          </Notice>
        ) : null}
      </section>
    </div>
  );
}
