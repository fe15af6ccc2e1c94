/** Layout: navigation, the current view, the status bar, and the token prompt when the gateway asks. */
import { useEffect, useRef } from 'react';
import { Icon, type IconName } from '../components/icons';
import { AlertBanner } from '../components/AlertBanner';
import { FirstRunBanner } from '../components/FirstRunBanner';
import { StatusBar } from '../views/StatusBar';
import { TokenDialog } from '../views/TokenDialog';
import { LiveCallsView } from '../views/LiveCalls';
import { CallView } from '../views/CallView';
import { DialView } from '../views/Dial';
import { DevicesView } from '../views/Devices';
import { HistoryView } from '../views/History';
import { MockCallView } from '../views/MockCall';
import { SettingsView } from '../views/Settings';
import { ServicesContext, useConnection, useLive, usePrefs, type ConsoleServices } from './context';
import { href, useRoute } from './router';

const NAV: { id: string; label: string; icon: IconName }[] = [
  { id: 'calls', label: 'Live calls', icon: 'live' },
  { id: 'dial', label: 'Dial', icon: 'dial' },
  { id: 'history', label: 'History', icon: 'history' },
  { id: 'devices', label: 'Devices', icon: 'device' },
  { id: 'mock', label: 'Mock call', icon: 'mic' },
  { id: 'settings', label: 'Settings', icon: 'settings' },
];

function LiveCount() {
  const n = useLive((s) => {
    let k = 0;
    for (const c of Object.values(s.calls)) if (c.summary.state !== 'ended') k++;
    return k;
  });
  return n ? (
    <span className="nav-count" aria-label={`${n} live`}>
      {n}
    </span>
  ) : null;
}

function Nav({ current }: { current: string }) {
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <Icon name="phone" size={18} />
        </span>
        <span className="brand-name">Clawfinger</span>
      </div>
      <ul>
        {NAV.map((n) => (
          <li key={n.id}>
            <a href={href(n.id)} className={current === n.id ? 'active' : ''} aria-current={current === n.id ? 'page' : undefined}>
              <Icon name={n.icon} />
              <span>{n.label}</span>
              {n.id === 'calls' ? <LiveCount /> : null}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Main() {
  const route = useRoute();
  const [view, arg] = route.parts;
  const mainRef = useRef<HTMLElement>(null);
  useEffect(() => {
    // move focus to the new page for keyboard and screen-reader users (not on first load)
    const h = mainRef.current?.querySelector('h1');
    if (h && document.activeElement && document.activeElement !== document.body) (h as HTMLElement).focus({ preventScroll: true });
  }, [view, arg]);
  let content;
  switch (view) {
    case 'calls':
      content = arg ? <CallView sid={arg} /> : <LiveCallsView />;
      break;
    case 'dial':
      content = <DialView />;
      break;
    case 'history':
      content = <HistoryView id={arg} query={route.query} />;
      break;
    case 'devices':
      content = <DevicesView serial={arg} />;
      break;
    case 'mock':
      content = <MockCallView />;
      break;
    case 'settings':
      content = <SettingsView section={arg} />;
      break;
    default:
      content = <LiveCallsView />;
  }
  return (
    <>
      <Nav current={view ?? 'calls'} />
      <main id="main" ref={mainRef} tabIndex={-1}>
        <AlertBanner />
        <FirstRunBanner />
        <WaitingBanner current={view === 'calls' && arg ? arg : ''} />
        {content}
      </main>
    </>
  );
}

/** On any other page: a caller is waiting for this operator's reply. */
function WaitingBanner({ current }: { current: string }) {
  const me = usePrefs((p) => p.operatorName);
  const waiting = useLive((s) => {
    for (const c of Object.values(s.calls)) {
      const h = c.awaiting?.holder;
      if (c.awaiting && c.summary.state !== 'ended' && h?.kind === 'operator' && h.name === me && c.summary.session_id !== current) return c.summary.session_id;
    }
    return null;
  });
  if (!waiting) return null;
  return (
    <div className="waiting-banner" role="alert">
      <Icon name="hand" size={16} /> A caller is waiting for your reply.
      <a className="btn btn-primary" href={href('calls', waiting)}>
        Answer now
      </a>
    </div>
  );
}

function TokenGate() {
  const needs = useConnection((s) => s.needsToken);
  return needs ? <TokenDialog /> : null;
}

export function App({ services }: { services: ConsoleServices }) {
  return (
    <ServicesContext.Provider value={services}>
      <a
        className="skip-link"
        href="#/"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <div className="shell">
        <Main />
        <StatusBar />
      </div>
      <TokenGate />
    </ServicesContext.Provider>
  );
}
