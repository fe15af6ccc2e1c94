/**
 * Server-sent events as OpenAI-compatible servers send them: one JSON object per `data:` line, ended by
 * `data: [DONE]`. Comment lines (`: ping`), `event:`/`id:` fields and blank separators are skipped.
 */

/** Yields the payload of every `data:` line of a byte stream, stopping at `[DONE]`. */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buf += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const data = dataOf(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (data === undefined) continue;
        if (data === '[DONE]') return;
        yield data;
      }
      if (done) {
        const data = dataOf(buf);
        if (data !== undefined && data !== '[DONE]') yield data;
        return;
      }
    }
  } finally {
    // stopped early ([DONE], consumer error, abort): drop whatever the server still sends
    await reader.cancel().catch(() => undefined);
  }
}

/** The `data:` payloads of a complete SSE text, up to `[DONE]`. */
export function sseDataOfText(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const data = dataOf(line);
    if (data === undefined) continue;
    if (data === '[DONE]') break;
    out.push(data);
  }
  return out;
}

function dataOf(rawLine: string): string | undefined {
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  if (!line.startsWith('data:')) return undefined;
  const v = line.slice(5);
  return v.startsWith(' ') ? v.slice(1) : v;
}

/** True when a body that did not announce `text/event-stream` is SSE anyway. */
export function looksLikeSse(text: string): boolean {
  return /^\s*(data:|:|event:)/.test(text);
}
