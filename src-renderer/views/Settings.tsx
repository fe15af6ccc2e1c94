/** Settings: one section per capability, validated by the gateway, errors shown next to each field. */
import { href } from '../app/router';
import { PageHeader } from '../components/ui';
import { CallPolicySettings, SecuritySettings } from '../settings/CallSettings';
import { EnginesSettings } from '../settings/EnginesSettings';
import { GeneralSettings } from '../settings/GeneralSettings';
import { HistorySettings } from '../settings/HistorySettings';
import { InstructionsSettings } from '../settings/InstructionsSettings';
import { LlmSettings } from '../settings/LlmSettings';
import { MockCallSettings } from '../settings/MockCallSettings';
import { NetworkSettings } from '../settings/NetworkSettings';
import { ModelsSettings } from '../settings/ModelsSettings';
import { TtsSettings } from '../settings/TtsSettings';

const SECTIONS = [
  { id: 'general', label: 'This console', render: () => <GeneralSettings /> },
  { id: 'llm', label: 'Language model', render: () => <LlmSettings /> },
  { id: 'engines', label: 'Engines', render: () => <EnginesSettings /> },
  { id: 'tts', label: 'Voice', render: () => <TtsSettings /> },
  { id: 'models', label: 'Models', render: () => <ModelsSettings /> },
  { id: 'call', label: 'Call policy', render: () => <CallPolicySettings /> },
  { id: 'security', label: 'Security', render: () => <SecuritySettings /> },
  { id: 'instructions', label: 'Instructions', render: () => <InstructionsSettings /> },
  { id: 'history', label: 'History', render: () => <HistorySettings /> },
  { id: 'mock-call', label: 'Mock calls', render: () => <MockCallSettings /> },
  { id: 'network', label: 'Network', render: () => <NetworkSettings /> },
] as const;

export function SettingsView({ section }: { section?: string }) {
  const current = SECTIONS.find((s) => s.id === section) ?? SECTIONS[0];
  return (
    <section className="page" aria-labelledby="settings-title">
      <PageHeader id="settings-title" title="Settings" subtitle="Changes apply at once, to calls in progress too — each page says where a restart or the next call is needed." />
      <div className="settings-layout">
        <nav className="settings-nav" aria-label="Settings sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.id}>
                <a href={href('settings', s.id)} className={s.id === current.id ? 'active' : ''} aria-current={s.id === current.id ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="settings-body">
          <h2 className="section-heading">{current.label}</h2>
          {current.render()}
        </div>
      </div>
    </section>
  );
}
