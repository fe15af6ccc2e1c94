/** Shared building blocks: buttons, labelled fields with their error, badges, notices, empty states. */
import { useId, type ButtonHTMLAttributes, type ReactNode } from 'react';
import { Icon, type IconName } from './icons';

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost' | 'warning';

export function Button({ variant = 'secondary', icon, busy, children, className, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; icon?: IconName; busy?: boolean }) {
  return (
    <button type="button" className={`btn btn-${variant} ${className ?? ''}`} aria-busy={busy || undefined} disabled={rest.disabled || busy} {...rest}>
      {busy ? <span className="spinner" aria-hidden="true" /> : icon ? <Icon name={icon} size={16} /> : null}
      {children}
    </button>
  );
}

/** A label, the control (render prop gets the ids), an optional hint and the field's error. */
export function Field({ label, hint, error, children, inline }: { label: string; hint?: ReactNode; error?: string; inline?: boolean; children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode }) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const describedBy = [hint ? hintId : '', error ? errId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${inline ? 'field-inline' : ''} ${error ? 'field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, describedBy, invalid: !!error })}
      {hint ? (
        <div className="field-hint" id={hintId}>
          {hint}
        </div>
      ) : null}
      {error ? (
        <div className="field-error" id={errId} role="alert">
          {error}
        </div>
      ) : null}
    </div>
  );
}

export function Badge({ tone = 'neutral', children, title }: { tone?: 'neutral' | 'ok' | 'warn' | 'bad' | 'info' | 'accent'; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

export function Notice({ tone = 'info', title, children, role }: { tone?: 'info' | 'ok' | 'warn' | 'bad'; title?: string; children?: ReactNode; role?: 'alert' | 'status' }) {
  const icon: IconName = tone === 'ok' ? 'check' : tone === 'info' ? 'live' : tone === 'warn' ? 'warn' : 'error';
  return (
    <div className={`notice notice-${tone}`} role={role ?? (tone === 'bad' ? 'alert' : 'status')}>
      <Icon name={icon} size={18} />
      <div>
        {title ? <strong>{title}</strong> : null}
        {children ? <div className="notice-body">{children}</div> : null}
      </div>
    </div>
  );
}

export function EmptyState({ icon, title, children }: { icon: IconName; title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-icon">
        <Icon name={icon} size={32} />
      </div>
      <h2>{title}</h2>
      {children}
    </div>
  );
}

/** The standard "this gateway has no such capability" state. */
export function NotAvailable({ what, detail }: { what: string; detail?: string }) {
  return (
    <Notice tone="warn" title={`${what} is not available`}>
      This gateway does not offer {what.toLowerCase()} yet{detail ? ` (${detail})` : ''}. It appears here as soon as the gateway provides it.
    </Notice>
  );
}

export function PageHeader({ title, subtitle, actions, id }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; id?: string }) {
  return (
    <header className="page-header">
      <div>
        <h1 id={id} tabIndex={-1}>
          {title}
        </h1>
        {subtitle ? <p className="subtitle">{subtitle}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </header>
  );
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function Meter({ value, max = 1, label }: { value: number; max?: number; label: string }) {
  const pct = Math.max(0, Math.min(100, (value / max) * 100));
  return (
    <div className="meter" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={Number(value.toFixed(3))}>
      <div className="meter-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}
