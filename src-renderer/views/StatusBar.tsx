/** Bottom bar: gateway link, phone, engines, agents (who, and the calls they hold), latency p50/p95 of the last hour. */
import { useEffect, useRef, useState } from 'react';
import { useConnection, useLive, useServices, useSignals } from '../app/context';
import { useLoad } from '../app/hooks';
import { href } from '../app/router';
import { formatMs } from '../lib/format';
import type { EngineHealth, StatusResponse } from '../api/types';
import { displayNumber } from '../lib/format';

type Tone = 'ok' | 'warn' | 'bad' | 'off';

function Item({ tone, label, value, title, link }: { tone: Tone; label: string; value: string; title?: string; link?: string }) {
  const body = (
    <>
      <span className={`dot dot-${tone}`} aria-hidden="true" />
      <span className="sb-label">{label}</span>
      <span className="sb-value">{value}</span>
    </>
  );
  return (
    <li className="sb-item" title={title}>
      {link ? <a href={link}>{body}</a> : body}
    </li>
  );
}

function engineTone(h: EngineHealth | undefined): Tone {
  if (!h) return 'off';
  return h.ok ? 'ok' : 'bad';
}

/** The connected agents: a button in the bar opening a list of names and the calls each holds. */
function AgentsItem({ agents, fallbackCount }: { agents: StatusResponse['agents'] | undefined; fallbackCount: number | null }) {
  const { api, signals } = useServices();
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLLIElement>(null);
  const calls = useLive((s) => s.calls);
  const n = agents?.length ?? fallbackCount ?? 0;
  // opening asks the gateway again: who holds which call changes with every takeover
  useEffect(() => {
    if (!open) return;
    let alive = true;
    api.status().then((st) => alive && signals.setState({ status: st, statusError: '' }), () => undefined);
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    const onDown = (e: MouseEvent) => root.current && !root.current.contains(e.target as Node) && setOpen(false);
    window.addEventListener('keydown', onKey);
    window.addEventListener('mousedown', onDown);
    return () => {
      alive = false;
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('mousedown', onDown);
    };
  }, [open, api, signals]);
  return (
    <li className="sb-item sb-agents" ref={root} style={{ position: 'relative' }}>
      <button
        type="button"
        className="sb-button"
        aria-expanded={open}
        aria-controls="sb-agents-list"
        onClick={() => setOpen(!open)}
        style={{ font: 'inherit', color: 'inherit', background: 'none', border: 0, padding: 0, cursor: 'pointer', display: 'inline-flex', alignItems: 'center', gap: 6 }}
      >
        <span className={`dot dot-${n ? 'ok' : 'off'}`} aria-hidden="true" />
        <span className="sb-label">Agents</span>
        <span className="sb-value">{String(n)}</span>
      </button>
      {open ? (
        <div
          id="sb-agents-list"
          className="card sb-popover"
          role="dialog"
          aria-label="Connected agents"
          style={{ position: 'absolute', bottom: 'calc(100% + 8px)', left: 0, minWidth: 280, maxWidth: 420, zIndex: 20, padding: 12 }}
        >
          {!agents ? (
            <p className="muted small">Not known yet.</p>
          ) : !agents.length ? (
            <p className="muted small">No agent connected.</p>
          ) : (
            <ul className="agent-list" aria-label="Agents" style={{ listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: 8 }}>
              {agents.map((a) => (
                <li key={`${a.name}-${a.connected_at}`} data-agent={a.name}>
                  <strong>{a.name || 'unnamed agent'}</strong>
                  {a.kind ? <span className="muted small"> · {a.kind}</span> : null}
                  {a.takeover_sessions.length ? (
                    <ul style={{ margin: '4px 0 0', paddingLeft: 16 }} aria-label={`Calls held by ${a.name}`}>
                      {a.takeover_sessions.map((sid) => (
                        <li key={sid}>
                          <a href={href('calls', sid)} onClick={() => setOpen(false)}>
                            Call {calls[sid]?.summary.number ? displayNumber(calls[sid].summary.number, false) : sid.slice(0, 8)}
                          </a>
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <div className="muted small">holds no call</div>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </li>
  );
}

export function StatusBar() {
  const socket = useConnection((s) => s.socket);
  const socketDetail = useConnection((s) => s.socketDetail);
  const needsToken = useConnection((s) => s.needsToken);
  const status = useSignals((s) => s.status);
  const statusError = useSignals((s) => s.statusError);
  const latency = useSignals((s) => s.latency);
  const agentCount = useLive((s) => s.agentCount);

  const gwTone: Tone = needsToken ? 'warn' : socket === 'open' ? 'ok' : socket === 'connecting' ? 'warn' : 'bad';
  const gwValue = needsToken ? 'token needed' : socket === 'open' ? 'connected' : socket === 'connecting' ? 'connecting…' : 'offline';

  const h = status?.engines?.health;
  const engines = h ? [h.asr, h.llm, h.tts] : [];
  const enginesOk = engines.length > 0 && engines.every((e) => e?.ok);
  const enginesBad = engines.filter((e) => e && !e.ok).length;
  const engineTitle = h
    ? (['asr', 'llm', 'tts'] as const).map((k) => `${k.toUpperCase()}: ${h[k]?.ok ? 'ready' : h[k]?.error || 'not ready'}`).join('\n')
    : statusError || 'unknown';

  const { api } = useServices();
  const devVersion = useSignals((s) => s.versions.devices);
  const [devices, reloadDevices] = useLoad(() => api.devices(), [devVersion]);
  useEffect(() => {
    const t = setInterval(reloadDevices, 30_000);
    return () => clearInterval(t);
  }, [reloadDevices]);
  const list = devices.state === 'ready' ? devices.data.devices : [];
  const phoneDevices = devices.state === 'ready' ? { count: list.length, ready: list.filter((d) => d.ready).length } : null;
  const lat = latency?.metrics?.total_ms;
  const count = latency?.count ?? 0;

  return (
    <footer className="statusbar" aria-label="Status">
      <ul>
        <Item tone={gwTone} label="Gateway" value={gwValue} title={socket === 'open' ? 'Live event stream connected' : socketDetail || statusError} />
        <Item
          tone={phoneDevices ? (phoneDevices.ready ? 'ok' : phoneDevices.count ? 'warn' : 'off') : 'off'}
          label="Phone"
          value={phoneDevices ? (phoneDevices.ready ? 'connected' : phoneDevices.count ? 'needs setup' : 'none') : devices.state === 'missing' ? 'no bridge' : '—'}
          link={href('devices')}
        />
        <Item
          tone={h ? (enginesOk ? 'ok' : enginesBad === engines.length ? 'bad' : 'warn') : 'off'}
          label="Engines"
          value={h ? (enginesOk ? 'ready' : `${enginesBad} not ready`) : '—'}
          title={engineTitle}
          link={href('settings', 'engines')}
        />
        <AgentsItem agents={status?.agents} fallbackCount={agentCount} />
        <Item
          tone={count ? 'ok' : 'off'}
          label="Latency (1 h)"
          value={count && lat ? `p50 ${formatMs(lat.p50)} · p95 ${formatMs(lat.p95)}` : 'no turns yet'}
          title={count ? `${count} turns in the last hour` : undefined}
        />
      </ul>
    </footer>
  );
}
