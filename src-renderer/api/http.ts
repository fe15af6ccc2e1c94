/**
 * HTTP client of the gateway's operator API: same origin, JSON in and out, the operator token (when
 * one is known) as `Authorization: Bearer`. Every failure becomes an ApiError carrying the server's
 * `detail` and, for config writes, the per-key `errors` so forms can show them next to the field.
 */
export interface FieldError {
  key: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly body: unknown = null,
  ) {
    super(detail);
    this.name = 'ApiError';
  }

  /**
   * The gateway has no such route (this capability is not in this gateway): its not-found handler
   * answers `Not Found: <METHOD> <path>`; a 404 about an unknown call or device is not this.
   */
  get missing(): boolean {
    return (this.status === 404 && /^Not Found: /.test(this.detail)) || this.status === 405 || this.status === 501;
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}

export interface ApiClientOptions {
  /** '' = same origin as the page */
  base?: string;
  token?: () => string | null;
  /** told about every 401 so the console can ask for the operator token */
  onUnauthorized?: (detail: string) => void;
  fetchImpl?: typeof fetch;
}

function detailOf(body: unknown, status: number, statusText: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const k of ['detail', 'error', 'message']) if (typeof b[k] === 'string' && b[k]) return b[k] as string;
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 300);
  return `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
}

function errorsOf(body: unknown): FieldError[] {
  if (!body || typeof body !== 'object') return [];
  const e = (body as { errors?: unknown }).errors;
  if (!Array.isArray(e)) return [];
  return e.filter((x): x is FieldError => !!x && typeof x.key === 'string' && typeof x.message === 'string');
}

export class ApiClient {
  readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly o: ApiClientOptions = {}) {
    this.base = (o.base ?? '').replace(/\/+$/, '');
    this.fetchImpl = o.fetchImpl ?? ((...a) => fetch(...a));
  }

  /** Absolute-or-relative URL of a path, with the token as `?token=` (for <audio>, EventSource, downloads). */
  url(path: string, query: Record<string, string | number | undefined | null> = {}, withToken = true): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    const t = withToken ? this.o.token?.() : null;
    if (t) params.set('token', t);
    const qs = params.toString();
    return `${this.base}${path}${qs ? `?${qs}` : ''}`;
  }

  /** ws:// URL of a socket path on the same host, with the token when known. */
  wsUrl(path: string, origin: string): string {
    const httpUrl = this.base ? this.base : origin;
    const u = new URL(path, httpUrl.endsWith('/') ? httpUrl : `${httpUrl}/`);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    const t = this.o.token?.();
    if (t) u.searchParams.set('token', t);
    return u.toString();
  }

  async request<T>(method: string, path: string, body?: unknown, opts: { signal?: AbortSignal; query?: Record<string, string | number | undefined | null> } = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const t = this.o.token?.();
    if (t) headers.Authorization = `Bearer ${t}`;
    let payload: FormData | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path, opts.query ?? {}, false), { method, headers, body: payload, signal: opts.signal });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new ApiError(0, `The gateway is not reachable (${(e as Error).message}).`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text for the message
      }
    } else parsed = null;
    if (!res.ok) {
      const err = new ApiError(res.status, detailOf(parsed, res.status, res.statusText), errorsOf(parsed), parsed);
      if (res.status === 401) this.o.onUnauthorized?.(err.detail);
      throw err;
    }
    return parsed as T;
  }

  get<T>(path: string, query?: Record<string, string | number | undefined | null>, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, undefined, { query, signal });
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  del<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}
