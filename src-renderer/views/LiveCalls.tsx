/** Live calls: one card per call, newest first; recently ended calls below; recent dial / hang-up activity. */
import { useMemo, useState } from 'react';
import { useLive, useServices, usePrefs, useSignals } from '../app/context';
import { useAction, useNow } from '../app/hooks';
import { href, navigate } from '../app/router';
import { Icon } from '../components/icons';
import { Badge, Button, EmptyState, PageHeader } from '../components/ui';
import { DIRECTION_LABEL, displayNumber, formatDuration, formatMs, formatTime } from '../lib/format';
import type { LiveCall } from '../store/live-reducer';

export function holderText(c: LiveCall['summary']): { text: string; tone: 'ok' | 'accent' | 'info' | 'neutral' } {
  if (c.state === 'ended') return { text: 'Ended', tone: 'neutral' };
  if (c.holder) {
    const who = c.holder.kind === 'operator' ? `operator ${c.holder.name}` : `agent ${c.holder.name}`;
    return { text: c.holder.mode === 'draft' ? `Draft · ${who}` : `Taken over by ${who}`, tone: c.holder.kind === 'operator' ? 'accent' : 'info' };
  }
  return { text: 'Assistant', tone: 'ok' };
}

export function NumberReveal({ number, label }: { number: string; label?: string }) {
  const [shown, setShown] = useState(false);
  if (!number) return <span className="number">Unknown number</span>;
  return (
    <span className="number-wrap">
      <span className="number" aria-live="polite">
        {displayNumber(number, shown)}
      </span>
      <button
        type="button"
        className="icon-btn"
        aria-pressed={shown}
        aria-label={shown ? `Hide ${label ?? 'number'}` : `Reveal ${label ?? 'number'}`}
        title={shown ? 'Hide number' : 'Reveal number'}
        onClick={(e) => {
          e.preventDefault();
          e.stopPropagation();
          setShown(!shown);
        }}
      >
        <Icon name={shown ? 'eyeOff' : 'eye'} size={16} />
      </button>
    </span>
  );
}

function CallCard({ call }: { call: LiveCall }) {
  const now = useNow();
  const { api } = useServices();
  const operator = usePrefs((p) => p.operatorName);
  const take = useAction();
  const s = call.summary;
  const ended = s.state === 'ended';
  const secs = (ended ? (s.ended_at ?? now / 1000) : now / 1000) - s.started_at;
  const h = holderText(s);
  const mine = s.holder?.kind === 'operator' && s.holder.name === operator;
  const phase = call.pending?.phase;
  return (
    <article className={`call-card ${ended ? 'ended' : ''} ${call.awaiting ? 'waiting' : ''}`} aria-label={`${DIRECTION_LABEL[s.direction] ?? 'Call'} ${s.number ? 'call' : 'call from an unknown number'}`} data-session={s.session_id} data-seq={call.lastSeq}>
      <header>
        <span className={`dir dir-${s.direction}`} title={DIRECTION_LABEL[s.direction]}>
          <Icon name={s.direction === 'outgoing' ? 'outgoing' : s.direction === 'mock' ? 'mic' : 'incoming'} size={16} />
          {DIRECTION_LABEL[s.direction] ?? 'Call'}
        </span>
        <Badge tone={h.tone}>{h.text}</Badge>
      </header>
      <div className="call-card-number">
        <NumberReveal number={s.number} label="caller number" />
      </div>
      <dl className="facts">
        <div>
          <dt>Duration</dt>
          <dd className="mono" aria-label={`Duration ${formatDuration(secs)}`}>
            {formatDuration(secs)}
          </dd>
        </div>
        <div>
          <dt>Turns</dt>
          <dd className="mono">{s.turn_count}</dd>
        </div>
        <div>
          <dt>Last latency</dt>
          <dd className="mono">{formatMs(s.last_latency_ms)}</dd>
        </div>
        <div>
          <dt>Device</dt>
          <dd>{s.device ?? (s.direction === 'mock' ? 'this computer' : '—')}</dd>
        </div>
      </dl>
      <div className="call-card-status" aria-live="polite">
        {ended ? (
          <span className="muted">Ended{s.end_reason ? ` · ${s.end_reason.replace(/_/g, ' ')}` : ''}</span>
        ) : call.awaiting ? (
          <strong className="waiting-text">Caller is waiting for {mine ? 'you' : 'a reply'}</strong>
        ) : phase === 'transcribing' ? (
          <span>Caller spoke · transcribing…</span>
        ) : phase === 'thinking' ? (
          <span>Thinking…</span>
        ) : phase === 'speaking' ? (
          <span>Speaking…</span>
        ) : (
          <span className="muted">Listening</span>
        )}
      </div>
      <footer>
        <a className="btn btn-secondary" href={href('calls', s.session_id)}>
          Open
        </a>
        {!ended && !mine ? (
          <Button
            variant="primary"
            icon="hand"
            busy={take.busy}
            onClick={() =>
              void take.run(async () => {
                await api.takeover(s.session_id, operator);
                navigate('calls', s.session_id);
              })
            }
          >
            Take over
          </Button>
        ) : null}
      </footer>
      {take.error ? (
        <p className="field-error" role="alert">
          {take.error}
        </p>
      ) : null}
    </article>
  );
}

/** Dial and hang-up requests seen on the event stream (newest first), so the operator sees what agents and consoles did. */
function RecentActivity() {
  const activity = useSignals((s) => s.activity);
  if (!activity.length) return null;
  const recent = activity.slice(-10).reverse();
  return (
    <section aria-labelledby="activity-title" className="activity">
      <h2 id="activity-title" className="section-title">
        Recent activity
      </h2>
      <ol className="card activity-list" aria-label="Recent dial and hang-up activity" style={{ listStyle: 'none', margin: 0, padding: '8px 12px' }}>
        {recent.map((a) => (
          <li key={a.id} style={{ display: 'flex', gap: 12, padding: '2px 0' }}>
            <time className="mono muted small" dateTime={new Date(a.at * 1000).toISOString()}>
              {formatTime(a.at)}
            </time>
            <span>{a.text.startsWith('Dialled ') ? `Dialled ${displayNumber(a.text.slice(8), false)}` : a.text}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function LiveCallsView() {
  const calls = useLive((s) => s.calls);
  const { live, ended } = useMemo(() => {
    const all = Object.values(calls);
    return {
      live: all.filter((c) => c.summary.state !== 'ended').sort((a, b) => b.summary.started_at - a.summary.started_at),
      ended: all.filter((c) => c.summary.state === 'ended').sort((a, b) => (b.summary.ended_at ?? 0) - (a.summary.ended_at ?? 0)).slice(0, 6),
    };
  }, [calls]);

  return (
    <section aria-labelledby="live-title" className="page">
      <PageHeader id="live-title" title="Live calls" subtitle={live.length ? `${live.length} call${live.length === 1 ? '' : 's'} in progress` : undefined} />
      {live.length === 0 ? (
        <EmptyState icon="phone" title="No calls right now">
          <p>
            Calls appear here the moment they start. To get one: connect your Android phone with the Clawfinger app over USB (see Devices), dial a number, or try the
            assistant with a mock call through this computer's microphone.
          </p>
          <div className="row-center">
            <a className="btn btn-primary" href={href('mock')}>
              <Icon name="mic" size={16} /> Start a mock call
            </a>
            <a className="btn btn-secondary" href={href('devices')}>
              <Icon name="device" size={16} /> Connect a phone
            </a>
            <a className="btn btn-ghost" href={href('dial')}>
              <Icon name="dial" size={16} /> Dial
            </a>
          </div>
        </EmptyState>
      ) : (
        <div className="card-grid" role="list" aria-label="Calls in progress">
          {live.map((c) => (
            <div role="listitem" key={c.summary.session_id}>
              <CallCard call={c} />
            </div>
          ))}
        </div>
      )}
      {ended.length ? (
        <>
          <h2 className="section-title">Recently ended</h2>
          <div className="card-grid" role="list" aria-label="Recently ended calls">
            {ended.map((c) => (
              <div role="listitem" key={c.summary.session_id}>
                <CallCard call={c} />
              </div>
            ))}
          </div>
        </>
      ) : null}
      <RecentActivity />
    </section>
  );
}
