/** This console: operator name, quick phrases, notifications; engines (ASR) and network facts. */
import { useState } from 'react';
import { useConnection, useServices, usePrefs, useSignals } from '../app/context';
import { useAction } from '../app/hooks';
import { AgentName } from '../lib/names';
import { Badge, Button, Notice } from '../components/ui';
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

function ConfigTable({ keys }: { keys: [string, string][] }) {
  const cfg = useSignals((s) => s.status?.config) ?? {};
  return (
    <dl className="facts facts-wide">
      {keys.map(([k, label]) => (
        <div key={k}>
          <dt>{label}</dt>
          <dd className="mono">{cfg[k] === undefined || cfg[k] === '' ? '—' : String(cfg[k])}</dd>
        </div>
      ))}
    </dl>
  );
}

export function EnginesSettings() {
  const { api } = useServices();
  const status = useSignals((s) => s.status);
  const reload = useAction();
  const h = status?.engines?.health;
  return (
    <div className="stack">
      <section className="card" aria-label="Engine health">
        <h3>Engines</h3>
        <ul className="engine-list">
          {(['asr', 'llm', 'tts'] as const).map((k) => (
            <li key={k}>
              <strong>{k === 'asr' ? 'Speech recognition' : k === 'llm' ? 'Language model' : 'Speech synthesis'}</strong>
              <Badge tone={h?.[k]?.ok ? 'ok' : h ? 'bad' : 'neutral'}>{h?.[k]?.ok ? 'ready' : h ? 'not ready' : 'unknown'}</Badge>
              <span className="muted small">{status?.engines?.selected?.[k] ?? ''} {h?.[k]?.error ? `— ${h[k]!.error}` : ''}</span>
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-label="Speech recognition">
        <h3>Speech recognition</h3>
        <ConfigTable keys={[['asr_engine', 'Engine'], ['stt_model', 'Server model'], ['stt_language', 'Language'], ['whisper_model', 'Whisper model'], ['whisper_threads', 'Threads (0 = all)'], ['mlx_audio_base', 'Server URL']]} />
        <p className="muted small">These are set in config.json (Open data folder in the desktop app); reload after editing.</p>
        <div className="row">
          <Button busy={reload.busy} onClick={() => void reload.run(async () => { await api.reloadConfig(); return 'Configuration reloaded from disk.'; })}>
            Reload configuration from disk
          </Button>
          {reload.error ? <span className="field-error" role="alert">{reload.error}</span> : reload.ok ? <span className="ok-text" role="status">{reload.ok}</span> : null}
        </div>
      </section>
    </div>
  );
}

export function NetworkSettings() {
  const { bridge, setToken } = useServices();
  const token = useConnection((s) => s.token);
  const source = useConnection((s) => s.tokenSource);
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState('');
  return (
    <div className="stack">
      <section className="card" aria-label="Gateway address">
        <h3>Gateway</h3>
        <ConfigTable keys={[['host', 'Listens on'], ['port', 'Port'], ['agent_token_required', 'Token required on this computer'], ['adb_reverse_port', 'Phone port link (0 = same)']]} />
        <p className="muted small">The phone reaches the gateway through the USB port link. Port and address are set in config.json or on the command line and apply after a restart.</p>
      </section>
      <section className="card" aria-label="Operator token">
        <h3>Operator token</h3>
        <p className="muted">Agents and consoles on other machines authenticate with it (Authorization: Bearer, or ?token= on WebSockets).</p>
        {token ? (
          <div className="row">
            <code className="token">{shown ? token : '•'.repeat(24)}</code>
            <Button onClick={() => setShown(!shown)} aria-pressed={shown}>
              {shown ? 'Hide' : 'Show'}
            </Button>
            <Button
              onClick={() =>
                void navigator.clipboard?.writeText(token).then(
                  () => setCopied('Copied.'),
                  () => setCopied('Copy failed.'),
                )
              }
            >
              Copy
            </Button>
            <Badge tone="neutral">{source === 'bridge' ? 'from the desktop app' : 'typed in this browser'}</Badge>
            {copied ? <span className="ok-text" role="status">{copied}</span> : null}
          </div>
        ) : (
          <Notice tone="info" title="This console has no token">
            Not needed on this computer. For other machines, read it from the <code>operator-token</code> file in the data folder.
          </Notice>
        )}
        <div className="row">
          {bridge ? <Button onClick={() => void bridge.openDataFolder()}>Open data folder</Button> : null}
          {source === 'typed' ? <Button onClick={() => setToken(null, 'typed')}>Forget typed token</Button> : null}
        </div>
      </section>
    </div>
  );
}
