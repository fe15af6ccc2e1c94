/** Settings form plumbing: load a config section, edit a draft, apply a patch, show errors per key. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../api/http';
import { useLoad, type Load } from '../app/hooks';
import { Button, Field, Notice, Spinner } from '../components/ui';

export interface ConfigForm<T> {
  load: Load<T>;
  draft: T | null;
  set: (patch: Partial<T>) => void;
  errors: Record<string, string>;
  message: { tone: 'ok' | 'bad'; text: string } | null;
  busy: boolean;
  apply: (patch: Record<string, unknown>, done?: (fresh: T) => void) => Promise<boolean>;
  reload: () => void;
  /** the draft has edits not saved yet */
  dirty: boolean;
  /** drop the edits: back to the server's latest view */
  revert: () => void;
}

export interface ConfigFormOptions {
  /** shown after a successful save instead of "Saved — applied now." (a restart still says so) */
  savedText?: string;
}

/**
 * `version` changes when the server announces an update (another console, an agent): the draft is
 * refreshed unless the operator has unsaved edits.
 */
export function useConfigForm<T extends object>(get: () => Promise<T>, post: (patch: Record<string, unknown>) => Promise<T>, version: number, opts: ConfigFormOptions = {}): ConfigForm<T> {
  const [load, reload] = useLoad(get, [version]);
  const [draft, setDraft] = useState<T | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<ConfigForm<T>['message']>(null);
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);
  // the server's latest view (loaded or answered by an apply): what revert returns to
  const savedRef = useRef<T | null>(null);

  // only a newly loaded view replaces the draft: after an apply the draft is the server's answer, and
  // the load from before the apply (still in `load`) must not overwrite it
  // kept in step synchronously by set()/apply(): a load that lands between an edit and the next render
  // must see the edit (a ref written during render would still say "clean")
  const dirtyRef = useRef(false);
  useEffect(() => {
    if (load.state !== 'ready') return;
    savedRef.current = load.data;
    if (!dirtyRef.current) setDraft(load.data);
  }, [load]);

  return {
    load,
    draft,
    errors,
    message,
    busy,
    reload,
    dirty,
    set: (patch) => {
      setDraft((d) => (d ? { ...d, ...patch } : d));
      dirtyRef.current = true;
      setDirty(true);
      setMessage(null);
    },
    revert: () => {
      dirtyRef.current = false;
      setDirty(false);
      setErrors({});
      setMessage(null);
      if (savedRef.current) setDraft(savedRef.current);
    },
    apply: async (patch, done) => {
      setBusy(true);
      setErrors({});
      setMessage(null);
      try {
        const fresh = await post(patch);
        dirtyRef.current = false;
        setDirty(false);
        savedRef.current = fresh;
        setDraft(fresh);
        const later = (fresh as { restart_required?: unknown }).restart_required === true;
        setMessage({ tone: 'ok', text: later ? 'Saved — some changes apply after a restart.' : (opts.savedText ?? 'Saved — applied now.') });
        done?.(fresh);
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.errors.length) {
          setErrors(Object.fromEntries(e.errors.map((x) => [x.key, x.message])));
          setMessage({ tone: 'bad', text: 'Some values are not valid — see the marked fields.' });
        } else setMessage({ tone: 'bad', text: e instanceof ApiError && e.missing ? 'This setting cannot be changed through this gateway.' : (e as Error).message });
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}

export function FormFooter({ busy, message, children, label = 'Apply' }: { busy: boolean; message: { tone: 'ok' | 'bad'; text: string } | null; children?: ReactNode; label?: string }) {
  return (
    <div className="form-footer">
      {message ? (
        <span className={message.tone === 'ok' ? 'ok-text' : 'field-error'} role={message.tone === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </span>
      ) : (
        <span />
      )}
      <div className="row">
        {children}
        <Button variant="primary" type="submit" busy={busy}>
          {label}
        </Button>
      </div>
    </div>
  );
}

export function NumberField({ label, value, onChange, min, max, step, error, hint, unit }: { label: string; value: number; onChange: (v: number) => void; min?: number; max?: number; step?: number; error?: string; hint?: ReactNode; unit?: string }) {
  return (
    <Field label={unit ? `${label} (${unit})` : label} error={error} hint={hint}>
      {({ id, describedBy, invalid }) => (
        <input id={id} type="number" value={Number.isFinite(value) ? value : ''} min={min} max={max} step={step ?? 'any'} aria-invalid={invalid} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value === '' ? Number.NaN : Number(e.target.value))} />
      )}
    </Field>
  );
}

export function RangeField({ label, value, onChange, min, max, step, error, hint, disabled }: { label: string; value: number; onChange: (v: number) => void; min: number; max: number; step: number; error?: string; hint?: ReactNode; disabled?: boolean }) {
  return (
    <Field label={label} error={error} hint={hint}>
      {({ id, describedBy, invalid }) => (
        <div className="range">
          <input id={id} type="range" value={value} min={min} max={max} step={step} disabled={disabled} aria-invalid={invalid} aria-describedby={describedBy} onChange={(e) => onChange(Number(e.target.value))} />
          <output htmlFor={id} className="mono">
            {value}
          </output>
        </div>
      )}
    </Field>
  );
}

export function TextField({ label, value, onChange, error, hint, type = 'text', placeholder, multiline, rows }: { label: string; value: string; onChange: (v: string) => void; error?: string; hint?: ReactNode; type?: string; placeholder?: string; multiline?: boolean; rows?: number }) {
  return (
    <Field label={label} error={error} hint={hint}>
      {({ id, describedBy, invalid }) =>
        multiline ? (
          <textarea id={id} rows={rows ?? 3} value={value} placeholder={placeholder} aria-invalid={invalid} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />
        ) : (
          <input id={id} type={type} value={value} placeholder={placeholder} autoComplete="off" aria-invalid={invalid} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />
        )
      }
    </Field>
  );
}

export function SelectField({ label, value, options, onChange, error, hint }: { label: string; value: string; options: readonly (readonly [string, string])[]; onChange: (v: string) => void; error?: string; hint?: ReactNode }) {
  return (
    <Field label={label} error={error} hint={hint}>
      {({ id, describedBy, invalid }) => (
        <select id={id} value={value} aria-invalid={invalid} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)}>
          {options.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function CheckField({ label, checked, onChange, hint, error }: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string; error?: string }) {
  return (
    <div className={`field field-check ${error ? 'field-invalid' : ''}`}>
      <label className="check-label">
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} /> {label}
      </label>
      {hint ? <div className="field-hint">{hint}</div> : null}
      {error ? <div className="field-error" role="alert">{error}</div> : null}
    </div>
  );
}

export function LoadState({ load, what }: { load: Load<unknown>; what: string }) {
  if (load.state === 'loading' && !load.data) return <Spinner />;
  if (load.state === 'missing') return <Notice tone="warn" title={`${what} is not available`}>This gateway does not offer it yet.</Notice>;
  if (load.state === 'error' && !load.data) return <Notice tone="bad" title={`Could not load ${what.toLowerCase()}`}>{load.detail}</Notice>;
  return null;
}

/** Lists typed one per line (commas inside an entry survive — upstream split on commas, §16.5 #63). */
export function linesToList(s: string): string[] {
  return s.split('\n').map((x) => x.trim()).filter(Boolean);
}

/** Stop sequences: one per line; `\n` and `\t` written as escapes become the real characters. */
export function parseStops(s: string): string[] {
  return s
    .split('\n')
    .filter((x) => x.length > 0)
    .map((x) => x.replace(/\\n/g, '\n').replace(/\\t/g, '\t'));
}

export function formatStops(stops: string[]): string {
  return stops.map((x) => x.replace(/\n/g, '\\n').replace(/\t/g, '\\t')).join('\n');
}
