/**
 * The takeover composer: the caller's pending utterance with its deadline, a text box where Enter
 * sends (the caller hears it), quick phrases, and Draft mode's proposal to edit or approve. While the
 * operator types, the gateway is told (so it can play the holding phrase instead of the local model
 * jumping in). The signal is renewed while the reply box holds text — a pause to think does not give
 * the turn away — and stops when the box is emptied, on send, or when the call is handed back
 * (the composer unmounts).
 */
import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { useServices, usePrefs } from '../app/context';
import { useFastNow } from '../app/hooks';
import { Button } from '../components/ui';
import type { AwaitingReply } from '../store/live-reducer';
import { ApiError } from '../api/http';

/** how often "still typing" is renewed while the box holds text (well inside operator_typing_ttl_sec) */
export const TYPING_REFRESH_MS = 3000;

export interface ComposerHandle {
  focus(): void;
}

function Deadline({ awaiting }: { awaiting: AwaitingReply }) {
  const now = useFastNow(true, 200);
  const left = Math.max(0, awaiting.deadlineAt - now);
  const pct = awaiting.deadlineMs > 0 ? (left / awaiting.deadlineMs) * 100 : 0;
  const secs = Math.ceil(left / 1000);
  const urgent = left < 10_000;
  return (
    <div className={`deadline ${urgent ? 'urgent' : ''}`}>
      <div
        className="deadline-track"
        role="progressbar"
        aria-label="Time left to answer"
        aria-valuemin={0}
        aria-valuemax={Math.round(awaiting.deadlineMs / 1000)}
        aria-valuenow={secs}
        aria-valuetext={awaiting.holding ? 'holding phrase spoken' : `${secs} seconds left`}
      >
        <div className="deadline-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="deadline-text mono">
        {awaiting.holding ? 'Holding phrase played — your reply is spoken at the caller’s next turn' : left > 0 ? `${secs} s left to answer` : 'Time is up'}
      </span>
    </div>
  );
}

export const Composer = forwardRef<ComposerHandle, { sid: string; awaiting: AwaitingReply | null; mode: 'takeover' | 'draft' }>(function Composer({ sid, awaiting, mode }, ref) {
  const { api } = useServices();
  const operator = usePrefs((p) => p.operatorName);
  const phrases = usePrefs((p) => p.quickPhrases);
  const [text, setText] = useState('');
  const [edited, setEdited] = useState(false);
  const [status, setStatus] = useState<{ tone: 'ok' | 'bad' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const root = useRef<HTMLElement>(null);
  const typing = useRef<{ sentAt: number }>({ sentAt: 0 });
  useImperativeHandle(ref, () => ({ focus: () => box.current?.focus() }), []);

  // a draft arrives: put it in the box unless the operator already wrote something
  const draft = awaiting?.draft;
  const rid = awaiting?.requestId;
  useEffect(() => {
    if (draft !== undefined && !edited) setText(draft);
  }, [draft, rid, edited]);
  // a new caller utterance: the previous "sent" message no longer applies
  useEffect(() => {
    if (rid) setStatus(null);
  }, [rid]);

  const sayTyping = (on: boolean) => void api.typing(sid, on, operator).catch(() => undefined);
  const stopTyping = (send: boolean) => {
    const t = typing.current;
    if (t.sentAt && send) sayTyping(false);
    t.sentAt = 0;
  };
  // released / ended / another call: the composer unmounts and the signal stops
  useEffect(() => () => stopTyping(true), [sid]); // eslint-disable-line react-hooks/exhaustive-deps

  // "ask for more time while typing": renew the signal while the box holds text, however long the pause
  const hasText = text.trim() !== '';
  useEffect(() => {
    if (!hasText || busy) return;
    const t = setInterval(() => {
      if (!typing.current.sentAt) return; // only renew what the operator started by typing
      typing.current.sentAt = Date.now();
      sayTyping(true);
    }, TYPING_REFRESH_MS);
    return () => clearInterval(t);
  }, [hasText, busy, sid]); // eslint-disable-line react-hooks/exhaustive-deps

  const onType = (v: string) => {
    setText(v);
    setEdited(true);
    setStatus(null);
    const t = typing.current;
    if (!v.trim()) {
      stopTyping(true); // emptied: the operator gave up on this reply
      return;
    }
    const now = Date.now();
    if (now - t.sentAt > TYPING_REFRESH_MS) {
      t.sentAt = now;
      sayTyping(true);
    }
  };

  const send = async (value: string) => {
    const say = value.trim();
    if (!say || busy) return;
    setBusy(true);
    setStatus(null);
    stopTyping(false);
    try {
      const ack =
        mode === 'draft' && awaiting?.requestId
          ? await api.approve(sid, awaiting.requestId, operator, edited || say !== (awaiting.draft ?? '') ? say : undefined)
          : await api.reply(sid, say, operator, awaiting?.requestId || undefined);
      if (ack.ok === false) {
        setStatus({ tone: 'bad', text: ack.detail || `Not sent (${ack.reason ?? 'refused'}).` });
        return;
      }
      setText('');
      setEdited(false);
      setStatus({ tone: 'ok', text: ack.delivery === 'queued' ? 'Queued — the caller hears it at their next turn.' : ack.delivery === 'local' ? 'The assistant answered instead.' : 'Sent — the caller hears it now.' });
    } catch (e) {
      setStatus({ tone: 'bad', text: e instanceof ApiError && e.missing ? 'Replying is not available in this gateway.' : (e as Error).message });
    } finally {
      setBusy(false);
      // back to the text box after a quick phrase, but never steal the focus from elsewhere (Esc, H)
      if (root.current && document.activeElement && root.current.contains(document.activeElement)) box.current?.focus();
    }
  };

  const label = mode === 'draft' ? 'Reply to speak (edit the draft or approve it)' : 'Type what the caller hears';
  return (
    <section className="composer" aria-label="Your reply" ref={root}>
      {awaiting ? (
        <div className="awaiting" role="status">
          <div className="awaiting-head">
            <strong>The caller said:</strong> <q>{awaiting.transcript || '…'}</q>
          </div>
          <Deadline awaiting={awaiting} />
        </div>
      ) : (
        <p className="muted composer-idle">{mode === 'draft' ? 'Waiting for the caller. The assistant’s proposal appears here to approve or edit.' : 'Waiting for the caller. Anything you send now is spoken at their next turn.'}</p>
      )}
      <form
        className="composer-form"
        onSubmit={(e) => {
          e.preventDefault();
          void send(text);
        }}
      >
        <label htmlFor={`composer-${sid}`} className="sr-only">
          {label}
        </label>
        <textarea
          id={`composer-${sid}`}
          ref={box}
          rows={2}
          value={text}
          placeholder={mode === 'draft' ? (awaiting?.draft !== undefined ? '' : 'The proposal appears here…') : 'Type a reply and press Enter…'}
          aria-describedby={`composer-help-${sid}`}
          onChange={(e) => onType(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send(text);
            } else if (e.key === 'Escape') {
              e.currentTarget.blur();
            }
          }}
        />
        <Button variant="primary" type="submit" icon="send" busy={busy} disabled={!text.trim()}>
          {mode === 'draft' ? (edited ? 'Send edited' : 'Approve') : 'Send'}
        </Button>
      </form>
      <div id={`composer-help-${sid}`} className="field-hint">
        Enter sends · Shift+Enter new line · Esc leaves the box · Alt+H hands back
      </div>
      {phrases.length ? (
        <div className="quick" role="group" aria-label="Quick phrases">
          {phrases.map((p) => (
            <button key={p} type="button" className="chip" disabled={busy} onClick={() => void send(p)}>
              {p}
            </button>
          ))}
        </div>
      ) : null}
      {status ? (
        <p className={`composer-status tone-${status.tone}`} role={status.tone === 'bad' ? 'alert' : 'status'}>
          {status.text}
        </p>
      ) : null}
    </section>
  );
});
