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

/** A stored caller key, now or as an earlier version wrote it: '+', digits, '*', '#' — safe as a file name. */
export function isNumberKey(key: string): boolean {
  return typeof key === 'string' && /^\+?[0-9*#]{1,32}$/.test(key);
}

/** Country calling codes whose national numbers keep their leading 0 in E.164 (Italy, San Marino, Vatican). */
const TRUNK_ZERO_KEPT = new Set(['39', '378', '379']);

/** A country calling code as configured: 1 to 3 digits, no leading 0 ('' = none). */
export const COUNTRY_CODE = /^(?:[1-9][0-9]{0,2})?$/;

/**
 * The key of a caller's stored data (caller memory): the number in E.164 form as far as it can be told,
 * so one caller is one caller however the phone wrote the number — formatting removed (spaces, '-',
 * '(', ')', '.', '/'), the international prefix 00 → '+', and, when the country calling code of this
 * phone's country is known (`countryCode`, e.g. '49'), a national number 0170… → +49170…. Service codes
 * (with '*' or '#') and numbers that cannot be told apart stay as written. Safe as a file name: '+',
 * digits, '*' and '#' only; anything else → null. Idempotent: a key maps to itself.
 */
export function numberKey(raw: string, countryCode = ''): string | null {
  let n = String(raw ?? '').replace(/[\s\-().\/]/g, '');
  if (!isNumberKey(n)) return null;
  if (/[*#]/.test(n)) return n;
  if (/^00[1-9]/.test(n)) n = `+${n.slice(2)}`;
  else if (countryCode && COUNTRY_CODE.test(countryCode) && /^0[1-9]/.test(n)) n = `+${countryCode}${TRUNK_ZERO_KEPT.has(countryCode) ? n : n.slice(1)}`;
  return n.length <= 32 ? n : null;
}

/**
 * A caller's memory key (`numberKey`) and, when it differs, the key an earlier version stored the
 * same caller under — the number as written (0049…, 0170…) — so that memory can be found and moved.
 */
export function callerKeys(raw: string, countryCode = ''): { key: string | null; legacy: string | null } {
  const key = numberKey(raw, countryCode);
  const written = normalizeNumber(String(raw ?? ''));
  return { key, legacy: key && written !== key && isNumberKey(written) ? written : null };
}

/** Mask a number for logs and the default console view: keep a prefix and the last two digits. */
export function maskNumber(raw: string): string {
  const n = normalizeNumber(raw);
  if (n.length <= 4) return n.replace(/[0-9]/g, '•');
  return n.slice(0, 3) + '•'.repeat(Math.max(0, n.length - 5)) + n.slice(-2);
}
