/**
 * History: whether turns are recorded and how long recordings are kept (`/api/config/history`,
 * applied live; lower limits delete recordings at once), the recordings kill switch
 * (`/api/recordings/purge|resume`) and the import of an upstream gateway's data folder
 * (`/api/history/import`; in the desktop app a file dialog helps find the folder).
 */
import { useEffect, useRef, useState } from 'react';
import { useServices, useSignals } from '../app/context';
import { useAction, useLoad } from '../app/hooks';
import { ApiError } from '../api/http';
import type { HistoryConfigView, HistoryImportReport, RecordingStatus } from '../api/gateway';
import { Badge, Button, Notice, Spinner } from '../components/ui';
import { formatBytes } from '../lib/format';
import { CheckField, FormFooter, LoadState, NumberField, TextField, useConfigForm } from './form';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function RecordingBadge({ s }: { s: RecordingStatus }) {
  if (s.recording) return <Badge tone="ok">Recording</Badge>;
  if (s.paused) return <Badge tone="bad">Stopped by the kill switch</Badge>;
  return <Badge tone="neutral">Recording off</Badge>;
}

function RecordingForm({ version }: { version: number }) {
  const { api } = useServices();
  const f = useConfigForm<HistoryConfigView>(api.historyConfig, api.setHistoryConfig, version);
  const [freed, setFreed] = useState('');
  const d = f.draft;
  if (!d) return <LoadState load={f.load} what="History settings" />;
  const e = f.errors;
  const over = (k: string) => (d.overridden[k] ? `Set by the ${d.overridden[k]}: that value wins over this one.` : undefined);
  return (
    <form
      className="card form"
      noValidate
      aria-label="Recordings"
      onSubmit={(ev) => {
        ev.preventDefault();
        setFreed('');
        void f.apply({ record_audio: d.record_audio, recording_max_age_days: d.recording_max_age_days, recording_max_disk_mb: d.recording_max_disk_mb }, (fresh) => {
          const r = (fresh as HistoryConfigView & { retention?: { deleted_files: number; freed_bytes: number } }).retention;
          if (r && r.deleted_files > 0) setFreed(`The new limits deleted ${plural(r.deleted_files, 'recording')} (${formatBytes(r.freed_bytes)}).`);
        });
      }}
    >
      <h3>
        Recordings <RecordingBadge s={d.recordings} />
      </h3>
      <CheckField
        label="Record each turn's audio (caller and reply)"
        checked={d.record_audio}
        onChange={(v) => f.set({ record_audio: v })}
        error={e.record_audio}
        hint={over('record_audio') ?? 'Transcripts are always kept. Recordings stay on this computer, next to the call history.'}
      />
      <div className="grid-2">
        <NumberField
          label="Delete recordings older than"
          unit="days"
          value={d.recording_max_age_days}
          min={0}
          max={36500}
          step={1}
          onChange={(v) => f.set({ recording_max_age_days: v })}
          error={e.recording_max_age_days}
          hint={over('recording_max_age_days') ?? 'Counted from the last call that used the recording. 0 keeps them regardless of age.'}
        />
        <NumberField
          label="Keep at most"
          unit="MB"
          value={d.recording_max_disk_mb}
          min={0}
          step={1}
          onChange={(v) => f.set({ recording_max_disk_mb: v })}
          error={e.recording_max_disk_mb}
          hint={over('recording_max_disk_mb') ?? 'Above this, the least recently used recordings are deleted first. 0 = no limit.'}
        />
      </div>
      <p className="muted small" aria-label="Stored recordings">
        Stored now: {plural(d.recordings.files, 'recording')}, {formatBytes(d.recordings.bytes)}.
      </p>
      {freed ? (
        <p className="ok-text" role="status">
          {freed}
        </p>
      ) : null}
      <FormFooter busy={f.busy} message={f.message} />
    </form>
  );
}

/** Caller memory: how numbers are keyed, so one caller is recognised however the phone writes the number. */
function CallerForm({ version }: { version: number }) {
  const { api } = useServices();
  const f = useConfigForm<HistoryConfigView>(api.historyConfig, api.setHistoryConfig, version);
  const d = f.draft;
  if (!d) return <LoadState load={f.load} what="Caller settings" />;
  const over = d.overridden.caller_country_code;
  return (
    <form
      className="card form"
      noValidate
      aria-label="Callers"
      onSubmit={(ev) => {
        ev.preventDefault();
        void f.apply({ caller_country_code: d.caller_country_code.trim().replace(/^\+|^00/, '') });
      }}
    >
      <h3>Callers</h3>
      <TextField
        label="Country calling code of the phone's country"
        value={d.caller_country_code}
        placeholder="e.g. 49"
        onChange={(v) => f.set({ caller_country_code: v })}
        error={f.errors.caller_country_code}
        hint={
          over
            ? `Set by the ${over}: that value wins over this one.`
            : 'Callers the assistant remembers (“Remember each caller’s conversation” in Call settings) are keyed by their number in international form. With a code, a national number such as 0170 1234567 counts as +49 170 1234567. Empty: national numbers are kept as written.'
        }
      />
      <FormFooter busy={f.busy} message={f.message} />
    </form>
  );
}

function KillSwitch({ version, onChanged }: { version: number; onChanged: () => void }) {
  const { api } = useServices();
  const [load] = useLoad(api.recordings, [version]);
  const [status, setStatus] = useState<RecordingStatus | null>(null);
  const [confirm, setConfirm] = useState(false);
  const act = useAction();
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (load.state === 'ready') setStatus(load.data);
  }, [load]);
  useEffect(() => {
    if (confirm) yes.current?.focus();
  }, [confirm]);
  const s = status;
  if (!s) return <LoadState load={load} what="Recording status" />;
  return (
    <section className="card" aria-label="Recordings kill switch">
      <h3>
        Kill switch <RecordingBadge s={s} />
      </h3>
      <p className="muted">
        Deletes every recording at once ({plural(s.files, 'file')}, {formatBytes(s.bytes)}) and stops recording until you resume it here. Transcripts are kept.
      </p>
      {s.paused ? (
        <Notice tone="warn" title="Recording is stopped">
          No audio is recorded, whatever the setting above says, until you resume.
        </Notice>
      ) : null}
      <div className="row">
        {confirm ? (
          <span className="confirm" role="group" aria-label="Confirm deleting all recordings">
            <span>Delete all recordings now? This cannot be undone.</span>
            <button
              ref={yes}
              type="button"
              className="btn btn-danger"
              disabled={act.busy}
              onClick={() =>
                void act.run(async () => {
                  const r = await api.purgeRecordings();
                  setConfirm(false);
                  setStatus(r);
                  onChanged();
                  return `Deleted ${plural(r.deleted_files, 'recording')} (${formatBytes(r.freed_bytes)}). Recording is stopped until you resume it.`;
                })
              }
            >
              Yes, delete all
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => setConfirm(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <Button variant="danger" onClick={() => { act.clear(); setConfirm(true); }}>
            Delete all recordings and stop recording
          </Button>
        )}
        {s.paused ? (
          <Button
            busy={act.busy}
            onClick={() =>
              void act.run(async () => {
                const r = await api.resumeRecording();
                setStatus(r);
                onChanged();
                return r.recording ? 'Recording resumed.' : 'Resumed — recording stays off because "Record each turn\'s audio" is off.';
              })
            }
          >
            Resume recording
          </Button>
        ) : null}
      </div>
      {act.ok ? <p className="ok-text" role="status">{act.ok}</p> : null}
      {act.error ? <p className="field-error" role="alert">{act.error}</p> : null}
    </section>
  );
}

/** The upstream data folder from a file picked in it: <data>/sessions/x.json or <data>/caller_history/x.json → <data>. */
export function upstreamFolderOf(file: string): string {
  const sep = file.includes('\\') && !file.includes('/') ? '\\' : '/';
  const parts = file.split(/[\\/]/);
  parts.pop(); // the file
  if (parts.length > 1 && (parts[parts.length - 1] === 'sessions' || parts[parts.length - 1] === 'caller_history')) parts.pop();
  return parts.join(sep) || sep;
}

function ImportUpstream({ onImported }: { onImported: () => void }) {
  const { api, bridge } = useServices();
  const [dir, setDir] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [report, setReport] = useState<HistoryImportReport | null>(null);
  const run = async () => {
    const path = dir.trim();
    setReport(null);
    if (!path) {
      setError('Enter the full path of the upstream gateway\'s data folder (it holds sessions/ and caller_history/).');
      return;
    }
    setBusy(true);
    setError('');
    try {
      setReport(await api.importHistory(path));
      onImported();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail.replace(/^dir: /, '') : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const failures = report ? [...report.sessions.failed, ...report.callers.failed] : [];
  return (
    <form
      className="card form"
      noValidate
      aria-label="Import upstream history"
      onSubmit={(ev) => {
        ev.preventDefault();
        if (!busy) void run();
      }}
    >
      <h3>Import upstream history</h3>
      <p className="muted">
        Brings the calls (<code>sessions/</code>) and caller memory (<code>caller_history/</code>) of the original Python gateway into this history. Importing the same folder again adds only what is new.
      </p>
      <TextField
        label="Upstream data folder"
        value={dir}
        onChange={(v) => {
          setDir(v);
          setError('');
        }}
        placeholder={bridge?.platform === 'win32' ? 'C:\\Users\\you\\clawfinger\\data' : '/home/you/clawfinger/data'}
        error={error}
        hint={bridge ? 'Type the full path, or choose any session or caller file inside the folder.' : 'The full path of the folder on the computer running the gateway.'}
      />
      {busy ? <Spinner label="Importing… a large history can take a minute." /> : null}
      {report ? (
        <Notice tone={failures.length ? 'warn' : 'ok'} title="Import finished" role="status">
          <p>
            Calls: {report.sessions.imported} imported, {report.sessions.skipped} already there. Callers: {report.callers.imported} imported, {report.callers.updated} updated, {report.callers.skipped} already up to date.
          </p>
          {failures.length ? (
            <>
              <p>{plural(failures.length, 'file')} could not be read:</p>
              <ul className="small">
                {failures.slice(0, 10).map((x) => (
                  <li key={x.file}>
                    <code>{x.file}</code>: {x.error}
                  </li>
                ))}
                {failures.length > 10 ? <li>… and {failures.length - 10} more</li> : null}
              </ul>
            </>
          ) : null}
        </Notice>
      ) : null}
      <div className="form-footer">
        <span />
        <div className="row">
          {bridge ? (
            <Button
              disabled={busy}
              onClick={() =>
                void bridge.pickFile([{ name: 'Upstream session or caller file', extensions: ['json'] }]).then((file) => {
                  if (file) {
                    setDir(upstreamFolderOf(file));
                    setError('');
                  }
                })
              }
            >
              Choose…
            </Button>
          ) : null}
          <Button variant="primary" type="submit" busy={busy}>
            Import
          </Button>
        </div>
      </div>
    </form>
  );
}

export function HistorySettings() {
  const version = useSignals((s) => s.versions.config);
  const [bump, setBump] = useState(0);
  return (
    <div className="stack">
      <RecordingForm version={version + bump} />
      <CallerForm version={version + bump} />
      <KillSwitch version={version + bump} onChanged={() => setBump((n) => n + 1)} />
      <ImportUpstream onImported={() => setBump((n) => n + 1)} />
    </div>
  );
}
