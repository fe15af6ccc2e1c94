/**
 * Who produced a transcript line, from the pipeline's `producer` string (`local:<model>`,
 * `agent:<name>`, `operator:<name>`, `inject`, `forced`, `holding`, `system`) — shown on every line.
 */
export type LineRole = 'caller' | 'assistant' | 'agent' | 'operator' | 'inject' | 'forced' | 'holding' | 'system';

export interface Producer {
  role: LineRole;
  /** model or person name, when there is one */
  name: string;
  /** text shown next to the line */
  label: string;
}

export function parseProducer(producer: string | undefined | null): Producer {
  const p = (producer ?? '').trim();
  const i = p.indexOf(':');
  const head = (i >= 0 ? p.slice(0, i) : p).toLowerCase();
  const name = i >= 0 ? p.slice(i + 1) : '';
  switch (head) {
    case 'local':
      return { role: 'assistant', name, label: name ? `Assistant · ${name}` : 'Assistant' };
    case 'agent':
      return { role: 'agent', name, label: name ? `Agent · ${name}` : 'Agent' };
    case 'operator':
      return { role: 'operator', name, label: name ? `Operator · ${name}` : 'Operator' };
    case 'inject':
      return { role: 'inject', name, label: name ? `Injected · ${name}` : 'Injected' };
    case 'forced':
      return { role: 'forced', name: '', label: 'Greeting / forced' };
    case 'holding':
    case 'holding-reply':
      return { role: 'holding', name: '', label: 'Holding phrase' };
    case 'system':
      return { role: 'system', name: '', label: 'System' };
    case '':
      return { role: 'assistant', name: '', label: 'Assistant' };
    default:
      return { role: 'assistant', name: p, label: `Assistant · ${p}` };
  }
}
