/** Call history: search (number, words), filters, and a call's detail with recordings, latency and export. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useLive, useServices } from '../app/context';
import { useAction, useLoad } from '../app/hooks';
import { href, navigate } from '../app/router';
import { Icon } from '../components/icons';
import { Transcript } from '../components/Transcript';
import { Badge, Button, EmptyState, Field, Notice, NotAvailable, PageHeader, Spinner } from '../components/ui';
import type { CallDetail, CallListItem, StoredRecording } from '../api/types';
import type { LiveState } from '../store/live-reducer';
import type { HistoryQuery } from '../api/gateway';
import { DIRECTION_LABEL, displayNumber, formatDateTime, formatDuration, formatMs } from '../lib/format';
import { latencySummary } from '../lib/stats';
import { linesFromTurns } from '../lib/transcript';
import { parseProducer } from '../lib/producer';
import { NumberReveal } from './LiveCalls';

const OUTCOME_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'neutral' | 'info'> = {
  completed: 'ok', active: 'info', no_turns: 'neutral', rejected: 'warn', auth_failed: 'bad', interrupted: 'warn', imported: 'neutral',
};

/** Producer kinds of a call as words. */
function handledBy(kinds: string[]): string {
  return kinds.map((h) => parseProducer(h).label.split(' · ')[0]).join(', ') || '—';
}

function dayStart(v: string): number | undefined {
  if (!v) return undefined;
  const t = new Date(`${v}T00:00:00`).getTime();
  return Number.isFinite(t) ? Math.floor(t / 1000) : undefined;
}

function Filters({ value, onChange }: { value: HistoryQuery & { fromDay?: string; toDay?: string }; onChange: (q: HistoryQuery & { fromDay?: string; toDay?: string }) => void }) {
  const [q, setQ] = useState(value.q ?? '');
  return (
    <form
      className="filters card"
      role="search"
      aria-label="Search calls"
      onSubmit={(e) => {
        e.preventDefault();
        onChange({ ...value, q: q.trim() || undefined });
      }}
    >
      <Field label="Search words or number">
        {({ id }) => (
          <div className="search-box">
            <Icon name="search" size={16} />
            <input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder='e.g. appointment, "call back", +49170' />
          </div>
        )}
      </Field>
      <Field label="From">{({ id }) => <input id={id} type="date" value={value.fromDay ?? ''} onChange={(e) => onChange({ ...value, fromDay: e.target.value || undefined })} />}</Field>
      <Field label="To">{({ id }) => <input id={id} type="date" value={value.toDay ?? ''} onChange={(e) => onChange({ ...value, toDay: e.target.value || undefined })} />}</Field>
      <Field label="Direction">
        {({ id }) => (
          <select id={id} value={value.direction ?? ''} onChange={(e) => onChange({ ...value, direction: e.target.value || undefined })}>
            <option value="">Any</option>
            <option value="incoming">Incoming</option>
            <option value="outgoing">Outgoing</option>
            <option value="mock">Mock</option>
          </select>
        )}
      </Field>
      <Field label="Outcome">
        {({ id }) => (
          <select id={id} value={value.outcome ?? ''} onChange={(e) => onChange({ ...value, outcome: e.target.value || undefined })}>
            <option value="">Any</option>
            <option value="completed">Completed</option>
            <option value="no_turns">No conversation</option>
            <option value="rejected">Rejected</option>
            <option value="auth_failed">Passphrase failed</option>
            <option value="interrupted">Interrupted</option>
            <option value="active">Still active</option>
          </select>
        )}
      </Field>
      <Field label="Handled by">
        {({ id }) => (
          <select id={id} value={value.handled_by ?? ''} onChange={(e) => onChange({ ...value, handled_by: e.target.value || undefined })}>
            <option value="">Anyone</option>
            <option value="local">Assistant</option>
            <option value="operator">Operator</option>
            <option value="agent">Agent</option>
          </select>
        )}
      </Field>
      <div className="filters-submit">
        <Button variant="primary" type="submit" icon="search">
          Search
        </Button>
      </div>
    </form>
  );
}

function Snippet({ text }: { text: string }) {
  // the store marks matched words with [ and ]
  const parts = text.split(/(\[[^\]]*\])/g);
  return (
    <span className="snippet">
      {parts.map((p, i) => (p.startsWith('[') && p.endsWith(']') ? <mark key={i}>{p.slice(1, -1)}</mark> : <span key={i}>{p}</span>))}
    </span>
  );
}

function CallRow({ c }: { c: CallListItem }) {
  return (
    <tr>
      <td>
        <a href={href('history', c.id)} className="row-link">
          {formatDateTime(c.started_at)}
        </a>
      </td>
      <td>{DIRECTION_LABEL[c.direction] ?? c.direction}</td>
      <td className="mono">{displayNumber(c.number, false)}</td>
      <td className="mono">{formatDuration(c.duration_s)}</td>
      <td>{c.turn_count}</td>
      <td>
        <Badge tone={OUTCOME_TONE[c.outcome] ?? 'neutral'}>{c.outcome.replace(/_/g, ' ')}</Badge>
      </td>
      <td>{handledBy(c.handled_by)}</td>
      <td className="snippet-cell">{c.match ? <Snippet text={c.match.snippet} /> : null}</td>
    </tr>
  );
}

/** How long the list waits after a call started or ended before it reloads (bursts reload once). */
export const HISTORY_REFRESH_DEBOUNCE_MS = 600;

/**
 * A key that changes when a call starts or ends (session.started / session.ended reach the live
 * store): the live calls' ids with an ended flag. Pruning old ended calls also changes it, which at
 * worst reloads once more.
 */
export function liveCallsKey(s: LiveState): string {
  const parts: string[] = [];
  for (const [sid, c] of Object.entries(s.calls)) parts.push(`${sid}${c.summary.state === 'ended' ? '.' : ''}`);
  return parts.sort().join(',');
}

/** Reload (debounced) whenever a call starts or ends, so the list is live (upstream §16.5 #62). */
function useReloadOnCallChanges(reload: () => void): void {
  const key = useLive(liveCallsKey);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const t = setTimeout(reload, HISTORY_REFRESH_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [key, reload]);
}

function HistoryList({ query }: { query: URLSearchParams }) {
  const { api } = useServices();
  const initial = useMemo(() => Object.fromEntries(query.entries()) as HistoryQuery & { fromDay?: string; toDay?: string }, [query]);
  const [filters, setFilters] = useState(initial);
  const [pages, setPages] = useState<CallListItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const pagesRef = useRef(pages);
  pagesRef.current = pages;
  // a search that is only a phone number filters by number; anything else is a full-text search
  const asNumber = filters.q && /^[+\d][\d\s()*#-]*$/.test(filters.q) && /\d{3}/.test(filters.q.replace(/\D/g, '')) ? filters.q.replace(/[\s()-]/g, '') : undefined;
  const req: HistoryQuery = {
    q: asNumber ? undefined : filters.q,
    number: asNumber ?? filters.number, direction: filters.direction, outcome: filters.outcome, handled_by: filters.handled_by,
    from: dayStart(filters.fromDay ?? ''), to: filters.toDay ? (dayStart(filters.toDay) ?? 0) + 86_399 : undefined, limit: 50,
  };
  const reqKey = JSON.stringify(req);
  const [load, reload] = useLoad(() => api.calls(req), [reqKey]);
  // a reload after a call started/ended keeps the pages already loaded with "Load more"
  const refreshing = useRef(false);
  const lastKey = useRef(reqKey);
  const refresh = useMemo(() => () => {
    refreshing.current = true;
    reload();
  }, [reload]);
  useReloadOnCallChanges(refresh);
  useEffect(() => {
    if (load.state !== 'ready') return;
    const sameQuery = lastKey.current === reqKey;
    lastKey.current = reqKey;
    if (refreshing.current && sameQuery) {
      refreshing.current = false;
      const first = load.data.calls;
      const prev = pagesRef.current;
      if (prev.length <= first.length) {
        setPages(first);
        setCursor(load.data.next_cursor);
      } else {
        const ids = new Set(first.map((c) => c.id));
        setPages([...first, ...prev.filter((c) => !ids.has(c.id))]);
      }
      return;
    }
    refreshing.current = false;
    setPages(load.data.calls);
    setCursor(load.data.next_cursor);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [load]);
  const loadMore = async () => {
    if (!cursor) return;
    setMore(true);
    try {
      const r = await api.calls({ ...req, cursor });
      setPages((p) => [...p, ...r.calls]);
      setCursor(r.next_cursor);
    } finally {
      setMore(false);
    }
  };

  if (load.state === 'missing') return <NotAvailable what="Call history" />;
  return (
    <>
      <Filters value={filters} onChange={setFilters} />
      {load.state === 'error' ? (
        <Notice tone="bad" title="Search failed">
          {load.detail}
        </Notice>
      ) : null}
      {load.state === 'loading' && !pages.length ? (
        <Spinner />
      ) : pages.length === 0 && load.state === 'ready' ? (
        <EmptyState icon="history" title={req.q || req.direction || req.outcome || req.handled_by || req.from ? 'No call matches' : 'No calls yet'}>
          <p>{req.q ? 'Try other words, or fewer filters.' : 'Every call is kept here with its transcript and recordings.'}</p>
        </EmptyState>
      ) : (
        <div className="card table-card">
          <table className="table" aria-label="Calls">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Direction</th>
                <th scope="col">Number</th>
                <th scope="col">Duration</th>
                <th scope="col">Turns</th>
                <th scope="col">Outcome</th>
                <th scope="col">Handled by</th>
                <th scope="col">Match</th>
              </tr>
            </thead>
            <tbody>
              {pages.map((c) => (
                <CallRow key={c.id} c={c} />
              ))}
            </tbody>
          </table>
          {load.state === 'ready' && load.data.truncated ? <p className="muted small">Only the newest matches are ranked; add words or dates to reach older calls.</p> : null}
          {cursor ? (
            <div className="row-center">
              <Button busy={more} onClick={() => void loadMore()}>
                Load more
              </Button>
            </div>
          ) : null}
        </div>
      )}
    </>
  );
}

function AudioButton({ src, label }: { src: string; label: string }) {
  const [playing, setPlaying] = useState<HTMLAudioElement | null>(null);
  const [error, setError] = useState('');
  return (
    <>
      <button
        type="button"
        className="icon-btn"
        aria-label={playing ? `Stop ${label}` : `Play ${label}`}
        title={error || (playing ? 'Stop' : `Play ${label}`)}
        onClick={() => {
          if (playing) {
            playing.pause();
            setPlaying(null);
            return;
          }
          const a = new Audio(src);
          a.onended = () => setPlaying(null);
          a.onerror = () => {
            setError('Recording not available');
            setPlaying(null);
          };
          void a.play().catch(() => setError('Recording not available'));
          setPlaying(a);
        }}
      >
        <Icon name={playing ? 'stop' : 'play'} size={14} />
      </button>
      {error ? <span className="field-error small">{error}</span> : null}
    </>
  );
}

const DAMAGE_TEXT: Record<string, string> = {
  missing: 'The audio file of this recording is missing.',
  truncated: 'The audio file of this recording is damaged (cut short).',
};

/** A recording: a play button, or a "damaged" badge when the store found its file missing or cut short. */
function RecordingItem({ rec, side, src, turn }: { rec: StoredRecording; side: 'caller' | 'reply'; src: string; turn: number }) {
  if (rec.damaged) {
    const why = DAMAGE_TEXT[rec.damaged] ?? 'The audio file of this recording is damaged.';
    return (
      <span className="rec rec-damaged" data-damaged={rec.damaged}>
        {side}{' '}
        <span title={why} aria-label={`${side} audio of turn ${turn + 1}: damaged (${rec.damaged}). ${why}`}>
          <Badge tone="bad">damaged</Badge>
        </span>
      </span>
    );
  }
  return (
    <span className="rec">
      {side} <AudioButton src={src} label={`${side} audio of turn ${turn + 1}`} />
    </span>
  );
}

function HistoryDetail({ id }: { id: string }) {
  const { api } = useServices();
  const [load] = useLoad(() => api.call(id), [id]);
  const del = useAction();
  if (load.state === 'loading' && !load.data) return <Spinner />;
  if (load.state === 'missing') return <NotAvailable what="Call history" />;
  if (load.state === 'error' && !load.data)
    return (
      <Notice tone="bad" title="Call not found">
        {load.detail}
      </Notice>
    );
  const d = load.data as CallDetail;
  const c = d.call;
  const lines = linesFromTurns(c.id, d.turns);
  const stats = latencySummary(d.turns.filter((t) => !t.stale && t.kind !== 'no_speech').map((t) => t.metrics));
  return (
    <>
      <div className="card">
        <dl className="facts facts-call">
          <div><dt>Number</dt><dd><NumberReveal number={c.number} /></dd></div>
          <div><dt>Direction</dt><dd>{DIRECTION_LABEL[c.direction] ?? c.direction}</dd></div>
          <div><dt>Started</dt><dd>{formatDateTime(c.started_at)}</dd></div>
          <div><dt>Duration</dt><dd className="mono">{formatDuration(c.duration_s)}</dd></div>
          <div><dt>Outcome</dt><dd><Badge tone={OUTCOME_TONE[c.outcome] ?? 'neutral'}>{c.outcome.replace(/_/g, ' ')}</Badge>{c.end_reason ? ` ${c.end_reason.replace(/_/g, ' ')}` : ''}</dd></div>
          <div><dt>Handled by</dt><dd>{handledBy(c.handled_by)}</dd></div>
        </dl>
        <div className="row">
          <a className="btn btn-secondary" href={api.exportUrl(c.id, 'json')} download>
            <Icon name="download" size={16} /> Export JSON
          </a>
          <a className="btn btn-secondary" href={api.exportUrl(c.id, 'txt')} download>
            <Icon name="download" size={16} /> Export text
          </a>
          <span className="toolbar-spacer" />
          <Button
            variant="danger"
            busy={del.busy}
            onClick={() =>
              void del.run(async () => {
                await api.deleteCall(c.id);
                navigate('history');
              })
            }
          >
            Delete call and audio
          </Button>
        </div>
        {del.error ? <p className="field-error" role="alert">{del.error}</p> : null}
      </div>
      <div className="history-layout">
        <section className="panel" aria-labelledby="turns-title">
          <h2 id="turns-title" className="panel-title">Transcript</h2>
          <Transcript lines={lines} label="Call transcript" />
        </section>
        <aside className="panel" aria-labelledby="latency-title">
          <h2 id="latency-title" className="panel-title">Latency</h2>
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Stage</th>
                <th scope="col">avg</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
              </tr>
            </thead>
            <tbody>
              {stats.map((r) => (
                <tr key={r.key}>
                  <th scope="row">{r.label}</th>
                  <td className="mono">{formatMs(r.s?.avg)}</td>
                  <td className="mono">{formatMs(r.s?.p50)}</td>
                  <td className="mono">{formatMs(r.s?.p95)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2 className="panel-title">Recordings</h2>
          <ol className="recordings">
            {d.turns.filter((t) => t.recordings.caller || t.recordings.reply).map((t) => (
              <li key={t.index}>
                <span className="muted">Turn {t.index + 1}</span>
                {t.recordings.caller ? <RecordingItem rec={t.recordings.caller} side="caller" src={api.audioUrl(c.id, t.index, 'caller')} turn={t.index} /> : null}
                {t.recordings.reply ? <RecordingItem rec={t.recordings.reply} side="reply" src={api.audioUrl(c.id, t.index, 'reply')} turn={t.index} /> : null}
              </li>
            ))}
          </ol>
          {!d.turns.some((t) => t.recordings.caller || t.recordings.reply) ? <p className="muted small">No recordings for this call.</p> : null}
        </aside>
      </div>
    </>
  );
}

export function HistoryView({ id, query }: { id?: string; query: URLSearchParams }) {
  return (
    <section className="page" aria-labelledby="history-title">
      <PageHeader
        id="history-title"
        title={id ? 'Call details' : 'History'}
        subtitle={id ? undefined : 'Every call with its transcript, recordings and timings.'}
        actions={id ? <a className="btn btn-ghost" href={href('history')}><Icon name="back" size={16} /> All calls</a> : undefined}
      />
      {id ? <HistoryDetail id={id} /> : <HistoryList query={query} />}
    </section>
  );
}
