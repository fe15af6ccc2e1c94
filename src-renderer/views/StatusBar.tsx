/** Bottom bar: gateway link, phone, engines, agents, latency p50/p95 of the last hour. */
import { useEffect } from 'react';
import { useConnection, useLive, useServices, useSignals } from '../app/context';
import { useLoad } from '../app/hooks';
import { href } from '../app/router';
import { formatMs } from '../lib/format';
import type { EngineHealth } from '../api/types';

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
  const agents = status?.agents?.length ?? agentCount ?? 0;
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
        <Item tone={agents ? 'ok' : 'off'} label="Agents" value={String(agents)} title={status?.agents?.map((a) => a.name).join(', ') || 'No agent connected'} />
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
