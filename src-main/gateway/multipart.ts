/**
 * multipart/form-data parser for fully buffered bodies (the phone sends Content-Length bodies of at
 * most a few hundred KB). Text parts are decoded as UTF-8 and fall back to Latin-1 when the bytes are
 * not valid UTF-8 — the phone writes Latin-1 bytes for non-ASCII text (phone spec §1.3).
 */
export interface FilePart {
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface MultipartForm {
  fields: Map<string, string>;
  files: Map<string, FilePart>;
}

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}

export function boundaryOf(contentType: string | undefined): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const b = m?.[1] ?? m?.[2];
  if (!b) throw new MultipartError('multipart body without a boundary in Content-Type');
  if (b.length > 200) throw new MultipartError('multipart boundary is too long');
  return b;
}

function parseDisposition(header: string): { name?: string; filename?: string } {
  const out: { name?: string; filename?: string } = {};
  const re = /;\s*(name|filename)\*?=(?:"((?:[^"\\]|\\.)*)"|([^;]*))/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header))) {
    const key = m[1].toLowerCase() as 'name' | 'filename';
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
    out[key] = decodeText(Buffer.from(raw, 'latin1'));
  }
  return out;
}

export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartForm {
  const boundary = boundaryOf(contentType);
  const delim = Buffer.from(`--${boundary}`);
  const form: MultipartForm = { fields: new Map(), files: new Map() };
  let pos = body.indexOf(delim);
  if (pos < 0) throw new MultipartError('multipart body does not contain its boundary');
  for (;;) {
    pos += delim.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing "--"
    // skip transport padding and the CRLF after the delimiter
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    else if (body[pos] === 0x0a) pos += 1;
    else throw new MultipartError('malformed multipart delimiter line');
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw new MultipartError('multipart part without a header terminator');
    const headers = body.subarray(pos, headerEnd).toString('latin1').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headerEnd + 4);
    if (next < 0) throw new MultipartError('multipart body is truncated (no closing boundary)');
    const content = body.subarray(headerEnd + 4, next);
    let disposition = '';
    let ctype = '';
    for (const h of headers) {
      const i = h.indexOf(':');
      if (i < 0) continue;
      const k = h.slice(0, i).trim().toLowerCase();
      if (k === 'content-disposition') disposition = h.slice(i + 1).trim();
      else if (k === 'content-type') ctype = h.slice(i + 1).trim();
    }
    const d = parseDisposition(disposition);
    if (!d.name) throw new MultipartError('multipart part without a name');
    if (d.filename !== undefined) {
      if (!form.files.has(d.name)) form.files.set(d.name, { filename: d.filename, contentType: ctype || 'application/octet-stream', data: Buffer.from(content) });
    } else if (!form.fields.has(d.name)) {
      form.fields.set(d.name, decodeText(content));
    }
    pos = next + 2;
  }
  return form;
}

/** Build a multipart body (tests, clients). Text values are written as given (Buffer for raw bytes). */
export function buildMultipart(boundary: string, parts: { name: string; value: string | Buffer; filename?: string; contentType?: string }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"\r\nContent-Type: ${p.contentType ?? 'application/octet-stream'}`;
    head += '\r\n\r\n';
    chunks.push(Buffer.from(head, 'latin1'), typeof p.value === 'string' ? Buffer.from(p.value, 'utf8') : p.value, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
