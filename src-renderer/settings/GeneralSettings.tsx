/** This console: operator name, quick phrases, notifications (kept in this browser / desktop app). */
import { useState } from 'react';
import { useServices, usePrefs } from '../app/context';
import { AgentName } from '../lib/names';
import { Button } from '../components/ui';
import { CheckField, linesToList, TextField } from './form';

export function GeneralSettings() {
  const { prefs, notifier } = useServices();
  const name = usePrefs((p) => p.operatorName);
  const phrases = usePrefs((p) => p.quickPhrases);
  const notifications = usePrefs((p) => p.notifications);
  const [nameDraft, setNameDraft] = useState(name);
  const [phrasesDraft, setPhrasesDraft] = useState(phrases.join('\n'));
  const [saved, setSaved] = useState('');
  const [perm, setPerm] = useState(notifier.permission);
  const nameError = AgentName.test(nameDraft.trim()) ? '' : 'Use 1–64 letters, digits, spaces or . _ @ -';
  return (
    <form
      className="card form"
      noValidate
      aria-label="This console"
      onSubmit={(e) => {
        e.preventDefault();
        if (nameError) return;
        prefs.setState({ operatorName: nameDraft.trim(), quickPhrases: linesToList(phrasesDraft).slice(0, 12) });
        setSaved('Saved on this computer.');
      }}
    >
      <TextField label="Your name as operator" value={nameDraft} onChange={(v) => { setNameDraft(v); setSaved(''); }} error={nameError} hint="Shown to agents and in the transcript when you take a call." />
      <TextField label="Quick phrases" multiline rows={5} value={phrasesDraft} onChange={(v) => { setPhrasesDraft(v); setSaved(''); }} hint="One per line (up to 12). One click says it to the caller during a takeover." />
      <CheckField label="Notify me of incoming calls and callers waiting for me" checked={notifications} onChange={(v) => prefs.setState({ notifications: v })} />
      {notifier.available && perm !== 'granted' ? (
        <Button onClick={() => void notifier.requestPermission().then(setPerm)}>Allow desktop notifications</Button>
      ) : !notifier.available ? (
        <p className="muted small">This browser does not support notifications.</p>
      ) : null}
      <p className="muted small">Light and dark themes follow your system setting.</p>
      <div className="form-footer">
        {saved ? <span className="ok-text" role="status">{saved}</span> : <span />}
        <Button variant="primary" type="submit">
          Save
        </Button>
      </div>
    </form>
  );
}
