/** Asks for the operator token when the gateway requires one (remote browser, agent_token_required). */
import { useEffect, useRef, useState } from 'react';
import { useConnection, useServices } from '../app/context';
import { Button, Field } from '../components/ui';

export function TokenDialog() {
  const { setToken, bridge } = useServices();
  const detail = useConnection((s) => s.tokenDetail);
  const hadToken = useConnection((s) => !!s.token);
  const [value, setValue] = useState('');
  const ref = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) {
      try {
        d.showModal();
      } catch {
        d.setAttribute('open', '');
      }
    }
  }, []);

  return (
    <dialog ref={ref} className="dialog" aria-labelledby="token-title" onCancel={(e) => e.preventDefault()}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) setToken(value.trim(), 'typed');
        }}
      >
        <h2 id="token-title">Operator token required</h2>
        <p>
          {hadToken ? 'The gateway did not accept the token.' : 'This gateway only lets operators in with the operator token.'} You find it in the data folder
          (<code>operator-token</code>) or in the desktop app under Settings → Network.
        </p>
        {detail ? <p className="muted">Gateway: {detail}</p> : null}
        <Field label="Operator token">
          {({ id }) => <input id={id} type="password" autoComplete="off" autoFocus value={value} onChange={(e) => setValue(e.target.value)} />}
        </Field>
        <div className="row-end">
          {bridge ? (
            <Button onClick={() => void bridge.getToken().then((t) => setToken(t, 'bridge'))}>Use the desktop app's token</Button>
          ) : null}
          <Button variant="primary" type="submit" disabled={!value.trim()}>
            Connect
          </Button>
        </div>
      </form>
    </dialog>
  );
}
