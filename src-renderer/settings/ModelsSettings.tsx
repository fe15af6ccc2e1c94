/** Models: what is installed, recommended, downloading (progress, cancel), disk use, and importing a file the operator has. */
import { useState } from 'react';
import { useServices, useSignals } from '../app/context';
import { useAction, useLoad } from '../app/hooks';
import { Badge, Button, Field, Meter, Notice } from '../components/ui';
import type { DownloadState, ImportedModel, ModelEntry } from '../api/types';
import { importModel } from '../api/gateway';
import { formatBytes } from '../lib/format';
import { LoadState } from './form';

const KIND_LABEL: Record<string, string> = { whisper: 'Speech recognition', llm: 'Language model', piper: 'Voice (Piper)' };

function Progress({ dl }: { dl: DownloadState }) {
  const pct = dl.total ? Math.min(100, (dl.bytes / dl.total) * 100) : 0;
  return (
    <div className="download">
      <div className="progress" role="progressbar" aria-label={`Download ${dl.id}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)} aria-valuetext={`${Math.round(pct)}%`}>
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="muted small mono">
        {dl.status === 'verifying' ? 'verifying…' : `${formatBytes(dl.bytes)} / ${formatBytes(dl.total)}`}
        {dl.rate_bps ? ` · ${formatBytes(dl.rate_bps)}/s` : ''}
        {dl.eta_sec ? ` · ${Math.ceil(dl.eta_sec)} s left` : ''}
      </span>
    </div>
  );
}

function ModelRow({ m, dl, onChange }: { m: ModelEntry; dl: DownloadState | null; onChange: () => void }) {
  const { api } = useServices();
  const act = useAction();
  const running = dl && (dl.status === 'downloading' || dl.status === 'queued' || dl.status === 'verifying');
  return (
    <li className="model">
      <div className="model-head">
        <strong>{m.title}</strong>
        <span className="row">
          {m.recommended ? <Badge tone="accent">Recommended</Badge> : null}
          {m.installed ? <Badge tone="ok">Installed</Badge> : null}
        </span>
      </div>
      <p className="muted small">
        {m.description} · {formatBytes(m.bytes)} · ~{m.memory_mb} MB memory · {m.license}
      </p>
      {running ? <Progress dl={dl} /> : null}
      {dl?.status === 'error' ? <p className="field-error" role="alert">{dl.error || 'Download failed.'}</p> : null}
      <div className="row">
        {running ? (
          <Button onClick={() => void act.run(async () => { await api.cancelModel(m.id); onChange(); })}>Cancel</Button>
        ) : m.installed ? (
          <Button variant="danger" onClick={() => void act.run(async () => { await api.deleteModel(m.id); onChange(); })}>Delete</Button>
        ) : (
          <Button icon="download" busy={act.busy} onClick={() => void act.run(async () => { await api.downloadModel(m.id); onChange(); })}>
            {m.partial_bytes ? 'Resume download' : 'Download'}
          </Button>
        )}
      </div>
      {act.error ? <p className="field-error" role="alert">{act.error}</p> : null}
    </li>
  );
}

const MODEL_FILE_FILTERS = [
  { name: 'Model files (whisper .bin, GGUF, Piper .onnx)', extensions: ['bin', 'gguf', 'onnx'] },
  { name: 'All files', extensions: ['*'] },
];

/** Import a model file the operator already has: the desktop file picker, or a path typed in the browser. */
function ImportPanel({ imported, onDone }: { imported: ImportedModel[]; onDone: () => void }) {
  const { api, bridge } = useServices();
  const [path, setPath] = useState('');
  const act = useAction();
  const doImport = (p: string) =>
    void act.run(async () => {
      const r = await importModel(api, p);
      setPath('');
      onDone();
      return `Imported “${r.model.name}” as ${KIND_LABEL[r.model.kind]?.toLowerCase() ?? r.model.kind} (${formatBytes(r.model.bytes)}).`;
    });
  return (
    <section className="card" aria-labelledby="model-import-title">
      <h3 id="model-import-title">Import a model file</h3>
      <p className="muted small">
        Use a model you already have: a whisper.cpp model (.bin), a GGUF chat model (.gguf) or a Piper voice (.onnx with its .onnx.json next to it). The file is copied
        into the models folder and checked before it is used.
      </p>
      {bridge ? (
        <div className="row">
          <Button
            icon="download"
            busy={act.busy}
            onClick={() =>
              void (async () => {
                let picked: string | null = null;
                try {
                  picked = await bridge.pickFile(MODEL_FILE_FILTERS);
                } catch (e) {
                  void act.run(async () => {
                    throw new Error(`The file picker failed: ${(e as Error).message}`);
                  });
                  return;
                }
                if (picked) doImport(picked);
              })()
            }
          >
            Choose a model file…
          </Button>
        </div>
      ) : null}
      <form
        className="row"
        aria-label="Import a model file by path"
        onSubmit={(e) => {
          e.preventDefault();
          const p = path.trim();
          if (!p) return;
          doImport(p);
        }}
      >
        <Field label={bridge ? 'Or type the file’s path' : 'Path of the model file on the gateway computer'} hint="e.g. /home/me/Downloads/ggml-base.en.bin">
          {({ id, describedBy }) => <input id={id} type="text" className="mono" value={path} aria-describedby={describedBy} onChange={(e) => setPath(e.target.value)} spellCheck={false} autoComplete="off" />}
        </Field>
        <Button type="submit" variant="primary" busy={act.busy} disabled={!path.trim()}>
          Import
        </Button>
      </form>
      {act.error ? (
        <Notice tone="bad" title="The model was not imported" role="alert">
          {act.error}
        </Notice>
      ) : act.ok ? (
        <p className="ok-text" role="status">{act.ok}</p>
      ) : null}
      {imported.length ? (
        <>
          <h4>Imported models</h4>
          <ul className="models" aria-label="Imported models">
            {imported.map((m) => (
              <li key={m.id} className="model">
                <div className="model-head">
                  <strong>{m.name}</strong>
                  <span className="row">
                    <Badge tone="neutral">{KIND_LABEL[m.kind] ?? m.kind}</Badge>
                    <Badge tone="ok">Installed</Badge>
                  </span>
                </div>
                <p className="muted small mono">
                  {m.id} · {formatBytes(m.bytes)}
                </p>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

export function ModelsSettings() {
  const { api } = useServices();
  const downloads = useSignals((s) => s.downloads);
  const doneCount = useSignals((s) => Object.values(s.downloads).filter((d) => d.status === 'done' || d.status === 'cancelled' || d.status === 'error').length);
  const [load, reload] = useLoad(() => api.models(), [doneCount]);
  if (load.state !== 'ready' && !load.data) return <LoadState load={load} what="The model manager" />;
  const data = load.data!;
  const kinds = [...new Set(data.models.map((m) => m.kind))];
  const disk = data.disk;
  return (
    <div className="stack">
      <section className="card" aria-label="Disk use">
        <div className="row-between">
          <strong>Models folder</strong>
          <span className="muted mono small">{data.dir}</span>
        </div>
        {disk.total_bytes ? <Meter value={disk.total_bytes - (disk.free_bytes ?? 0)} max={disk.total_bytes} label="Disk used" /> : null}
        <p className="muted small">
          Models use {formatBytes(disk.used_by_models_bytes)} · {formatBytes(disk.free_bytes)} free · this computer: {data.machine.cores} cores, {formatBytes(data.machine.memory_mb * 1024 * 1024)} memory
        </p>
      </section>
      {!data.models.length ? <Notice tone="info" title="No models in the catalogue" /> : null}
      <ImportPanel imported={data.imported ?? []} onDone={reload} />
      {kinds.map((k) => (
        <section key={k} className="card" aria-label={KIND_LABEL[k] ?? k}>
          <h3>{KIND_LABEL[k] ?? k}</h3>
          <ul className="models">
            {data.models
              .filter((m) => m.kind === k)
              .map((m) => (
                <ModelRow key={m.id} m={m} dl={downloads[m.id] ?? m.download} onChange={reload} />
              ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
