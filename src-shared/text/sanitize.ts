/** The two text sanitisers of the upstream gateway (spec §9.4). Observable behaviour: keep exact. */

export function safeText(input: unknown): string {
  if (input === null || input === undefined) return '';
  let s = String(input);
  s = s.replace(/\u0000/g, ' ');
  // drop control characters below U+0020 except \n and \t
  s = s.replace(/[\u0001-\u0008\u000b-\u001f]/g, '');
  s = s.replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"').replace(/[\u2013\u2014]/g, '-').replace(/\u2026/g, '...');
  return s.replace(/\s+/gu, ' ').trim();
}

export function trimForTts(input: unknown): string {
  let s = input === null || input === undefined ? '' : String(input);
  s = s.replace(/<think>[\s\S]*?<\/think>/gi, ' ');
  s = safeText(s);
  s = s.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
  s = s.replace(/[*`_#]/g, ' ');
  s = s.replace(/[^\p{L}\p{N}\p{M}\p{Pc}\s.,!?;:'"()-]/gu, '');
  return s.replace(/\s+/gu, ' ').trim();
}

/**
 * Split text into sentences for pipelined synthesis; keeps the terminator with its sentence. A
 * terminator ends a sentence only before whitespace or the end, so "3.50", "v2.1" and "...?!" stay whole.
 */
export function splitSentences(text: string): string[] {
  const parts = text.match(/[\s\S]*?[.!?]+["')\]]*(?=\s|$)|[\s\S]+$/g) ?? [];
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** The phone swallows replies that look like "could not hear" prompts (phone spec §1.3.5). */
export function isClarifyPhrase(reply: string): boolean {
  const s = reply.toLowerCase().replace(/[^\p{L}\p{N}\s']/gu, ' ').replace(/\s+/g, ' ');
  return s.includes('hear') && (s.includes('please try again') || s.includes('could not hear that clearly') || s.includes("couldn't hear that clearly"));
}
