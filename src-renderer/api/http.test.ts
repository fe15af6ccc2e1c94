/** ApiClient: the token, JSON bodies, and every failure turned into an ApiError the views can use. */
import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './http';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function client(respond: (s: Seen) => Response | Promise<Response>, token: string | null = null) {
  const seen: Seen[] = [];
  const unauthorized: string[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const s: Seen = { url: String(input), method: init?.method ?? 'GET', headers: (init?.headers ?? {}) as Record<string, string>, body: init?.body };
    seen.push(s);
    return respond(s);
  }) as typeof fetch;
  const c = new ApiClient({ base: 'http://127.0.0.1:8996', token: () => token, onUnauthorized: (d) => unauthorized.push(d), fetchImpl });
  return { c, seen, unauthorized };
}

/** The ApiError a failing call throws. */
const failure = (p: Promise<unknown>): Promise<ApiError> => p.then(() => { throw new Error('expected a failure'); }, (e: ApiError) => e);

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('ApiClient', () => {
  it('sends JSON with the operator token and returns the parsed answer', async () => {
    const { c, seen } = client(() => json(200, { ok: true, max_tokens: 5 }), 'tok-123');
    expect(await c.post<{ max_tokens: number }>('/api/config/llm', { max_tokens: 5 })).toEqual({ ok: true, max_tokens: 5 });
    expect(seen[0]).toMatchObject({ url: 'http://127.0.0.1:8996/api/config/llm', method: 'POST', body: '{"max_tokens":5}' });
    expect(seen[0].headers).toMatchObject({ Authorization: 'Bearer tok-123', 'Content-Type': 'application/json' });
  });

  it('carries the per-key errors of a 400 so forms can show them next to the field', async () => {
    const { c } = client(() => json(400, { ok: false, detail: 'invalid configuration', errors: [{ key: 'llm_max_tokens', message: 'Too small' }, { bogus: 1 }] }));
    const e = await failure(c.post('/api/config/llm', {}));
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 400, detail: 'invalid configuration', errors: [{ key: 'llm_max_tokens', message: 'Too small' }] });
    expect(e.missing).toBe(false);
  });

  it("tells a missing capability (the gateway's own not-found) from a missing call", async () => {
    const route = await failure(client(() => json(404, { detail: 'Not Found: GET /api/calls' })).c.get('/api/calls'));
    const call = await failure(client(() => json(404, { detail: 'call not found: abc' })).c.get('/api/calls/abc'));
    expect(route.missing).toBe(true);
    expect(call.missing).toBe(false);
  });

  it('reports a 401 so the console can ask for the token', async () => {
    const { c, unauthorized } = client(() => json(401, { detail: 'operator token required' }));
    const e = await failure(c.get('/api/status'));
    expect(e.unauthorized).toBe(true);
    expect(unauthorized).toEqual(['operator token required']);
  });

  it('explains an unreachable gateway and a non-JSON error page', async () => {
    const down = await failure(
      client(() => {
        throw new TypeError('fetch failed');
      }).c.get('/api/status'),
    );
    expect(down).toMatchObject({ status: 0, detail: 'The gateway is not reachable (fetch failed).' });
    const html = await failure(client(() => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' })).c.get('/api/status'));
    expect(html).toMatchObject({ status: 502, detail: '<h1>Bad gateway</h1>' });
  });

  it('builds URLs with the token for audio, downloads and sockets', () => {
    const { c } = client(() => json(200, {}), 'a b');
    expect(c.url('/api/calls/x/export', { format: 'txt', empty: '' })).toBe('http://127.0.0.1:8996/api/calls/x/export?format=txt&token=a+b');
    expect(c.wsUrl('/ws/events', 'http://ignored')).toBe('ws://127.0.0.1:8996/ws/events?token=a+b');
    const same = new ApiClient({ token: () => null });
    expect(same.wsUrl('/ws/events', 'http://127.0.0.1:9000')).toBe('ws://127.0.0.1:9000/ws/events');
  });
});
