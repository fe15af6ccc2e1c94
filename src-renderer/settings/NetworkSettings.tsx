/**
 * Network: where the gateway listens and whether this computer needs the token too
 * (`/api/config/network`; address and port apply on the next start), and the operator token.
 */
import { useState } from 'react';
import { useConnection, useServices, useSignals } from '../app/context';
import { Badge, Button, Notice } from '../components/ui';
import type { NetworkConfigView } from '../../src-shared/protocol/settings';
import { CheckField, FormFooter, LoadState, NumberField, TextField, useConfigForm } from './form';

function GatewayAddress() {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.network);
  const f = useConfigForm<NetworkConfigView>(api.networkConfig, api.setNetworkConfig, version);
  const d = f.draft;
  if (!d) return <LoadState load={f.load} what="Network settings" />;
  const e = f.errors;
  const over = (k: string) => (d.overridden[k] ? `Set by the ${d.overridden[k]}: that value wins over this one.` : undefined);
  const now = d.listening ? `${d.listening.host}:${d.listening.bound_port}` : '';
  return (
    <form
      className="card form"
      noValidate
      aria-label="Gateway address"
      onSubmit={(ev) => {
        ev.preventDefault();
        void f.apply({ host: d.host.trim(), port: d.port, agent_token_required: d.agent_token_required });
      }}
    >
      <h3>Gateway</h3>
      <div className="grid-2">
        <TextField label="Listen address" value={d.host} onChange={(v) => f.set({ host: v })} error={e.host} hint={over('host') ?? '127.0.0.1: this computer only (the phone reaches it over USB). 0.0.0.0: every network.'} />
        <NumberField label="Port" value={d.port} min={1} max={65535} step={1} onChange={(v) => f.set({ port: v })} error={e.port} hint={over('port') ?? 'The phone app uses 8996.'} />
      </div>
      <CheckField label="Require the operator token on this computer too" checked={d.agent_token_required} onChange={(v) => f.set({ agent_token_required: v })} error={e.agent_token_required} hint="Other machines always need it. Applies at once: a browser console then asks for the token." />
      {d.restart_required ? (
        <Notice tone="warn" title="Restart to apply the new address">
          Saved. The gateway keeps listening on {now} until Clawfinger restarts.
        </Notice>
      ) : now ? (
        <p className="muted small">Listening on {now}.</p>
      ) : null}
      {d.exposed ? (
        <Notice tone="info" title="Reachable from other machines">
          Anyone on your network can connect to this address; they need the operator token below.
        </Notice>
      ) : null}
      <FormFooter busy={f.busy} message={f.message} />
    </form>
  );
}

function OperatorToken() {
  const { bridge, setToken } = useServices();
  const token = useConnection((s) => s.token);
  const source = useConnection((s) => s.tokenSource);
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState('');
  return (
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
  );
}

export function NetworkSettings() {
  return (
    <div className="stack">
      <GatewayAddress />
      <OperatorToken />
    </div>
  );
}
