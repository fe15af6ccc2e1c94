/** Masking of phone numbers and secrets in free text (diagnostics bundle, logs). */
import { maskNumber } from '../../src-shared/text/phone-number';

const NUMBER_LIKE = /\+?\d[\d\s().-]{5,}\d/g;

/** Mask every run that looks like a phone number, and bearer tokens. */
export function maskText(text: string): string {
  return text
    .replace(/(Bearer\s+)\S+/gi, '$1•••')
    .replace(/("(?:bearer|api_key)"\s*:\s*")[^"]*"/gi, '$1•••"')
    .replace(NUMBER_LIKE, (m) => (m.replace(/\D/g, '').length >= 6 ? maskNumber(m) : m));
}

export function maskMaybe(n: string | null): string | null {
  return n ? maskNumber(n) : n;
}
