/** Phone numbers: upstream normalisation, dial-safety, path-safe keys and masking for logs. */
import { describe, expect, it } from 'vitest';
import { callerKeys, dialableNumber, maskNumber, normalizeNumber, numberKey } from '../../src-shared/text/phone-number';

describe('normalizeNumber (upstream: remove whitespace, "-", "(" and ")")', () => {
  it('removes exactly those characters', () => {
    expect(normalizeNumber('+49 (170) 123-45 67')).toBe('+491701234567');
    expect(normalizeNumber('\t+1\n555\u00a0000')).toBe('+1555000');
    expect(normalizeNumber('+49.170/123')).toBe('+49.170/123');
    expect(normalizeNumber('')).toBe('');
  });
});

describe('dialableNumber', () => {
  it('accepts digits with an optional leading +, * and # (USSD, extensions)', () => {
    expect(dialableNumber('+49 170 1234567')).toEqual({ ok: true, number: '+491701234567' });
    expect(dialableNumber('  (030) 123-456 ')).toEqual({ ok: true, number: '030123456' });
    expect(dialableNumber('*#06#')).toEqual({ ok: true, number: '*#06#' });
    expect(dialableNumber('112')).toEqual({ ok: true, number: '112' });
  });

  const hostile = [
    '+1; reboot', '$(id)', '`id`', '123 && rm -rf /', '555|sh', '"555"', "'555'", '555\\n', '555\nreboot', '+49>/sdcard/x',
    '../../etc', '١٢٣', '１２３', '+4917０', '12a', '++49', '49+', 'tel:+49170', '%2B49',
  ];
  for (const raw of hostile) {
    it(`rejects ${JSON.stringify(raw)}`, () => {
      const r = dialableNumber(raw);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.detail).toMatch(/invalid number/);
    });
  }

  it('requires a number and at least one digit', () => {
    expect(dialableNumber('')).toEqual({ ok: false, detail: 'number required' });
    expect(dialableNumber('  - ( ) ')).toEqual({ ok: false, detail: 'number required' });
    expect(dialableNumber(undefined as unknown as string)).toEqual({ ok: false, detail: 'number required' });
    expect(dialableNumber('*#')).toMatchObject({ ok: false, detail: expect.stringMatching(/no digits/) });
    expect(dialableNumber('+')).toMatchObject({ ok: false });
  });

  it('caps the length at 32 characters', () => {
    expect(dialableNumber('1'.repeat(32)).ok).toBe(true);
    expect(dialableNumber('1'.repeat(33)).ok).toBe(false);
  });
});

describe('numberKey (keys stored caller data; must be safe as a file name)', () => {
  it('keys a normalised number', () => {
    expect(numberKey('+49 (170) 123-4567')).toBe('+491701234567');
    expect(numberKey('0301234')).toBe('0301234');
  });

  it('keys the E.164 form: formatting and the 00 international prefix go, one caller is one key', () => {
    for (const raw of ['+49 170 1234567', '0049 170 1234567', '+49.170/123 45 67', '0049-(170)-1234567']) expect(numberKey(raw), raw).toBe('+491701234567');
    expect(numberKey('004930123')).toBe('+4930123');
  });

  it('turns a national number into E.164 only when the country calling code is configured', () => {
    expect(numberKey('0170 1234567')).toBe('01701234567');
    expect(numberKey('0170 1234567', '49')).toBe('+491701234567');
    expect(numberKey('0170 1234567', '')).toBe('01701234567');
    expect(numberKey('06 1234567', '39')).toBe('+39061234567'); // Italy keeps the 0
    expect(numberKey('0049 170 1234567', '33')).toBe('+491701234567'); // international stays international
    expect(numberKey('112', '49')).toBe('112'); // short codes stay
    expect(numberKey('*31#0170123', '49')).toBe('*31#0170123'); // service codes stay as dialled
    expect(numberKey('0170', 'x9')).toBe('0170'); // an invalid code is ignored
  });

  it('maps every key to itself, with or without a country code', () => {
    for (const raw of ['+49 170 1234567', '0049170', '0170 123', '*#06#', '112', '0301234']) {
      for (const cc of ['', '49', '39']) {
        const k = numberKey(raw, cc)!;
        expect(numberKey(k), `${raw} ${cc}`).toBe(k);
        expect(numberKey(k, cc), `${raw} ${cc}`).toBe(k);
      }
    }
  });

  it('refuses anything that could escape a folder or is not a number', () => {
    for (const raw of ['../../etc/passwd', '..', '.', '/tmp/x', '+49/../x', 'a\\b', '+49\u0000', '', '   ', 'anonymous', '+١٢٣', '1'.repeat(33), 'C:\\x']) {
      expect(numberKey(raw), JSON.stringify(raw)).toBeNull();
    }
  });

  it('every key it returns is a plain file name', () => {
    for (const raw of ['+1', '*31#0170', '#21#', '+49 170 1234567']) {
      const k = numberKey(raw);
      expect(k).not.toBeNull();
      expect(k).toMatch(/^[+0-9*#]+$/);
      expect(k).not.toMatch(/^\.|[/\\]/);
    }
  });
});

describe('callerKeys (caller memory, and where an earlier version stored it)', () => {
  it('gives the number as written as the legacy key only when it differs and is a key', () => {
    expect(callerKeys('0049 170 1234567')).toEqual({ key: '+491701234567', legacy: '00491701234567' });
    expect(callerKeys('0170 1234567', '49')).toEqual({ key: '+491701234567', legacy: '01701234567' });
    expect(callerKeys('+49 170 1234567')).toEqual({ key: '+491701234567', legacy: null });
    expect(callerKeys('+49.170.1234567')).toEqual({ key: '+491701234567', legacy: null }); // '+49.170.…' was never a key
    expect(callerKeys('anonymous')).toEqual({ key: null, legacy: null });
  });
});

describe('maskNumber', () => {
  it('keeps a 3-character prefix and the last two digits', () => {
    expect(maskNumber('+49 170 1234567')).toBe('+49' + '•'.repeat(8) + '67');
    expect(maskNumber('+4917012345678')).not.toContain('170123456');
  });

  it('masks every digit of very short numbers', () => {
    expect(maskNumber('1234')).toBe('••••');
    expect(maskNumber('')).toBe('');
  });
});
