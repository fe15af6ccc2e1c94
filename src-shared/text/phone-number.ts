/** Phone-number helpers. Upstream normalisation removes whitespace, '-', '(' and ')' only. */

export function normalizeNumber(raw: string): string {
  return raw.replace(/[\s\-()]/g, '');
}

/** Characters a dialable number may contain: digits, a leading '+', '*', '#'. */
const DIALABLE = /^\+?[0-9*#]{1,32}$/;

export function dialableNumber(raw: string): { ok: true; number: string } | { ok: false; detail: string } {
  const n = normalizeNumber(String(raw ?? '').trim());
  if (!n) return { ok: false, detail: 'number required' };
  if (!DIALABLE.test(n)) return { ok: false, detail: 'invalid number: use digits, an optional leading +, * and #' };
  if (!/[0-9]/.test(n)) return { ok: false, detail: 'invalid number: no digits' };
  return { ok: true, number: n };
}

/**
 * A normalised number safe to use as a key or file name: '+' and digits only; anything else → null.
 * Caller-supplied numbers pass through here before they key any stored data.
 */
export function numberKey(raw: string): string | null {
  const n = normalizeNumber(raw);
  return /^\+?[0-9*#]{1,32}$/.test(n) ? n : null;
}

/** Mask a number for logs and the default console view: keep a prefix and the last two digits. */
export function maskNumber(raw: string): string {
  const n = normalizeNumber(raw);
  if (n.length <= 4) return n.replace(/[0-9]/g, '•');
  return n.slice(0, 3) + '•'.repeat(Math.max(0, n.length - 5)) + n.slice(-2);
}
