/**
 * Phones over ADB: the list, each phone's health checks with explanations and fix buttons, a guided
 * setup (the failing checks in order, one fix each), the current call with its controls (answer,
 * reject, hang up, mute, speaker), maintenance actions that are always at hand (start the app, send
 * and verify the profile, install or update the app) and the live app log.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { useServices, useSignals } from '../app/context';
import { useAction, useLoad } from '../app/hooks';
import { href } from '../app/router';
import { Icon } from '../components/icons';
import { Badge, Button, EmptyState, Notice, NotAvailable, PageHeader, Spinner } from '../components/ui';
import type { CheckStatus, DeviceDetail, HealthCheck, LogLine } from '../api/types';
import { formatDateTime } from '../lib/format';

const TONE: Record<CheckStatus, 'ok' | 'warn' | 'bad' | 'neutral'> = { ok: 'ok', warn: 'warn', fail: 'bad', unknown: 'neutral', skipped: 'neutral' };
const STATUS_TEXT: Record<CheckStatus, string> = { ok: 'OK', warn: 'Warning', fail: 'Problem', unknown: 'Unknown', skipped: 'Skipped' };

const FIX_LABEL: Record<string, string> = {
  recheck: 'Check again', create_reverse: 'Create the port link', install_apk: 'Install the app', grant_permissions: 'Grant permissions',
  set_dialer_role: 'Make it the dialer', battery_unrestricted: 'Allow background use', launch_app: 'Start the app', push_profile: 'Send the gateway profile',
  verify_profile: 'Verify the profile', start_rootd: 'Start the root helper', remove_test_audio: 'Remove test audio', disable_ota: 'Disable system updates',
};

/** Installing the app needs the APK: picked with the desktop file dialog, or typed as a path. */
function ApkInstall({ serial, onDone, label = 'Install the app', allowDowngrade = false }: { serial: string; onDone: () => void; label?: string; allowDowngrade?: boolean }) {
  const { api, bridge } = useServices();
  const [path, setPath] = useState('');
  const id = useId();
  const act = useAction();
  const install = (p: string) =>
    void act.run(async () => {
      const r = await api.deviceAction(serial, 'install_apk', { apk_path: p, ...(allowDowngrade ? { allow_downgrade: true } : {}) });
      onDone();
      if (!r.ok) throw new Error(r.detail || 'The app was not installed.');
      return r.detail || 'Installed.';
    });
  return (
    <div className="apk">
      <div className="row">
        <label className="sr-only" htmlFor={id}>
          {label === 'Install the app' ? 'Path of the Clawfinger APK' : `Path of the Clawfinger APK (${label.toLowerCase()})`}
        </label>
        <input id={id} placeholder="/path/to/clawfinger.apk" value={path} onChange={(e) => setPath(e.target.value)} />
        {bridge ? (
          <Button
            onClick={() =>
              void bridge.pickFile([{ name: 'Android app', extensions: ['apk'] }]).then((p) => {
                if (p) setPath(p);
              })
            }
          >
            Choose…
          </Button>
        ) : null}
        <Button busy={act.busy} disabled={!path.trim()} onClick={() => install(path.trim())}>
          {label}
        </Button>
      </div>
      {act.error ? <span className="field-error" role="alert">{act.error}</span> : act.ok ? <span className="ok-text" role="status">{act.ok}</span> : null}
    </div>
  );
}

function CheckRow({ serial, check, onDone }: { serial: string; check: HealthCheck; onDone: () => void }) {
  const { api } = useServices();
  const act = useAction();
  if (check.fix === 'install_apk' && check.status !== 'ok')
    return (
      <li className={`check check-${check.status}`}>
        <Badge tone={TONE[check.status]}>{STATUS_TEXT[check.status]}</Badge>
        <div className="check-body">
          <strong>{check.title}</strong>
          <span className="muted">{check.detail}</span>
          <ApkInstall serial={serial} onDone={onDone} />
        </div>
      </li>
    );
  return (
    <li className={`check check-${check.status}`}>
      <Badge tone={TONE[check.status]}>{STATUS_TEXT[check.status]}</Badge>
      <div className="check-body">
        <strong>{check.title}</strong>
        <span className="muted">{check.detail}</span>
        {act.error ? <span className="field-error" role="alert">{act.error}</span> : act.ok ? <span className="ok-text" role="status">{act.ok}</span> : null}
      </div>
      {check.fix && check.status !== 'ok' ? (
        <Button
          busy={act.busy}
          onClick={() =>
            void act.run(async () => {
              const r = await api.deviceAction(serial, check.fix!);
              onDone();
              if (!r.ok) throw new Error(r.detail || 'The fix did not work.');
              return r.detail || 'Done.';
            })
          }
        >
          {FIX_LABEL[check.fix] ?? check.fix.replace(/_/g, ' ')}
        </Button>
      ) : null}
    </li>
  );
}

function Logcat({ serial }: { serial: string }) {
  const { api } = useServices();
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<'connecting' | 'open' | 'ended' | 'error'>('connecting');
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState('');
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    if (paused || typeof EventSource === 'undefined') return;
    const es = new EventSource(api.logcatUrl(serial, { backlog: 200, ...(filter ? { q: filter } : {}) }));
    setState('connecting');
    es.onopen = () => setState('open');
    es.addEventListener('line', (ev) => {
      try {
        const l = JSON.parse((ev as MessageEvent).data) as LogLine;
        setLines((prev) => (prev.length >= 500 ? [...prev.slice(prev.length - 499), l] : [...prev, l]));
      } catch {
        // skip a malformed line
      }
    });
    es.addEventListener('end', () => {
      setState('ended');
      es.close();
    });
    es.onerror = () => setState((s) => (s === 'ended' ? s : 'error'));
    return () => es.close();
  }, [api, serial, paused, filter]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <section className="panel" aria-labelledby={`logcat-${serial}`}>
      <div className="row-between">
        <h2 id={`logcat-${serial}`} className="panel-title">
          Phone app log
        </h2>
        <div className="row">
          <label className="sr-only" htmlFor={`logcat-filter-${serial}`}>
            Filter the log
          </label>
          <input id={`logcat-filter-${serial}`} type="search" placeholder="Filter…" defaultValue={filter} onKeyDown={(e) => e.key === 'Enter' && setFilter(e.currentTarget.value)} />
          <Button onClick={() => setPaused(!paused)} aria-pressed={paused}>
            {paused ? 'Resume' : 'Pause'}
          </Button>
          <a className="btn btn-ghost" href={api.diagnosticsUrl(serial)} download>
            <Icon name="download" size={16} /> Diagnostics
          </a>
        </div>
      </div>
      <p className="muted small" role="status">
        {paused ? 'Paused.' : state === 'open' ? 'Live — phone numbers are masked.' : state === 'ended' ? 'The phone disconnected.' : state === 'error' ? 'The log stream is not available.' : 'Connecting…'}
      </p>
      <pre className="logcat" ref={box} tabIndex={0} aria-label="Log lines">
        {lines.map((l) => (
          <div key={l.seq} className={`log-${l.level}`}>
            <span className="muted">{String(l.time).slice(-12)}</span> {l.level} {l.tag}: {l.message}
          </div>
        ))}
      </pre>
    </section>
  );
}

/** One action button with its own result line. */
function ActionButton({ serial, action, body, label, variant, onDone }: { serial: string; action: string; body?: Record<string, unknown>; label: string; variant?: 'primary' | 'secondary' | 'danger' | 'ghost' | 'warning'; onDone: () => void }) {
  const { api } = useServices();
  const act = useAction();
  return (
    <span className="action" style={{ display: 'inline-flex', alignItems: 'center', gap: 8 }}>
      <Button
        variant={variant}
        busy={act.busy}
        onClick={() =>
          void act.run(async () => {
            const r = await api.deviceAction(serial, action, body ?? {});
            onDone();
            if (!r.ok) throw new Error(r.detail || 'That did not work.');
            return r.detail || 'Done.';
          })
        }
      >
        {label}
      </Button>
      {act.error ? <span className="field-error" role="alert">{act.error}</span> : act.ok ? <span className="ok-text" role="status">{act.ok}</span> : null}
    </span>
  );
}

/** The phone's current call, with the controls that fit its phase. */
function CallControls({ d, onDone }: { d: DeviceDetail; onDone: () => void }) {
  const call = d.call;
  return (
    <section className="panel" aria-labelledby="call-title">
      <h2 id="call-title" className="panel-title">Call on this phone</h2>
      {call ? (
        <>
          <p>
            {call.direction ? `${call.direction[0].toUpperCase()}${call.direction.slice(1)} call` : 'Call'}, {call.phase}
            {call.observed === false ? ' (the phone is not reachable right now)' : ''}
          </p>
          <div className="row">
            {call.phase === 'ringing' ? (
              <>
                <ActionButton serial={d.serial} action="answer" label="Answer" variant="primary" onDone={onDone} />
                <ActionButton serial={d.serial} action="reject" label="Reject" variant="danger" onDone={onDone} />
              </>
            ) : null}
            <ActionButton serial={d.serial} action="hangup" label="Hang up on phone" variant="danger" onDone={onDone} />
            <ActionButton serial={d.serial} action="mute" body={{ muted: true }} label="Mute" onDone={onDone} />
            <ActionButton serial={d.serial} action="mute" body={{ muted: false }} label="Unmute" onDone={onDone} />
            <ActionButton serial={d.serial} action="speaker" body={{ enabled: true }} label="Speaker on" onDone={onDone} />
            <ActionButton serial={d.serial} action="speaker" body={{ enabled: false }} label="Speaker off" onDone={onDone} />
          </div>
        </>
      ) : (
        <p className="muted">No call right now.</p>
      )}
    </section>
  );
}

/** Actions that are always at hand, not only when their check fails: start the app, the profile, an app update. */
function Maintenance({ d, onDone }: { d: DeviceDetail; onDone: () => void }) {
  const installed = !!d.facts?.app.installed;
  return (
    <section className="panel" aria-labelledby="maintenance-title">
      <h2 id="maintenance-title" className="panel-title">Maintenance</h2>
      <div className="row">
        <ActionButton serial={d.serial} action="launch_app" label={FIX_LABEL.launch_app} onDone={onDone} />
        <ActionButton serial={d.serial} action="verify_profile" label={FIX_LABEL.verify_profile} onDone={onDone} />
        <ActionButton serial={d.serial} action="push_profile" label={FIX_LABEL.push_profile} onDone={onDone} />
      </div>
      <ApkInstall serial={d.serial} onDone={onDone} label={installed ? 'Update the app' : 'Install the app'} />
    </section>
  );
}

function DeviceDetailView({ serial }: { serial: string }) {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.devices);
  const [load, reload] = useLoad(() => api.device(serial), [serial, version]);
  const act = useAction();
  if (load.state === 'loading' && !load.data) return <Spinner />;
  if (load.state === 'missing') return <NotAvailable what="The phone bridge" />;
  if (load.state === 'error' && !load.data) return <Notice tone="bad" title="Phone not available">{load.detail}</Notice>;
  const d = load.data as DeviceDetail;
  const failing = d.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
  const setup = failing.filter((c) => c.fix);
  return (
    <>
      <div className="card device-facts">
        <dl className="facts">
          <div><dt>State</dt><dd>{d.state}{d.stateDetail ? ` — ${d.stateDetail}` : ''}</dd></div>
          <div><dt>Android</dt><dd>{d.androidVersion ?? '—'}</dd></div>
          <div><dt>App</dt><dd>{d.facts?.app.installed ? `installed ${d.facts.app.versionName ?? ''}` : 'not installed'}</dd></div>
          <div><dt>Port link</dt><dd>{d.reverseActive ? 'active' : 'missing'}</dd></div>
          <div><dt>Battery</dt><dd>{d.facts?.battery?.level != null ? `${d.facts.battery.level}%${d.facts.battery.charging ? ' (charging)' : ''}` : '—'}</dd></div>
          <div><dt>Checked</dt><dd>{formatDateTime(d.checkedAt ? d.checkedAt / (d.checkedAt > 1e12 ? 1000 : 1) : null)}</dd></div>
        </dl>
        <div className="row">
          <Button icon="check" busy={act.busy} onClick={() => void act.run(async () => { await api.deviceAction(serial, 'recheck'); reload(); })}>
            Check again
          </Button>
        </div>
        {act.error ? <p className="field-error" role="alert">{act.error}</p> : null}
      </div>
      {d.state === 'device' ? <CallControls d={d} onDone={reload} /> : null}
      {setup.length ? (
        <section className="panel wizard" aria-labelledby="setup-title">
          <h2 id="setup-title" className="panel-title">Setup — {setup.length} step{setup.length === 1 ? '' : 's'} left</h2>
          <ol className="checks">
            {setup.map((c) => (
              <CheckRow key={c.id} serial={serial} check={c} onDone={reload} />
            ))}
          </ol>
        </section>
      ) : d.checks.length ? (
        <Notice tone="ok" title="This phone is ready for calls" />
      ) : null}
      <section className="panel" aria-labelledby="checks-title">
        <h2 id="checks-title" className="panel-title">All health checks</h2>
        <ul className="checks">
          {d.checks.map((c) => (
            <CheckRow key={c.id} serial={serial} check={c} onDone={reload} />
          ))}
        </ul>
      </section>
      {d.state === 'device' ? <Maintenance d={d} onDone={reload} /> : null}
      {d.state === 'device' ? <Logcat serial={serial} /> : null}
    </>
  );
}

export function DevicesView({ serial }: { serial?: string }) {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.devices);
  const [load] = useLoad(() => api.devices(), [version]);
  return (
    <section className="page" aria-labelledby="devices-title">
      <PageHeader
        id="devices-title"
        title={serial ? `Phone ${serial}` : 'Devices'}
        subtitle={serial ? undefined : 'Android phones connected over USB with the Clawfinger app.'}
        actions={serial ? <a className="btn btn-ghost" href={href('devices')}><Icon name="back" size={16} /> All devices</a> : undefined}
      />
      {serial ? (
        <DeviceDetailView serial={serial} />
      ) : load.state === 'loading' ? (
        <Spinner />
      ) : load.state === 'missing' ? (
        <NotAvailable what="The phone bridge" />
      ) : load.state === 'error' ? (
        <Notice tone="bad" title="Could not list phones">{load.detail}</Notice>
      ) : (
        <>
          {!load.data.adb.ok ? (
            <Notice tone="warn" title="adb is not ready">
              {load.data.adb.detail}
            </Notice>
          ) : null}
          {load.data.devices.length === 0 ? (
            <EmptyState icon="device" title="No phone connected">
              <ol className="steps">
                <li>Install the Clawfinger phone app on an Android phone.</li>
                <li>Enable USB debugging (Settings → Developer options) and connect the phone with a USB cable.</li>
                <li>Accept the “Allow USB debugging” prompt on the phone. It appears here within seconds, with a guided setup.</li>
              </ol>
            </EmptyState>
          ) : (
            <ul className="card-grid" aria-label="Phones">
              {load.data.devices.map((d) => (
                <li key={d.serial} className="card device-card">
                  <div className="row-between">
                    <strong>{d.model ?? d.serial}</strong>
                    <Badge tone={d.ready ? 'ok' : d.health === 'fail' ? 'bad' : 'warn'}>{d.ready ? 'Ready' : d.stateDetail || 'Needs setup'}</Badge>
                  </div>
                  <span className="muted">{d.serial} · Android {d.androidVersion ?? '?'}</span>
                  {d.call ? <span>On a call: {d.call.direction ? `${d.call.direction}, ` : ''}{d.call.phase}</span> : null}
                  <a className="btn btn-secondary" href={href('devices', d.serial)}>
                    Details and setup
                  </a>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
