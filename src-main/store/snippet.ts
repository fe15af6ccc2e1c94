/**
 * Search-result excerpts, built in JS from the best-matching turn: FTS5's snippet() re-runs the
 * query per row, which costs ~1 ms per result for prefix searches. Highlighting is approximate
 * (the index stems words; here a light suffix strip stands in), the match itself is FTS5's.
 */

export interface SnippetTerm {
  text: string;
  prefix: boolean;
}

const TOKEN = /[\p{L}\p{N}]+/gu;

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

function stem(s: string): string {
  for (let i = 0; i < 2 && s.length > 4; i++) s = s.replace(/(ing|ed|es|s|ly)$/, '');
  return s;
}

/** The words of an FTS expression built by ftsExpression (quoted terms, optional trailing *). */
export function snippetTerms(expr: string): SnippetTerm[] {
  const out: SnippetTerm[] = [];
  const re = /"((?:[^"]|"")*)"(\*?)/g;
  for (let m = re.exec(expr); m; m = re.exec(expr)) {
    const words = fold(m[1].replace(/""/g, '"')).match(TOKEN) ?? [];
    words.forEach((w, i) => out.push({ text: w, prefix: m![2] === '*' && i === words.length - 1 }));
  }
  return out;
}

function matches(token: string, terms: SnippetTerm[]): boolean {
  const t = fold(token);
  return terms.some((term) => (term.prefix ? t.startsWith(term.text) : t === term.text || stem(t) === stem(term.text)));
}

/** Up to `width` words around the first match in `texts` (first text that matches), matches in [ ]. */
export function makeSnippet(texts: string[], terms: SnippetTerm[], width = 12): string {
  for (const text of texts) {
    const tokens = [...text.matchAll(TOKEN)];
    const hit = tokens.findIndex((m) => matches(m[0], terms));
    if (hit < 0) continue;
    const start = Math.max(0, Math.min(hit - Math.floor(width / 3), tokens.length - width));
    const end = Math.min(tokens.length, start + width);
    const from = start === 0 ? 0 : tokens[start].index!;
    const to = end === tokens.length ? text.length : tokens[end - 1].index! + tokens[end - 1][0].length;
    let out = '';
    let pos = from;
    for (let i = start; i < end; i++) {
      const m = tokens[i];
      if (!matches(m[0], terms)) continue;
      out += text.slice(pos, m.index) + '[' + m[0] + ']';
      pos = m.index! + m[0].length;
    }
    out += text.slice(pos, to);
    return (start > 0 ? '…' : '') + out + (end < tokens.length ? '…' : '');
  }
  const first = texts.find((t) => t) ?? '';
  return first.length > 120 ? first.slice(0, 120) + '…' : first;
}
