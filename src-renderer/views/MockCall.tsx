/**
 * Mock calls without a phone: on the gateway computer's microphone and speakers (the gateway runs the
 * audio), or in this browser tab (getUserMedia, talking to /api/turn like the phone).
 */
import { useEffect, useRef, useState } from 'react';
import { useServices, useSignals } from '../app/context';
import { useAction, useLoad } from '../app/hooks';
import { href } from '../app/router';
import { Button, Field, Meter, Notice, NotAvailable, PageHeader, Spinner } from '../components/ui';
import { deviceChoices } from '../lib/audio-devices';
import { BrowserMockCall, type MockPhase, type TurnAnswer } from '../lib/browser-mock';
import { SelectField } from '../settings/form';

function GatewayMock() {
  const { api, bridge } = useServices();
  const version = useSignals((s) => s.versions.mock);
  const level = useSignals((s) => s.mockLevel);
  const [load, reload] = useLoad(() => api.mockCalls(), [version]);
  const [devices] = useLoad(() => api.mockDevices(), []);
  const [input, setInput] = useState('');
  const [output, setOutput] = useState('');
  const [bargeIn, setBargeIn] = useState(false);
  const [caller, setCaller] = useState<'microphone' | 'file'>('microphone');
  const [wavPath, setWavPath] = useState('');
  const [realtime, setRealtime] = useState(true);
  // start from Settings → Mock calls (devices, barge-in); a choice here is for this call only
  useEffect(() => {
    api.mockCallConfig().then(
      (c) => {
        setInput(c.mock_input_device);
        setOutput(c.mock_output_device);
        setBargeIn(c.mock_barge_in);
      },
      () => undefined, // an older gateway without the section: system defaults
    );
  }, [api]);
  const act = useAction();
  if (load.state === 'missing') return <NotAvailable what="Mock calls on this computer" />;
  const active = load.data?.active ?? [];
  const ins = Array.isArray(devices.data?.inputs) ? devices.data.inputs : [];
  const outs = Array.isArray(devices.data?.outputs) ? devices.data.outputs : [];
  return (
    <section className="card form" aria-labelledby="gw-mock-title">
      <h2 id="gw-mock-title" className="panel-title">
        On the gateway computer
      </h2>
      <p className="muted">The gateway records its microphone and plays replies on its speakers — a real call in every other way: transcript, takeover, history.</p>
      {load.state === 'loading' && !load.data ? <Spinner /> : null}
      {active.length ? (
        <>
          <Notice tone="ok" title="Mock call running">
            {active.map((m) => (
              <span key={m.id}>
                {m.session_id ? <a href={href('calls', m.session_id)}>Open the call</a> : 'Starting'} · {m.state}
              </span>
            ))}
          </Notice>
          <Meter value={level} max={1} label="Microphone level" />
          <div className="row-end">
            <Button variant="danger" icon="stop" busy={act.busy} onClick={() => void act.run(async () => { await api.stopMockCall(); reload(); })}>
              Stop mock call
            </Button>
          </div>
        </>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              const source =
                caller === 'file'
                  ? { source: 'file', path: wavPath.trim(), realtime }
                  : { source: 'microphone', ...(input ? { input_device: input } : {}) };
              await api.startMockCall({ ...source, sink: 'speaker', ...(output ? { output_device: output } : {}), barge_in: bargeIn });
              reload();
            });
          }}
        >
          <fieldset className="radio-row">
            <legend>The caller is</legend>
            <label className="check-label">
              <input type="radio" name="mock-caller" checked={caller === 'microphone'} onChange={() => setCaller('microphone')} /> this computer’s microphone
            </label>
            <label className="check-label">
              <input type="radio" name="mock-caller" checked={caller === 'file'} onChange={() => setCaller('file')} /> a recording (.wav) replayed
            </label>
          </fieldset>
          {caller === 'file' ? (
            <>
              <Field label="Recording on the gateway computer (full path of a .wav file)">
                {({ id }) => (
                  <div className="row">
                    <input id={id} value={wavPath} placeholder="/home/me/caller.wav" autoComplete="off" onChange={(e) => setWavPath(e.target.value)} />
                    {bridge ? (
                      <Button type="button" onClick={() => void bridge.pickFile([{ name: 'WAV audio', extensions: ['wav'] }]).then((p) => p && setWavPath(p), () => undefined)}>
                        Choose…
                      </Button>
                    ) : null}
                  </div>
                )}
              </Field>
              <label className="check-label">
                <input type="checkbox" checked={realtime} onChange={(e) => setRealtime(e.target.checked)} /> Play it at real speed (pauses and all, like a person talking)
              </label>
            </>
          ) : null}
          <div className="grid-2">
            {caller === 'microphone' ? <SelectField label="Microphone" value={input} options={deviceChoices(ins, input)} onChange={setInput} /> : null}
            <SelectField label="Speakers" value={output} options={deviceChoices(outs, output)} onChange={setOutput} />
          </div>
          {devices.data?.note ? <p className="muted small">{devices.data.note}</p> : null}
          <label className="check-label">
            <input type="checkbox" checked={bargeIn} onChange={(e) => setBargeIn(e.target.checked)} /> Let me interrupt the assistant (barge-in)
          </label>
          <div className="row-end">
            <Button variant="primary" icon="mic" type="submit" busy={act.busy}>
              Start mock call
            </Button>
          </div>
        </form>
      )}
      {act.error ? (
        <Notice tone="bad" title="The mock call did not start">
          {act.error}
          {typeof (act.errorObj?.body as { hint?: unknown } | null)?.hint === 'string' ? <div className="muted">{(act.errorObj!.body as { hint: string }).hint}</div> : null}
        </Notice>
      ) : null}
    </section>
  );
}

const PHASE_TEXT: Record<MockPhase, string> = {
  idle: 'Not started',
  starting: 'Starting… allow the microphone when the browser asks.',
  listening: 'Listening — speak now.',
  sending: 'Thinking…',
  playing: 'The assistant is speaking…',
  stopped: 'Call ended.',
  error: 'Something went wrong.',
};

function BrowserMock() {
  const { api } = useServices();
  const [phase, setPhase] = useState<MockPhase>('idle');
  const [detail, setDetail] = useState('');
  const [level, setLevel] = useState(0);
  const [turns, setTurns] = useState<{ transcript: string; reply: string }[]>([]);
  const call = useRef<BrowserMockCall | null>(null);
  useEffect(() => () => void call.current?.stop(), []);
  const running = phase !== 'idle' && phase !== 'stopped' && phase !== 'error';
  const start = async () => {
    setTurns([]);
    setDetail('');
    let greeting = 'Hello, this is the assistant. How can I help?';
    try {
      greeting = (await api.callConfig()).greeting_incoming || greeting;
    } catch {
      // default greeting
    }
    const c = new BrowserMockCall({
      postTurn: (form) => api.http.request<TurnAnswer>('POST', '/api/mock-call/turn', form),
      endSession: (sid) => api.http.post('/api/mock-call/stop', { id: sid }),
      // text/plain: no preflight, and the gateway reads it as JSON
      endOnUnload: (sid) => navigator.sendBeacon(api.http.url('/api/mock-call/stop'), JSON.stringify({ id: sid })),
      greeting,
      onPhase: (p, d) => {
        setPhase(p);
        if (d) setDetail(d);
      },
      onLevel: setLevel,
      onTurn: (t) => setTurns((prev) => [...prev.slice(-19), t]),
    });
    call.current = c;
    try {
      await c.start();
    } catch (e) {
      setPhase('error');
      setDetail((e as Error).message);
      await c.stop();
      setPhase('error');
    }
  };
  return (
    <section className="card form" aria-labelledby="br-mock-title">
      <h2 id="br-mock-title" className="panel-title">
        In this browser
      </h2>
      <p className="muted">Uses this device’s microphone and speakers — handy when the gateway runs on another machine or headless.</p>
      <p role="status" className={phase === 'error' ? 'field-error' : ''}>
        {PHASE_TEXT[phase]}
        {detail ? ` ${detail}` : ''}
      </p>
      {running ? <Meter value={level} max={0.2} label="Microphone level" /> : null}
      <div className="row-end">
        {running ? (
          <Button variant="danger" icon="stop" onClick={() => void call.current?.stop()}>
            Hang up
          </Button>
        ) : (
          <Button variant="primary" icon="mic" onClick={() => void start()}>
            Start browser mock call
          </Button>
        )}
      </div>
      {turns.length ? (
        <ol className="mini-transcript" aria-label="This mock call">
          {turns.map((t, i) => (
            <li key={i}>
              {t.transcript ? (
                <div>
                  <strong>You:</strong> {t.transcript}
                </div>
              ) : null}
              <div>
                <strong>Assistant:</strong> {t.reply}
              </div>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

export function MockCallView() {
  return (
    <section className="page" aria-labelledby="mock-title">
      <PageHeader id="mock-title" title="Mock call" subtitle="Talk to the assistant without a phone — to tune prompts and voices, or to practise takeovers." />
      <div className="grid-2">
        <GatewayMock />
        <BrowserMock />
      </div>
    </section>
  );
}
