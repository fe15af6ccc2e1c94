/** Instructions: global (every call), per call (replaces the global one for that call), per turn (one shot). */
import { useEffect, useMemo, useState } from 'react';
import { useLive, useServices, useSignals } from '../app/context';
import { useAction, useLoad } from '../app/hooks';
import { Button, Field } from '../components/ui';
import { displayNumber, shortId } from '../lib/format';
import { LoadState, TextField } from './form';

export function InstructionsSettings() {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.instructions);
  const [load, reload] = useLoad(() => api.instructions(), [version]);
  const [base, setBase] = useState<string | null>(null);
  const saveBase = useAction();
  const calls = useLive((s) => s.calls);
  const live = useMemo(() => Object.values(calls).filter((c) => c.summary.state !== 'ended'), [calls]);
  const [sid, setSid] = useState('');
  const [callText, setCallText] = useState<string | null>(null);
  const [turnText, setTurnText] = useState('');
  const callAct = useAction();
  const turnAct = useAction();

  useEffect(() => {
    if (!sid && live.length) setSid(live[0].summary.session_id);
  }, [live, sid]);

  if (load.state !== 'ready' && !load.data) return <LoadState load={load} what="Instructions" />;
  const data = load.data!;
  const current = sid ? (data.sessions[sid] ?? '') : '';
  return (
    <div className="stack">
      <form
        className="card form"
        noValidate
        aria-label="Instructions for every call"
        onSubmit={(e) => {
          e.preventDefault();
          void saveBase.run(async () => {
            await api.setGlobalInstructions(base ?? data.base);
            setBase(null);
            reload();
            return 'Saved — used from the next reply on.';
          });
        }}
      >
        <h3>Every call</h3>
        <TextField label="Instructions for the assistant" multiline rows={6} value={base ?? data.base} onChange={setBase} hint="Empty = the built-in instructions (a concise, friendly phone assistant)." />
        <div className="form-footer">
          {saveBase.error ? <span className="field-error" role="alert">{saveBase.error}</span> : saveBase.ok ? <span className="ok-text" role="status">{saveBase.ok}</span> : <span />}
          <div className="row">
            <Button onClick={() => setBase('')}>Reset to built-in</Button>
            <Button variant="primary" type="submit" busy={saveBase.busy}>
              Save
            </Button>
          </div>
        </div>
      </form>
      <section className="card form" aria-label="Instructions for one call">
        <h3>One call</h3>
        {live.length === 0 ? (
          <p className="muted">No call is live. Per-call instructions can be set while a call runs, or with a dial.</p>
        ) : (
          <>
            <Field label="Call">
              {({ id }) => (
                <select id={id} value={sid} onChange={(e) => { setSid(e.target.value); setCallText(null); }}>
                  {live.map((c) => (
                    <option key={c.summary.session_id} value={c.summary.session_id}>
                      {displayNumber(c.summary.number, false)} · {shortId(c.summary.session_id)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <TextField label="Instructions for this call" multiline rows={3} value={callText ?? current} onChange={setCallText} hint="Replaces the instructions above for this call only." />
            <div className="form-footer">
              {callAct.error ? <span className="field-error" role="alert">{callAct.error}</span> : callAct.ok ? <span className="ok-text" role="status">{callAct.ok}</span> : <span />}
              <div className="row">
                <Button onClick={() => void callAct.run(async () => { await api.clearCallInstructions(sid); setCallText(null); reload(); return 'Cleared.'; })}>Clear</Button>
                <Button variant="primary" onClick={() => void callAct.run(async () => { await api.setCallInstructions(sid, callText ?? current); setCallText(null); reload(); return 'Saved for this call.'; })}>
                  Save for this call
                </Button>
              </div>
            </div>
            <TextField label="One-shot instruction for the next reply" multiline rows={2} value={turnText} onChange={setTurnText} />
            <div className="form-footer">
              {turnAct.error ? <span className="field-error" role="alert">{turnAct.error}</span> : turnAct.ok ? <span className="ok-text" role="status">{turnAct.ok}</span> : <span />}
              <Button variant="primary" disabled={!turnText.trim()} onClick={() => void turnAct.run(async () => { await api.setTurnInstructions(sid, turnText.trim()); setTurnText(''); return 'Applies to the next reply only.'; })}>
                Apply to next reply
              </Button>
            </div>
          </>
        )}
      </section>
    </div>
  );
}
