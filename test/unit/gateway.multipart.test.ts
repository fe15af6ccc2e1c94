/** multipart/form-data as the phone writes it (phone spec §1.3), and everything malformed. */
import { describe, expect, it } from 'vitest';
import { boundaryOf, buildMultipart, decodeText, MultipartError, parseMultipart } from '../../src-main/gateway/multipart';
import { phoneMultipart, SILENCE_WAV, utterance, writeBytes } from '../helpers/phone-sim';

const B = '----PhoneBridge1700000000000';
const CT = `multipart/form-data; boundary=${B}`;

describe('parseMultipart: the phone\'s exact bytes', () => {
  it('reads the greeting turn: every text field in the app\'s order and the audio file byte-exact', () => {
    const fields: [string, string][] = [
      ['reset_session', 'true'],
      ['transcript_hint', "Hello, I am Ada's assistant."],
      ['forced_reply', "Hello, I am Ada's assistant."],
      ['caller_number', '+4917012345678'],
      ['call_direction', 'incoming'],
    ];
    const body = phoneMultipart(B, fields, SILENCE_WAV);
    const f = parseMultipart(body, CT);
    expect([...f.fields.entries()]).toEqual(fields);
    const audio = f.files.get('audio')!;
    expect(audio.filename).toBe('turn.wav');
    expect(audio.contentType).toBe('audio/wav');
    expect(Buffer.compare(audio.data, Buffer.from(SILENCE_WAV))).toBe(0);
  });

  it('keeps audio that itself contains CRLF and dashes intact', () => {
    const tricky = Buffer.concat([Buffer.from(utterance(0.2)), Buffer.from(`\r\n--${B.slice(0, 10)}\r\n\r\n--`), Buffer.from([0, 13, 10, 45, 45])]);
    const f = parseMultipart(phoneMultipart(B, [['session_id', 'abc']], tricky), CT);
    expect(Buffer.compare(f.files.get('audio')!.data, tricky)).toBe(0);
    expect(f.fields.get('session_id')).toBe('abc');
  });

  it('decodes text parts as UTF-8 and falls back to Latin-1 for the phone\'s writeBytes output', () => {
    const german = 'Grüß Gott, hier ist der Assistent von Jürgen. Bitte warten Sie auf den Piepton.';
    const latin1 = parseMultipart(phoneMultipart(B, [['forced_reply', german]], SILENCE_WAV), CT);
    expect(latin1.fields.get('forced_reply')).toBe(german);
    const utf8 = parseMultipart(buildMultipart(B, [{ name: 'forced_reply', value: german }, { name: 'audio', value: Buffer.from(SILENCE_WAV), filename: 'turn.wav', contentType: 'audio/wav' }]), CT);
    expect(utf8.fields.get('forced_reply')).toBe(german);
  });

  it('keeps empty text values (the phone sends caller_number="" for a withheld number)', () => {
    const f = parseMultipart(phoneMultipart(B, [['caller_number', ''], ['call_direction', 'incoming']], SILENCE_WAV), CT);
    expect(f.fields.get('caller_number')).toBe('');
    expect(f.fields.get('call_direction')).toBe('incoming');
  });

  it('accepts an empty audio file', () => {
    const f = parseMultipart(phoneMultipart(B, [], new Uint8Array(0)), CT);
    expect(f.files.get('audio')!.data.length).toBe(0);
  });
});

describe('parseMultipart: other clients', () => {
  it('accepts a quoted boundary, quoted names with escapes and semicolons, and unquoted names', () => {
    const b = 'a b;c';
    const body = Buffer.from(
      `preamble to ignore\r\n--${b}\r\nContent-Disposition: form-data; name="we\\"ird;name"\r\n\r\nv1\r\n` +
        `--${b}\r\ncontent-disposition: form-data; name=plain\r\n\r\nv2\r\n` +
        `--${b}\r\nContent-Disposition: form-data; name="audio"; filename="my;file \\"x\\".wav"\r\nContent-Type: audio/x-wav\r\n\r\nRIFF\r\n` +
        `--${b}--\r\nepilogue`,
      'latin1',
    );
    const f = parseMultipart(body, `multipart/form-data; boundary="${b}"; charset=utf-8`);
    expect(f.fields.get('we"ird;name')).toBe('v1');
    expect(f.fields.get('plain')).toBe('v2');
    expect(f.files.get('audio')).toMatchObject({ filename: 'my;file "x".wav', contentType: 'audio/x-wav' });
    expect(f.files.get('audio')!.data.toString()).toBe('RIFF');
  });

  it('decodes a Latin-1 or UTF-8 field name', () => {
    const latin = Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="`), writeBytes('größe'), Buffer.from(`"\r\n\r\n1\r\n--${B}--\r\n`)]);
    expect(parseMultipart(latin, CT).fields.get('größe')).toBe('1');
    const utf = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="größe"\r\n\r\n2\r\n--${B}--\r\n`, 'utf8');
    expect(parseMultipart(utf, CT).fields.get('größe')).toBe('2');
  });

  it('keeps the first of repeated fields and files', () => {
    const body = buildMultipart(B, [
      { name: 'session_id', value: 'first' },
      { name: 'session_id', value: 'second' },
      { name: 'audio', value: Buffer.from('one'), filename: 'a.wav' },
      { name: 'audio', value: Buffer.from('two'), filename: 'b.wav' },
    ]);
    const f = parseMultipart(body, CT);
    expect(f.fields.get('session_id')).toBe('first');
    expect(f.files.get('audio')!.data.toString()).toBe('one');
    expect(f.files.get('audio')!.contentType).toBe('application/octet-stream');
  });

  it('reads a body without the final CRLF after the closing delimiter', () => {
    const body = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${B}--`);
    expect(parseMultipart(body, CT).fields.get('a')).toBe('x');
  });

  it('reads a form with no parts', () => {
    const f = parseMultipart(Buffer.from(`--${B}--\r\n`), CT);
    expect(f.fields.size).toBe(0);
    expect(f.files.size).toBe(0);
  });
});

describe('parseMultipart: malformed input → MultipartError', () => {
  const good = phoneMultipart(B, [['reset_session', 'false']], SILENCE_WAV);

  it('a Content-Type without a boundary', () => {
    expect(() => parseMultipart(good, 'multipart/form-data')).toThrow(MultipartError);
    expect(() => parseMultipart(good, undefined)).toThrow(/boundary/);
    expect(() => boundaryOf('multipart/form-data; boundary=')).toThrow(MultipartError);
    expect(() => boundaryOf(`multipart/form-data; boundary=${'x'.repeat(201)}`)).toThrow(/too long/);
  });

  it('a body that does not contain its boundary', () => {
    expect(() => parseMultipart(good, 'multipart/form-data; boundary=somethingElse')).toThrow(/does not contain its boundary/);
    expect(() => parseMultipart(Buffer.alloc(0), CT)).toThrow(MultipartError);
  });

  it('a body truncated anywhere', () => {
    for (const cut of [B.length + 5, 80, good.length - SILENCE_WAV.length, good.length - 100, good.length - (B.length + 6)]) {
      expect(() => parseMultipart(good.subarray(0, cut), CT), `cut at ${cut}`).toThrow(MultipartError);
    }
  });

  it('a part without a name or without a header terminator, or a broken delimiter line', () => {
    expect(() => parseMultipart(Buffer.from(`--${B}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${B}--\r\n`), CT)).toThrow(/without a name/);
    expect(() => parseMultipart(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\nx\r\n--${B}--\r\n`), CT)).toThrow(MultipartError);
    expect(() => parseMultipart(Buffer.from(`--${B}garbage\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${B}--\r\n`), CT)).toThrow(/delimiter/);
  });
});

describe('decodeText', () => {
  it('decodes valid UTF-8 as UTF-8 and anything else as Latin-1', () => {
    expect(decodeText(Buffer.from('Straße ✓', 'utf8'))).toBe('Straße ✓');
    expect(decodeText(Buffer.from([0x53, 0x74, 0x72, 0x61, 0xdf, 0x65]))).toBe('Straße');
    expect(decodeText(Buffer.from([0xe4, 0xf6, 0xfc]))).toBe('äöü');
    expect(decodeText(new Uint8Array(0))).toBe('');
  });
});
