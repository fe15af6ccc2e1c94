/**
 * One call: header, live transcript with pending state, and the operator's controls — take over (Alt+T),
 * draft (Alt+D), hand back (Alt+H), hang up, steer, say now — plus taking the call from an external agent.
 */
import { useEffect, useRef, useState } from 'react';
import { useLive, useServices, usePrefs } from '../app/context';
import { hotkeyLabel, useAction, useHotkey, useNow } from '../app/hooks';
import { href } from '../app/router';
import { Icon } from '../components/icons';
import { Transcript } from '../components/Transcript';
import { Badge, Button, EmptyState, Field, Notice, PageHeader } from '../components/ui';
import { DIRECTION_LABEL, formatDuration, formatMs } from '../lib/format';
import type { LiveCall } from '../store/live-reducer';
import { Composer, type ComposerHandle } from './Composer';
import { holderText, NumberReveal } from './LiveCalls';
import type { SteerScope } from '../api/gateway';

const KEY_T = hotkeyLabel('t', 'alt');
const KEY_D = hotkeyLabel('d', 'alt');
const KEY_H = hotkeyLabel('h', 'alt');

function PendingIndicator({ call }: { call: LiveCall }) {
  const p = call.pending;
  if (call.summary.state === 'ended') return null;
  let text = '';
  if (call.typing && p?.phase === 'awaiting_holder') text = `${call.typing.name || 'The operator'} is typing…`;
  else if (p?.phase === 'transcribing') text = 'The caller spoke — transcribing…';
  else if (p?.phase === 'thinking') text = 'Thinking…';
  else if (p?.phase === 'awaiting_holder') text = 'Waiting for the reply of whoever holds the call…';
  else if (p?.phase === 'speaking') text = 'Speaking to the caller…';
  if (!text) return null;
  return (
    <div className="pending" role="status">
      <span className="dots" aria-hidden="true">
        <i />
        <i />
        <i />
      </span>
      {text}
    </div>
  );
}

function SteerPanel({ sid }: { sid: string }) {
  const { api } = useServices();
  const operator = usePrefs((p) => p.operatorName);
  const [text, setText] = useState('');
  const [scope, setScope] = useState<SteerScope>('turn');
  const act = useAction();
  return (
    <form
      className="panel"
      aria-labelledby={`steer-${sid}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (!text.trim()) return;
        void act.run(async () => {
          const r = await api.steer(sid, text.trim(), scope, operator);
          if (r && r.ok === false) throw new Error(r.detail || 'The gateway refused the instruction.');
          setText('');
          return scope === 'turn' ? 'Applied to the next reply only.' : scope === 'session' ? 'Instructions for this call updated.' : 'Knowledge for this call updated.';
        });
      }}
    >
      <h2 id={`steer-${sid}`} className="panel-title">
        <Icon name="steer" /> Steer the assistant
      </h2>
      <p className="muted small">Guide the assistant without taking the call.</p>
      <Field label="Instruction or knowledge">
        {({ id }) => <textarea id={id} rows={3} value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. Offer a call back tomorrow at 10." />}
      </Field>
      <Field label="Applies to">
        {({ id }) => (
          <select id={id} value={scope} onChange={(e) => setScope(e.target.value as SteerScope)}>
            <option value="turn">The next reply only</option>
            <option value="session">This call (instructions)</option>
            <option value="knowledge">This call (knowledge / facts)</option>
          </select>
        )}
      </Field>
      <div className="row-end">
        <Button type="submit" busy={act.busy} disabled={!text.trim()}>
          Steer
        </Button>
      </div>
      {act.error ? <p className="field-error" role="alert">{act.error}</p> : act.ok ? <p className="ok-text" role="status">{act.ok}</p> : null}
    </form>
  );
}

function SayNowPanel({ sid }: { sid: string }) {
  const { api } = useServices();
  const operator = usePrefs((p) => p.operatorName);
  const [text, setText] = useState('');
  const act = useAction();
  return (
    <form
      className="panel"
      aria-labelledby={`say-${sid}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (!text.trim()) return;
        void act.run(async () => {
          const r = await api.say(sid, text.trim(), operator);
          if (r && r.ok === false) throw new Error(r.detail || 'The gateway refused to say it.');
          setText('');
          return 'Queued — the caller hears it at their next turn.';
        });
      }}
    >
      <h2 id={`say-${sid}`} className="panel-title">
        <Icon name="speaker" /> Say now
      </h2>
      <p className="muted small">Speak a sentence to the caller without taking over.</p>
      <Field label="Text to speak">
        {({ id }) => <textarea id={id} rows={2} value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. Just a moment, I am checking the calendar." />}
      </Field>
      <div className="row-end">
        <Button type="submit" busy={act.busy} disabled={!text.trim()}>
          Say now
        </Button>
      </div>
      {act.error ? <p className="field-error" role="alert">{act.error}</p> : act.ok ? <p className="ok-text" role="status">{act.ok}</p> : null}
    </form>
  );
}

function HangUp({ sid, disabled }: { sid: string; disabled: boolean }) {
  const { api } = useServices();
  const operator = usePrefs((p) => p.operatorName);
  const [confirm, setConfirm] = useState(false);
  const act = useAction();
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirm) yes.current?.focus();
  }, [confirm]);
  if (!confirm)
    return (
      <span className="hangup-wrap">
        <Button variant="danger" icon="hangup" disabled={disabled} onClick={() => setConfirm(true)}>
          Hang up
        </Button>
        {act.error ? <span className="field-error" role="alert">{act.error}</span> : null}
      </span>
    );
  return (
    <span className="confirm" role="group" aria-label="Confirm hang up">
      <span>End this call?</span>
      <button
        ref={yes}
        type="button"
        className="btn btn-danger"
        onClick={() =>
          void act.run(async () => {
            const r = await api.hangup(sid, operator);
            setConfirm(false);
            if (r && r.ok === false) throw new Error(r.detail || 'Hang up failed.');
          })
        }
      >
        Yes, hang up
      </button>
      <button type="button" className="btn btn-ghost" onClick={() => setConfirm(false)}>
        Cancel
      </button>
    </span>
  );
}

export function CallView({ sid }: { sid: string }) {
  const call = useLive((s) => s.calls[sid]);
  const { api } = useServices();
  const operator = usePrefs((p) => p.operatorName);
  const now = useNow();
  const act = useAction();
  const composer = useRef<ComposerHandle>(null);

  const s = call?.summary;
  const ended = !s || s.state === 'ended';
  const holder = s?.holder ?? null;
  const mine = holder?.kind === 'operator' && holder.name === operator;
  const byOther = !!holder && !mine;

  const take = (mode: 'takeover' | 'draft') =>
    void act.run(async () => {
      const r = await api.takeover(sid, operator, mode);
      if (r && r.ok === false) throw new Error(r.detail || `Could not take the call (${r.reason ?? 'refused'}).`);
      setTimeout(() => composer.current?.focus(), 0);
    });
  const handBack = () =>
    void act.run(async () => {
      const r = await api.release(sid, operator);
      if (r && r.ok === false) throw new Error(r.detail || 'Could not hand the call back.');
    });

  // shortcuts need Alt (WCAG 2.1.4): a stray key press must never take or hand back a call
  useHotkey('t', () => (mine ? composer.current?.focus() : take('takeover')), !ended, 'alt');
  useHotkey('d', () => take('draft'), !ended && !(mine && holder?.mode === 'draft'), 'alt');
  useHotkey('h', handBack, !ended && mine, 'alt');

  // focus the composer when the call becomes ours (also after a takeover from another console)
  const wasMine = useRef(false);
  useEffect(() => {
    if (mine && !wasMine.current) setTimeout(() => composer.current?.focus(), 0);
    wasMine.current = mine;
  }, [mine]);

  if (!call || !s) {
    return (
      <section className="page">
        <PageHeader title="Call" actions={<a className="btn btn-ghost" href={href('calls')}><Icon name="back" size={16} /> Live calls</a>} />
        <EmptyState icon="phone" title="This call is not live">
          <p>It may have ended a while ago. Its transcript and recordings are in History.</p>
          <a className="btn btn-primary" href={href('history', sid)}>
            Open in History
          </a>
        </EmptyState>
      </section>
    );
  }

  const secs = (ended ? (s.ended_at ?? now / 1000) : now / 1000) - s.started_at;
  const h = holderText(s);
  return (
    <section className="page call-page" aria-labelledby="call-title" data-session={sid} data-seq={call.lastSeq}>
      <PageHeader
        id="call-title"
        title={
          <span className="call-title">
            <NumberReveal number={s.number} label="caller number" />
          </span>
        }
        subtitle={
          <span className="call-sub">
            <span>{DIRECTION_LABEL[s.direction] ?? 'Call'}</span>
            <span className="mono" aria-label={`Duration ${formatDuration(secs)}`}>
              {formatDuration(secs)}
            </span>
            <Badge tone={h.tone}>{h.text}</Badge>
            <span>Device: {s.device ?? (s.direction === 'mock' ? 'this computer' : '—')}</span>
            <span>Turns: {s.turn_count}</span>
            <span>Last latency: {formatMs(s.last_latency_ms)}</span>
          </span>
        }
        actions={
          <a className="btn btn-ghost" href={href('calls')}>
            <Icon name="back" size={16} /> All calls
          </a>
        }
      />

      <div className="toolbar" role="toolbar" aria-label="Call controls">
        {!mine ? (
          <>
            <Button variant="primary" icon="hand" aria-keyshortcuts={KEY_T} title={`Take over (${KEY_T})`} disabled={ended} busy={act.busy} onClick={() => take('takeover')}>
              {byOther ? `Take over from ${holder?.kind === 'agent' ? 'agent ' : ''}${holder?.name || 'agent'}` : 'Take over'} <kbd>{KEY_T}</kbd>
            </Button>
            <Button icon="robot" aria-keyshortcuts={KEY_D} title={`Draft mode (${KEY_D})`} disabled={ended} onClick={() => take('draft')}>
              Draft mode <kbd>{KEY_D}</kbd>
            </Button>
          </>
        ) : (
          <>
            {holder?.mode === 'draft' ? (
              <Button icon="hand" onClick={() => take('takeover')}>
                Switch to typing
              </Button>
            ) : (
              <Button icon="robot" aria-keyshortcuts={KEY_D} title={`Switch to draft (${KEY_D})`} onClick={() => take('draft')}>
                Switch to draft <kbd>{KEY_D}</kbd>
              </Button>
            )}
            <Button variant="warning" icon="back" aria-keyshortcuts={KEY_H} title={`Hand back to the assistant (${KEY_H})`} busy={act.busy} onClick={handBack}>
              Hand back <kbd>{KEY_H}</kbd>
            </Button>
          </>
        )}
        <span className="toolbar-spacer" />
        <HangUp sid={sid} disabled={ended} />
      </div>
      {act.error ? (
        <Notice tone="bad" title="That did not work">
          {act.error}
        </Notice>
      ) : null}
      {byOther && !ended ? (
        <Notice tone="info" title={`${holder?.kind === 'agent' ? 'An agent' : 'Another operator'} is handling this call`}>
          {holder?.name || 'Someone'} {holder?.mode === 'draft' ? 'approves the assistant’s drafts' : 'types the replies'}. You can take the call from them at any time.
        </Notice>
      ) : null}

      <div className="call-layout">
        <div className="call-main">
          <Transcript lines={call.lines} dropped={call.droppedLines} footer={<PendingIndicator call={call} />} label="Live transcript" />
          {mine && !ended ? <Composer ref={composer} sid={sid} awaiting={call.awaiting} mode={holder?.mode === 'draft' ? 'draft' : 'takeover'} /> : null}
        </div>
        <aside className="call-side" aria-label="Assist without taking over">
          {!ended ? (
            <>
              <SteerPanel sid={sid} />
              <SayNowPanel sid={sid} />
            </>
          ) : (
            <Notice tone="info" title="Call ended">
              {s.end_reason ? `Reason: ${s.end_reason.replace(/_/g, ' ')}. ` : ''}
              <a href={href('history', sid)}>Open it in History</a> for recordings and export.
            </Notice>
          )}
        </aside>
      </div>
    </section>
  );
}
