/**
 * Device problems the operator must see wherever they are: a phone that lost its USB link during a
 * call, the adb server gone. One banner per open problem (critical first), each dismissable; a
 * problem clears by itself when its device recovers (store: applyDeviceAlert). Critical ones also
 * raise a desktop notification when notifications are on.
 */
import { useEffect } from 'react';
import { useServices, useSignals } from '../app/context';
import { href } from '../app/router';
import { dismissDeviceAlert, type DeviceAlertItem } from '../store/stores';
import { Icon } from './icons';

const RANK: Record<DeviceAlertItem['level'], number> = { critical: 0, warning: 1 };

export function AlertBanner() {
  const { signals, notifier } = useServices();
  const alerts = useSignals((s) => s.deviceAlerts);
  useEffect(() => {
    for (const a of alerts) notifier.deviceAlert(a);
  }, [alerts, notifier]);
  if (!alerts.length) return null;
  const ordered = [...alerts].sort((a, b) => RANK[a.level] - RANK[b.level] || b.at - a.at);
  return (
    <div className="device-alerts">
      {ordered.map((a) => (
        <div
          key={a.id}
          className={`waiting-banner device-alert device-alert-${a.level}`}
          role={a.level === 'critical' ? 'alert' : 'status'}
          data-serial={a.serial}
          style={a.level === 'critical' ? { background: 'var(--bad-bg)', color: 'var(--bad)', borderColor: 'var(--bad)' } : { background: 'var(--warn-bg)', color: 'var(--warn)', borderColor: 'var(--warn)' }}
        >
          <Icon name={a.level === 'critical' ? 'error' : 'warn'} size={16} />
          <span>{a.message}</span>
          {a.serial ? (
            <a className="btn btn-secondary" href={href('devices', a.serial)}>
              Open phone
            </a>
          ) : null}
          <button type="button" className="btn btn-ghost" style={a.serial ? { marginLeft: 0 } : undefined} aria-label={`Dismiss: ${a.message}`} onClick={() => dismissDeviceAlert(signals, a.id)}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
