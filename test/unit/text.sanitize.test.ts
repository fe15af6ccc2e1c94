/** The upstream text sanitisers (spec §9.4), sentence splitting for pipelined TTS, and the phone's clarify filter. */
import { describe, expect, it } from 'vitest';
import { isClarifyPhrase, safeText, splitSentences, trimForTts } from '../../src-shared/text/sanitize';

describe('safeText (spec §9.4)', () => {
  it('turns NUL into a space and drops every other control character except \\n and \\t', () => {
    expect(safeText('a\u0000b')).toBe('a b');
    expect(safeText('a\u0001b\u0008c\u000bd\u000ce\u001ff')).toBe('abcdef');
    // \r is a control character below U+0020: dropped, not turned into a space
    expect(safeText('one\rtwo')).toBe('onetwo');
    expect(safeText('line\r\nnext')).toBe('line next');
    // DEL and C1 are not below U+0020: kept
    expect(safeText('a\u007fb')).toBe('a\u007fb');
  });

  it('replaces typographic quotes, dashes and the ellipsis', () => {
    expect(safeText('\u2018single\u2019 \u201cdouble\u201d')).toBe('\'single\' "double"');
    expect(safeText('a\u2014b\u2013c')).toBe('a-b-c');
    expect(safeText('wait\u2026')).toBe('wait...');
  });

  it('collapses every whitespace run (newlines, tabs, no-break spaces) and trims', () => {
    expect(safeText('  hello \n\n\t world  ')).toBe('hello world');
    expect(safeText('a\u00a0\u00a0b\u2003c')).toBe('a b c');
    expect(safeText(' \t\n ')).toBe('');
  });

  it('maps null and undefined to the empty string and stringifies the rest', () => {
    expect(safeText(null)).toBe('');
    expect(safeText(undefined)).toBe('');
    expect(safeText(42)).toBe('42');
  });

  it('keeps everything else, including non-Latin text and symbols', () => {
    expect(safeText('Grüße, 50% & +49 (0) 170 — 日本語 😀')).toBe('Grüße, 50% & +49 (0) 170 - 日本語 😀');
  });
});

describe('trimForTts (spec §9.4)', () => {
  it('removes <think> blocks case-insensitively and across lines', () => {
    expect(trimForTts('<think>plan the answer</think>Hello there.')).toBe('Hello there.');
    expect(trimForTts('<THINK>line one\nline two</Think>  Answer')).toBe('Answer');
    expect(trimForTts('A<think>x</think>B<think>y</think>C')).toBe('A B C');
  });

  it('reduces markdown links to their label', () => {
    expect(trimForTts('See [the docs](https://example.com/a_b?x=1) now.')).toBe('See the docs now.');
  });

  it('replaces * ` _ # with spaces', () => {
    expect(trimForTts('**bold** `code` snake_case #tag')).toBe('bold code snake case tag');
  });

  it('deletes every character that is not a word character, whitespace or . , ! ? ; : \' " ( ) -', () => {
    expect(trimForTts('+49 170')).toBe('49 170');
    expect(trimForTts('50%')).toBe('50');
    expect(trimForTts('€5 & $6 / a@b = <c> ~ ^ | {x} [y]')).toBe('5 6 ab c x y');
    expect(trimForTts('Hi, you! Really? Yes; no: "quoted" (aside) - it\'s fine.')).toBe('Hi, you! Really? Yes; no: "quoted" (aside) - it\'s fine.');
    expect(trimForTts('Smile 😀 please')).toBe('Smile please');
  });

  it('keeps letters and digits of every script', () => {
    expect(trimForTts('Grüße aus der Straße 12, Ærø, 日本語, ١٢٣')).toBe('Grüße aus der Straße 12, Ærø, 日本語, ١٢٣');
  });

  it('applies safeText in between (typographic punctuation survives as ASCII)', () => {
    expect(trimForTts('\u201cYes\u201d \u2014 it\u2019s\u2026 done')).toBe('"Yes" - it\'s... done');
  });

  it('collapses the gaps left behind and trims', () => {
    expect(trimForTts('  # Title \n * item  ')).toBe('Title item');
    expect(trimForTts('%%% $$$')).toBe('');
  });
});

describe('splitSentences', () => {
  it('splits after . ! ? and keeps the terminator with its sentence', () => {
    expect(splitSentences('Hello there. How are you? Fine!')).toEqual(['Hello there.', 'How are you?', 'Fine!']);
  });

  it('keeps runs of terminators and closing quotes/brackets together', () => {
    expect(splitSentences('Wait... what?! Okay.')).toEqual(['Wait...', 'what?!', 'Okay.']);
    expect(splitSentences('He said "hi." Then (quietly.) left.')).toEqual(['He said "hi."', 'Then (quietly.)', 'left.']);
  });

  it('keeps a trailing fragment without a terminator', () => {
    expect(splitSentences('One. and then')).toEqual(['One.', 'and then']);
    expect(splitSentences('no terminator at all')).toEqual(['no terminator at all']);
  });

  it('does not split inside numbers, versions or times', () => {
    expect(splitSentences('It costs 3.50 euros. Open at 9.30 tomorrow.')).toEqual(['It costs 3.50 euros.', 'Open at 9.30 tomorrow.']);
    expect(splitSentences('Version 2.1.3 is out.')).toEqual(['Version 2.1.3 is out.']);
  });

  it('yields nothing for empty or blank text', () => {
    expect(splitSentences('')).toEqual([]);
    expect(splitSentences('   \n ')).toEqual([]);
  });

  it('loses no text', () => {
    const text = 'First one. Second, longer one! Third? 4.5 is a number. Tail';
    expect(splitSentences(text).join(' ')).toBe(text);
  });
});

describe('isClarifyPhrase (the phone swallows these, phone spec §1.3.5)', () => {
  it('matches the gateway\'s "could not hear" wording and close variants', () => {
    expect(isClarifyPhrase('I could not hear that clearly. Please try again.')).toBe(true);
    expect(isClarifyPhrase("Sorry, I couldn't hear that clearly.")).toBe(true);
    expect(isClarifyPhrase("I didn't hear you. PLEASE TRY AGAIN!")).toBe(true);
  });

  it('does not match real content', () => {
    expect(isClarifyPhrase('Please try again later, the shop is closed.')).toBe(false);
    expect(isClarifyPhrase('I hear you. We open at nine.')).toBe(false);
    expect(isClarifyPhrase('')).toBe(false);
  });
});
