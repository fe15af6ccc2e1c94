/**
 * First run: an embedded engine (whisper, llama.cpp, Piper) has no model yet, so calls cannot be
 * answered. The banner says which, offers the recommended download for each (GET /api/models →
 * recommendations; POST /api/models/:id/download; progress arrives as model.download events) and
 * links to Settings → Models. It disappears by itself once every engine has its model.
 */
import { useEffect, useMemo, useState } from 'react';
import { useServices, useSignals } from '../app/context';
import { useAction, useLoad } from '../app/hooks';
import { href } from '../app/router';
import type { DownloadState, EngineHealth, ModelEntry, ModelKind, StatusResponse } from '../api/types';
import { formatBytes } from '../lib/format';
import { Button } from './ui';
import { Icon } from './icons';

const STAGE_OF: Record<ModelKind, { stage: 'asr' | 'llm' | 'tts'; what: string }> = {
  whisper: { stage: 'asr', what: 'speech recognition (to understand the caller)' },
  llm: { stage: 'llm', what: 'a language model (to write the replies)' },
  piper: { stage: 'tts', what: 'a voice (to speak the replies)' },
};

/** The kinds of model an embedded engine reports missing: its health is not ok and names no model/voice. */
export function missingModelKinds(status: Pick<StatusResponse, 'engines'> | null | undefined): ModelKind[] {
  const h = status?.engines?.health;
  if (!h) return [];
  const out: ModelKind[] = [];
  const none = (e: EngineHealth | undefined, field: 'model' | 'voice') => !!e && e.ok === false && field in e && e[field] === null;
  if (none(h.asr, 'model')) out.push('whisper');
  if (none(h.llm, 'model')) out.push('llm');
  if (none(h.tts, 'voice')) out.push('piper');
  return out;
}

const RUNNING = new Set(['queued', 'downloading', 'verifying']);

function DownloadRow({ kind, entry, dl, error }: { kind: ModelKind; entry: ModelEntry; dl: DownloadState | null; error: string }) {
  const pct = dl?.total ? Math.min(100, (dl.bytes / dl.total) * 100) : 0;
  const running = !!dl && RUNNING.has(dl.status);
  return (
    <li className="model" data-model={entry.id}>
      <div className="model-head">
        <strong>{entry.title}</strong>
        <span className="muted small">
          for {STAGE_OF[kind].what} · {formatBytes(entry.bytes)}
        </span>
      </div>
      {running ? (
        <div className="download">
          <div className="progress" role="progressbar" aria-label={`Download ${entry.title}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)} aria-valuetext={dl.status === 'verifying' ? 'verifying' : `${Math.round(pct)}%`}>
            <div className="progress-fill" style={{ width: `${pct}%` }} />
          </div>
          <span className="muted small mono">
            {dl.status === 'verifying' ? 'verifying…' : dl.status === 'queued' ? 'waiting…' : `${formatBytes(dl.bytes)} / ${formatBytes(dl.total)}`}
            {dl.eta_sec ? ` · ${Math.ceil(dl.eta_sec)} s left` : ''}
          </span>
        </div>
      ) : dl?.status === 'done' || entry.installed ? (
        <p className="ok-text small" role="status">Downloaded.</p>
      ) : null}
      {dl?.status === 'error' ? <p className="field-error" role="alert">{dl.error || 'The download failed.'}</p> : null}
      {error ? <p className="field-error" role="alert">{error}</p> : null}
    </li>
  );
}

export function FirstRunBanner() {
  const { api, signals } = useServices();
  const status = useSignals((s) => s.status);
  const downloads = useSignals((s) => s.downloads);
  const missing = useMemo(() => missingModelKinds(status), [status]);
  const [dismissed, setDismissed] = useState(false);
  const finished = Object.values(downloads).filter((d) => d.status === 'done').length;
  const active = missing.length > 0 && !dismissed;
  const [models, reloadModels] = useLoad(() => (active ? api.models() : Promise.resolve(null)), [active]);
  const act = useAction();
  const [errors, setErrors] = useState<Record<string, string>>({});

  // a download finished: the engines may have their model now — ask the gateway again
  useEffect(() => {
    if (!finished) return;
    reloadModels();
    let alive = true;
    api.status().then(
      (s) => alive && signals.setState({ status: s, statusError: '' }),
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, [finished, api, signals, reloadModels]);

  if (!active) return null;
  const data = models.data;
  const offers: { kind: ModelKind; entry: ModelEntry }[] = [];
  for (const kind of missing) {
    const id = data?.recommendations?.[kind];
    const entry = id ? data?.models.find((m) => m.id === id) : undefined;
    if (entry) offers.push({ kind, entry });
  }
  const dlOf = (e: ModelEntry) => downloads[e.id] ?? e.download;
  const toStart = offers.filter((o) => !o.entry.installed && !RUNNING.has(dlOf(o.entry)?.status ?? '') && dlOf(o.entry)?.status !== 'done');
  const start = () =>
    void act.run(async () => {
      const errs: Record<string, string> = {};
      await Promise.all(
        toStart.map(async (o) => {
          try {
            await api.downloadModel(o.entry.id);
          } catch (e) {
            errs[o.entry.id] = (e as Error).message;
          }
        }),
      );
      setErrors(errs);
      reloadModels();
      if (Object.keys(errs).length) throw new Error(Object.keys(errs).length === toStart.length ? 'No download could be started.' : 'Some downloads could not be started.');
    });
  const names = missing.map((k) => STAGE_OF[k].what);
  return (
    <section className="card first-run" role="region" aria-labelledby="first-run-title" style={{ maxWidth: 1280, margin: '0 auto 14px', borderColor: 'var(--warn)' }}>
      <div className="row-between">
        <h2 id="first-run-title" className="panel-title">
          <Icon name="download" size={16} /> Models needed before the assistant can answer calls
        </h2>
        <button type="button" className="btn btn-ghost" aria-label="Hide until the console is reloaded" onClick={() => setDismissed(true)}>
          Later
        </button>
      </div>
      <p>
        This computer runs the assistant locally, and it has no model yet for {names.join(', ')}. Download the recommended model{offers.length === 1 ? '' : 's'} for this
        computer below (they stay in the models folder and work offline), or choose others in <a href={href('settings', 'models')}>Settings → Models</a>.
      </p>
      {models.state === 'loading' && !data ? <p className="muted small">Looking up the recommended models…</p> : null}
      {models.state === 'error' || models.state === 'missing' ? (
        <p className="field-error" role="alert">
          The model list is not available: {models.detail}
        </p>
      ) : null}
      {offers.length ? (
        <ul className="models" aria-label="Recommended downloads">
          {offers.map((o) => (
            <DownloadRow key={o.entry.id} kind={o.kind} entry={o.entry} dl={dlOf(o.entry)} error={errors[o.entry.id] ?? ''} />
          ))}
        </ul>
      ) : data ? (
        <p className="muted small">No recommended download for this computer — pick a model in Settings → Models.</p>
      ) : null}
      <div className="row">
        {toStart.length ? (
          <Button variant="primary" icon="download" busy={act.busy} onClick={start}>
            {toStart.length === 1 ? `Download ${toStart[0].entry.title} (${formatBytes(toStart[0].entry.bytes)})` : `Download recommended models (${formatBytes(toStart.reduce((n, o) => n + o.entry.bytes, 0))})`}
          </Button>
        ) : null}
        <a className="btn btn-secondary" href={href('settings', 'models')}>
          Settings → Models
        </a>
      </div>
      {act.error ? <p className="field-error" role="alert">{act.error}</p> : null}
    </section>
  );
}
