/** Call policy (auto-answer, who may call, greetings, limits) and security (passphrase). */
import { useState } from 'react';
import { useServices, useSignals } from '../app/context';
import type { CallConfig } from '../api/types';
import { Button, Notice } from '../components/ui';
import { CheckField, FormFooter, linesToList, LoadState, NumberField, RangeField, TextField, useConfigForm } from './form';

export function CallPolicySettings() {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.call);
  const f = useConfigForm<CallConfig>(api.callConfig, api.setCallConfig, version);
  const [allow, setAllow] = useState<string | null>(null);
  const [block, setBlock] = useState<string | null>(null);
  const d = f.draft;
  if (!d) return <LoadState load={f.load} what="Call policy" />;
  const e = f.errors;
  return (
    <form
      className="card form"
      noValidate
      aria-label="Call policy"
      onSubmit={(ev) => {
        ev.preventDefault();
        void f.apply(
          {
            call_auto_answer: d.auto_answer, call_auto_answer_delay_ms: d.auto_answer_delay_ms,
            caller_allowlist: allow === null ? d.caller_allowlist : linesToList(allow), caller_blocklist: block === null ? d.caller_blocklist : linesToList(block),
            unknown_callers_allowed: d.unknown_callers_allowed, keep_history: d.keep_history,
            greeting_incoming: d.greeting_incoming_template, greeting_outgoing: d.greeting_outgoing_template, greeting_owner: d.greeting_owner,
            max_duration_sec: d.max_duration_sec, max_duration_message: d.max_duration_message,
          },
          () => {
            setAllow(null);
            setBlock(null);
          },
        );
      }}
    >
      <div className="grid-2">
        <div>
          <CheckField label="Answer incoming calls automatically" checked={d.auto_answer} onChange={(v) => f.set({ auto_answer: v })} error={e.call_auto_answer} />
          <RangeField label="Answer after (ms)" value={d.auto_answer_delay_ms} min={0} max={5000} step={100} onChange={(v) => f.set({ auto_answer_delay_ms: v })} error={e.call_auto_answer_delay_ms} />
        </div>
        <div>
          <CheckField label="Allow callers who hide their number" checked={d.unknown_callers_allowed} onChange={(v) => f.set({ unknown_callers_allowed: v })} error={e.unknown_callers_allowed} />
          <CheckField label="Remember each caller’s conversation across calls" checked={d.keep_history} onChange={(v) => f.set({ keep_history: v })} error={e.keep_history} />
        </div>
        <TextField label="Allowed callers" multiline rows={3} value={allow ?? d.caller_allowlist.join('\n')} onChange={setAllow} error={e.caller_allowlist} hint="One number per line. Empty = everyone may call." />
        <TextField label="Blocked callers" multiline rows={3} value={block ?? d.caller_blocklist.join('\n')} onChange={setBlock} error={e.caller_blocklist} hint="One number per line." />
      </div>
      <h3>Greetings</h3>
      <div className="grid-2">
        <TextField label="Incoming call greeting" multiline rows={2} value={d.greeting_incoming_template} onChange={(v) => f.set({ greeting_incoming_template: v })} error={e.greeting_incoming} hint="{owner} is replaced by the owner name." />
        <TextField label="Outgoing call greeting" multiline rows={2} value={d.greeting_outgoing_template} onChange={(v) => f.set({ greeting_outgoing_template: v })} error={e.greeting_outgoing} />
        <TextField label="Owner name" value={d.greeting_owner} onChange={(v) => f.set({ greeting_owner: v })} error={e.greeting_owner} />
      </div>
      <h3>Limits</h3>
      <div className="grid-2">
        <NumberField label="Maximum call length" unit="seconds" value={d.max_duration_sec} min={0} max={86400} step={1} onChange={(v) => f.set({ max_duration_sec: v })} error={e.max_duration_sec} hint="0 = no limit" />
        <TextField label="Said when the limit is reached" multiline rows={2} value={d.max_duration_message} onChange={(v) => f.set({ max_duration_message: v })} error={e.max_duration_message} />
      </div>
      <FormFooter busy={f.busy} message={f.message} />
    </form>
  );
}

export function SecuritySettings() {
  const { api } = useServices();
  const version = useSignals((s) => s.versions.call);
  const f = useConfigForm<CallConfig>(api.callConfig, api.setCallConfig, version);
  const [pass, setPass] = useState('');
  const d = f.draft;
  if (!d) return <LoadState load={f.load} what="Security settings" />;
  const e = f.errors;
  return (
    <form
      className="card form"
      noValidate
      aria-label="Security"
      onSubmit={(ev) => {
        ev.preventDefault();
        // the passphrase is sent only when typed: applying other fields never removes it (upstream did, §16.5 #59)
        const patch: Record<string, unknown> = { auth_reject_message: d.auth_reject_message, auth_max_attempts: d.auth_max_attempts };
        if (pass) patch.auth_passphrase = pass;
        void f.apply(patch, () => setPass(''));
      }}
    >
      <Notice tone={d.auth_required ? 'ok' : 'info'} title={d.auth_required ? 'Callers must say the passphrase' : 'No passphrase is set'}>
        {d.auth_required ? 'The passphrase itself is never shown. Type a new one to change it.' : 'Anyone allowed by the call policy talks to the assistant directly.'}
      </Notice>
      <div className="grid-2">
        <TextField label={d.auth_required ? 'New voice passphrase' : 'Voice passphrase'} type="password" value={pass} onChange={setPass} error={e.auth_passphrase} hint="Callers say it before the assistant helps them." />
        <NumberField label="Attempts before hanging up" value={d.auth_max_attempts} min={0} max={99} step={1} onChange={(v) => f.set({ auth_max_attempts: v })} error={e.auth_max_attempts} hint="0 = unlimited" />
        <TextField label="Said to rejected callers" multiline rows={2} value={d.auth_reject_message} onChange={(v) => f.set({ auth_reject_message: v })} error={e.auth_reject_message} />
      </div>
      <FormFooter busy={f.busy} message={f.message}>
        {d.auth_required ? (
          <Button variant="danger" onClick={() => void f.apply({ auth_passphrase: '' }, () => setPass(''))}>
            Remove passphrase
          </Button>
        ) : null}
      </FormFooter>
    </form>
  );
}
