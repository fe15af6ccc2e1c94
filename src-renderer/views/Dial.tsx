/** Place a call through the phone: validated number, device, greeting override, instructions for this call. */
import { useState } from 'react';
import { useServices } from '../app/context';
import { useAction, useLoad } from '../app/hooks';
import { Button, Field, Notice, PageHeader } from '../components/ui';
import { dialableNumber } from '../../src-shared/text/phone-number';

export function DialView() {
  const { api } = useServices();
  const [number, setNumber] = useState('');
  const [touched, setTouched] = useState(false);
  const [device, setDevice] = useState('');
  const [greeting, setGreeting] = useState('');
  const [instructions, setInstructions] = useState('');
  const [devices] = useLoad(() => api.devices(), []);
  const [callCfg] = useLoad(() => api.callConfig(), []);
  const act = useAction();

  const check = dialableNumber(number);
  const numberError = touched && !check.ok ? (check.detail === 'number required' ? 'Enter the number to call.' : 'Use digits, an optional leading +, * and # only.') : '';
  const serverFieldError = act.errorObj?.errors.find((e) => e.key === 'number')?.message;
  const phones = devices.state === 'ready' ? devices.data.devices.filter((d) => d.state === 'device') : [];

  return (
    <section className="page narrow" aria-labelledby="dial-title">
      <PageHeader id="dial-title" title="Dial" subtitle="The phone places the call; the assistant greets the person who answers." />
      <form
        className="card form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setTouched(true);
          if (!check.ok) return;
          void act.run(async () => {
            const r = await api.dial({
              number: check.number,
              ...(device ? { device } : {}),
              ...(greeting.trim() ? { greeting: greeting.trim() } : {}),
              ...(instructions.trim() ? { instructions: instructions.trim() } : {}),
            });
            if (!r.ok) throw new Error(r.detail || 'The phone did not place the call.');
            const extras = [r.device ? `on ${String(r.device)}` : '', r.greeting ? 'with your greeting' : '', r.instructions ? 'with your instructions' : ''].filter(Boolean).join(', ');
            return `Calling ${check.number}${extras ? ` (${extras})` : ''}… the call appears under Live calls when the phone connects.`;
          });
        }}
      >
        <Field label="Number" error={numberError || serverFieldError} hint="International format, e.g. +49 170 1234567. Spaces and dashes are fine.">
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              type="tel"
              inputMode="tel"
              autoComplete="off"
              value={number}
              aria-invalid={invalid}
              aria-describedby={describedBy}
              onChange={(e) => setNumber(e.target.value)}
              onBlur={() => setTouched(true)}
              placeholder="+49 170 1234567"
            />
          )}
        </Field>
        <Field
          label="Phone"
          hint={
            devices.state === 'missing'
              ? 'This gateway has no phone bridge; the call goes to the default phone.'
              : phones.length
                ? undefined
                : 'No phone is connected right now — connect one under Devices.'
          }
        >
          {({ id, describedBy }) => (
            <select id={id} value={device} aria-describedby={describedBy} onChange={(e) => setDevice(e.target.value)}>
              <option value="">Automatic (the connected phone)</option>
              {phones.map((d) => (
                <option key={d.serial} value={d.serial}>
                  {d.model ?? d.serial} ({d.serial})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Greeting for this call (optional)" hint={callCfg.state === 'ready' ? `Default: “${callCfg.data.greeting_outgoing}”` : undefined}>
          {({ id, describedBy }) => <textarea id={id} rows={2} value={greeting} aria-describedby={describedBy} onChange={(e) => setGreeting(e.target.value)} />}
        </Field>
        <Field label="Instructions for this call (optional)" hint="Added to the assistant's instructions for this call only, e.g. the reason for calling.">
          {({ id, describedBy }) => <textarea id={id} rows={3} value={instructions} aria-describedby={describedBy} onChange={(e) => setInstructions(e.target.value)} />}
        </Field>
        <div className="row-end">
          <Button variant="primary" type="submit" icon="phone" busy={act.busy}>
            Call
          </Button>
        </div>
        {act.error ? (
          <Notice tone="bad" title="The call was not placed">
            {act.error}
          </Notice>
        ) : act.ok ? (
          <Notice tone="ok">{act.ok}</Notice>
        ) : null}
      </form>
    </section>
  );
}
