/** Choices of an audio-device select: the system default, the listed devices, and the current value if it is not listed. */
export function deviceChoices(list: readonly { id: string; description: string }[], current: string): [string, string][] {
  const out: [string, string][] = [['', 'System default']];
  for (const d of list) if (d.id) out.push([d.id, d.description && d.description !== d.id ? `${d.description} (${d.id})` : d.id]);
  if (current && !out.some(([v]) => v === current)) out.push([current, `${current} (not listed now)`]);
  return out;
}
