/** The voice: engine, language, voice, speed (or Piper's controls), with a preview. */
import { useState } from 'react';
import { useServices, useSignals } from '../app/context';
import { useAction } from '../app/hooks';
import type { TtsConfig } from '../api/types';
import { Button, Field } from '../components/ui';
import { FormFooter, LoadState, RangeField, TextField, useConfigForm } from './form';

function VoiceSelect({ voices, value, onChange, label, error }: { voices: Record<string, string[]>; value: string; onChange: (v: string) => void; label: string; error?: string }) {
  const groups = Object.entries(voices ?? {});
  return (
    <Field label={label} error={error} hint={groups.length ? undefined : 'This engine has no voice list: type the voice name.'}>
      {({ id, describedBy }) =>
        groups.length ? (
          <select id={id} value={value} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)}>
            {!groups.some(([, v]) => v.includes(value)) ? <option value={value}>{value}</option> : null}
            {groups.map(([g, list]) => (
              <optgroup key={g} label={g}>
                {list.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        ) : (
          <input id={id} value={value} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />
        )
      }
    </Field>
  );
}

export function TtsSettings() {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.tts);
  const f = useConfigForm<TtsConfig>(api.ttsConfig, api.setTtsConfig, version);
  const [previewText, setPreviewText] = useState('');
  const preview = useAction();
  const d = f.draft;
  if (!d) return <LoadState load={f.load} what="Voice settings" />;
  const e = f.errors;
  const de = d.lang === 'de';
  return (
    <form
      className="card form"
      noValidate
      aria-label="Voice"
      onSubmit={(ev) => {
        ev.preventDefault();
        const patch: Record<string, unknown> = { tts_engine: d.engine ?? 'auto', tts_lang: d.lang };
        if (de) Object.assign(patch, { piper_voice: d.piper_voice, piper_speaker: d.piper_speaker, piper_length_scale: d.piper_length_scale, piper_noise_scale: d.piper_noise_scale, piper_noise_w: d.piper_noise_w, piper_sentence_silence: d.piper_sentence_silence });
        else Object.assign(patch, { tts_voice: d.voice, tts_speed: d.speed });
        void f.apply(patch);
      }}
    >
      <div className="grid-2">
        <Field label="Engine" error={e.tts_engine}>
          {({ id }) => (
            <select id={id} value={d.engine ?? 'auto'} onChange={(x) => f.set({ engine: x.target.value })}>
              <option value="auto">Automatic</option>
              <option value="espeak">Built-in (espeak-ng)</option>
              <option value="openai">OpenAI-compatible server</option>
              <option value="piper">Piper</option>
            </select>
          )}
        </Field>
        <fieldset className="field">
          <legend>Language</legend>
          <div className="row">
            <label className="check-label">
              <input type="radio" name="tts-lang" checked={!de} onChange={() => f.set({ lang: 'en' })} /> English
            </label>
            <label className="check-label">
              <input type="radio" name="tts-lang" checked={de} onChange={() => f.set({ lang: 'de' })} /> German (Piper)
            </label>
          </div>
          {e.tts_lang ? <div className="field-error" role="alert">{e.tts_lang}</div> : null}
        </fieldset>
      </div>
      {!de ? (
        <div className="grid-2">
          <VoiceSelect label="Voice" voices={d.voices} value={d.voice ?? ''} onChange={(v) => f.set({ voice: v })} error={e.tts_voice} />
          <RangeField label="Speed" value={d.speed ?? 1} min={0.5} max={2} step={0.05} onChange={(v) => f.set({ speed: v })} error={e.tts_speed} />
        </div>
      ) : (
        <div className="grid-2">
          <VoiceSelect label="Piper voice" voices={d.voices} value={d.piper_voice ?? ''} onChange={(v) => f.set({ piper_voice: v })} error={e.piper_voice} />
          {d.piper_voice?.includes('emotional') && d.emotions ? (
            <Field label="Emotion" error={e.piper_speaker}>
              {({ id }) => (
                <select id={id} value={d.piper_speaker ?? 0} onChange={(x) => f.set({ piper_speaker: Number(x.target.value) })}>
                  {Object.entries(d.emotions ?? {}).map(([k, v]) => (
                    <option key={k} value={v}>
                      {k}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          <RangeField label="Speed (length scale)" value={d.piper_length_scale ?? 1} min={0.5} max={2} step={0.05} onChange={(v) => f.set({ piper_length_scale: v })} error={e.piper_length_scale} />
          <RangeField label="Expressiveness" value={d.piper_noise_scale ?? 0.667} min={0} max={1} step={0.01} onChange={(v) => f.set({ piper_noise_scale: v })} error={e.piper_noise_scale} />
          <RangeField label="Duration variation" value={d.piper_noise_w ?? 0.8} min={0} max={1} step={0.01} onChange={(v) => f.set({ piper_noise_w: v })} error={e.piper_noise_w} />
          <RangeField label="Sentence pause (s)" value={d.piper_sentence_silence ?? 0.2} min={0} max={1} step={0.05} onChange={(v) => f.set({ piper_sentence_silence: v })} error={e.piper_sentence_silence} />
        </div>
      )}
      <div className="preview-row">
        <TextField label="Preview text" value={previewText} onChange={setPreviewText} placeholder="Hello, this is a voice preview." />
        <Button
          icon="play"
          busy={preview.busy}
          onClick={() =>
            void preview.run(async () => {
              const r = await api.ttsPreview({ text: previewText || undefined, ...(!de ? { voice: d.voice, speed: d.speed } : {}) });
              const a = new Audio(`data:audio/wav;base64,${r.audio_base64}`);
              await a.play().catch(() => undefined);
              return 'Playing the preview.';
            })
          }
        >
          Preview voice
        </Button>
      </div>
      {preview.error ? <p className="field-error" role="alert">{preview.error}</p> : preview.ok ? <p className="ok-text" role="status">{preview.ok}</p> : null}
      <FormFooter busy={f.busy} message={f.message} />
    </form>
  );
}
