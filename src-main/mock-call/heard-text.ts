/**
 * The words of a reply the caller actually heard before barge-in cut it: the reply's text in
 * proportion to the audio played, cut back to a word boundary (speech rate is close enough to
 * even over a sentence for a transcript annotation).
 */
export function heardText(reply: string, playedMs: number, totalMs: number): string {
  const text = reply.trim();
  if (totalMs <= 0 || playedMs >= totalMs) return text;
  if (playedMs <= 0) return '';
  const chars = Math.floor((text.length * playedMs) / totalMs);
  if (chars >= text.length) return text;
  // a word counts as heard only when its last letter was
  const cut = /\s/.test(text[chars] ?? ' ') ? chars : text.lastIndexOf(' ', chars);
  return cut <= 0 ? '' : text.slice(0, cut).trim();
}
