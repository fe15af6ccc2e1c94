/** The language model: engine, model, server, sampling, context — every upstream LLM control. */
import { useState } from 'react';
import { useServices, useSignals } from '../app/context';
import type { LlmConfig } from '../api/types';
import { Field } from '../components/ui';
import { CheckField, FormFooter, formatStops, LoadState, NumberField, parseStops, RangeField, TextField, useConfigForm } from './form';

export function LlmSettings() {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.llm);
  const f = useConfigForm<LlmConfig>(api.llmConfig, api.setLlmConfig, version);
  const [apiKey, setApiKey] = useState('');
  const [stops, setStops] = useState<string | null>(null);
  const d = f.draft;
  if (!d) return <LoadState load={f.load} what="Language model settings" />;
  const e = f.errors;
  return (
    <form
      className="card form"
      noValidate
      aria-label="Language model"
      onSubmit={(ev) => {
        ev.preventDefault();
        const patch: Record<string, unknown> = {
          llm_engine: d.engine ?? 'auto', llm_model: d.model, llm_base_url: d.base_url, llm_temperature: d.temperature, llm_top_p: d.top_p,
          llm_top_p_enabled: d.top_p_enabled, llm_top_k: d.top_k, llm_top_k_enabled: d.top_k_enabled, llm_repeat_penalty: d.repeat_penalty,
          llm_max_tokens: d.max_tokens, llm_context_tokens: d.context_tokens, max_history_turns: d.max_history_turns,
          llm_stop: stops === null ? d.stop : parseStops(stops),
        };
        if (apiKey) patch.llm_api_key = apiKey;
        void f.apply(patch, () => {
          setApiKey('');
          setStops(null);
        });
      }}
    >
      <div className="grid-2">
        <Field label="Engine" error={e.llm_engine} hint="Auto: a server when a base URL is set, otherwise the built-in llama.cpp.">
          {({ id, describedBy }) => (
            <select id={id} value={d.engine ?? 'auto'} aria-describedby={describedBy} onChange={(x) => f.set({ engine: x.target.value })}>
              <option value="auto">Automatic</option>
              <option value="llama">Built-in (llama.cpp)</option>
              <option value="openai">OpenAI-compatible server</option>
            </select>
          )}
        </Field>
        <TextField label="Model" value={d.model} onChange={(v) => f.set({ model: v })} error={e.llm_model} hint="A model name on the server, or a GGUF file / catalogue id for the built-in engine." />
        <TextField label="Server base URL" value={d.base_url} onChange={(v) => f.set({ base_url: v })} error={e.llm_base_url} placeholder="empty = built-in" hint="e.g. http://127.0.0.1:11434/v1" />
        <TextField
          label="API key"
          type="password"
          value={apiKey}
          onChange={setApiKey}
          error={e.llm_api_key}
          placeholder={d.has_api_key ? '•••••••• (set — type to replace)' : 'not set'}
          hint={d.has_api_key ? 'A key is set. It is never shown; type a new one to replace it.' : 'Only needed for hosted servers.'}
        />
      </div>
      <h3>Sampling</h3>
      <div className="grid-2">
        <RangeField label="Temperature" value={d.temperature} min={0} max={2} step={0.05} onChange={(v) => f.set({ temperature: v })} error={e.llm_temperature} />
        <RangeField label="Repeat penalty" value={d.repeat_penalty} min={1} max={2} step={0.05} onChange={(v) => f.set({ repeat_penalty: v })} error={e.llm_repeat_penalty} />
        <div>
          <CheckField label="Use top-p" checked={d.top_p_enabled} onChange={(v) => f.set({ top_p_enabled: v })} />
          <RangeField label="Top-p" value={d.top_p} min={0} max={1} step={0.05} disabled={!d.top_p_enabled} onChange={(v) => f.set({ top_p: v })} error={e.llm_top_p} />
        </div>
        <div>
          <CheckField label="Use top-k" checked={d.top_k_enabled} onChange={(v) => f.set({ top_k_enabled: v })} />
          <NumberField label="Top-k" value={d.top_k} min={0} max={1000} step={1} onChange={(v) => f.set({ top_k: v })} error={e.llm_top_k} />
        </div>
      </div>
      <h3>Length and memory</h3>
      <div className="grid-3">
        <NumberField label="Max reply tokens" value={d.max_tokens} min={1} max={32768} step={1} onChange={(v) => f.set({ max_tokens: v })} error={e.llm_max_tokens} />
        <NumberField
          label="Context window"
          unit="tokens"
          value={d.context_tokens}
          min={0}
          step={1}
          onChange={(v) => f.set({ context_tokens: v })}
          error={e.llm_context_tokens}
          hint={d.context_tokens === 0 && d.context_tokens_effective ? `0 = automatic (now ${d.context_tokens_effective})` : '0 = automatic'}
        />
        <NumberField label="History turns kept" value={d.max_history_turns} min={1} max={100} step={1} onChange={(v) => f.set({ max_history_turns: v })} error={e.max_history_turns} />
      </div>
      <TextField
        label="Stop sequences"
        multiline
        rows={3}
        value={stops ?? formatStops(d.stop)}
        onChange={setStops}
        error={e.llm_stop}
        hint="One per line. Commas are fine; write \n for a line break."
      />
      <FormFooter busy={f.busy} message={f.message} />
    </form>
  );
}
