/**
 * The console's security in a real browser: a page from another origin cannot drive the gateway
 * (HTTP or WebSocket), the console's own page runs under a CSP that blocks injected inline script,
 * and when the gateway requires the operator token the console asks for it and then works.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, screenshot, type BrowserSession } from './helpers/browser';
import { callCard, consoleSession, getJson, waitForText } from './helpers/console-app';
import { PhoneSim } from '../test/helpers/phone-sim';
import type { TestGateway } from '../test/helpers/gateway';

/** A page on another origin that tries every way a web page could drive the gateway. */
function attackerPage(gatewayUrl: string): string {
  const ws = gatewayUrl.replace('http', 'ws');
  return `<!doctype html><meta charset="utf-8"><title>elsewhere</title><pre id="out"></pre>
<script>
const results = {};
const done = (k, v) => { results[k] = v; document.getElementById('out').textContent = JSON.stringify(results); };
fetch(${JSON.stringify(gatewayUrl + '/api/config/llm')}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ max_tokens: 7 }) })
  .then((r) => done('json', 'status ' + r.status), (e) => done('json', 'blocked: ' + e.name));
// a "simple" request reaches the server without a CORS preflight: the server itself must refuse it
fetch(${JSON.stringify(gatewayUrl + '/api/config/llm')}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ max_tokens: 9 }) })
  .then(() => done('simple', 'sent'), (e) => done('simple', 'blocked: ' + e.name));
fetch(${JSON.stringify(gatewayUrl + '/api/status')}).then((r) => r.text()).then((t) => done('read', 'read ' + t.length), (e) => done('read', 'blocked: ' + e.name));
const sock = new WebSocket(${JSON.stringify(ws + '/ws/events')});
sock.onopen = () => done('ws', 'open');
sock.onerror = () => done('ws', 'error');
const agent = new WebSocket(${JSON.stringify(ws + '/api/agent/ws')});
agent.onopen = () => done('agent', 'open');
agent.onerror = () => done('agent', 'error');
</script>`;
}

describe.skipIf(!HAS_CHROMIUM)('operator console security (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  const session = consoleSession();
  let gw: TestGateway;
  let browser: BrowserSession;
  let foreign: Server;
  let foreignUrl = '';

  beforeAll(async () => {
    ({ gw, browser } = session);
    foreign = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(attackerPage(gw.url));
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((r) => foreign?.close(r)));

  it('a page from another origin can neither change settings, read the API nor open its sockets', async () => {
    const before = await getJson(`${gw.url}/api/config/llm`);
    const refused: string[] = [];
    const page = await browser.context.newPage();
    page.on('response', (r) => {
      if (r.url().startsWith(gw.url) && r.status() === 403) refused.push(r.url());
    });
    await page.goto(`${foreignUrl}/`);
    const read = async () => JSON.parse((await page.locator('#out').textContent()) || '{}') as Record<string, string>;
    await expect.poll(async () => Object.keys(await read()).sort(), { timeout: 15_000 }).toEqual(['agent', 'json', 'read', 'simple', 'ws']);
    const results = await read();
    expect(results.json).toMatch(/^blocked/);
    expect(results.read).toMatch(/^blocked/);
    expect(results.ws).toBe('error');
    expect(results.agent).toBe('error');
    const after = await getJson(`${gw.url}/api/config/llm`);
    expect(after.max_tokens).toBe(before.max_tokens);
    // the simple request did reach the gateway, which refused it for its Origin
    expect(results.simple).toBe('sent');
    expect(refused).toContain(`${gw.url}/api/config/llm`);
    await page.close();
  });

  it("serves the console with a CSP that blocks injected inline script, and the console's own calls work", async () => {
    const page = browser.page;
    const res = await page.goto(`${gw.url}/`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await waitForText(page.locator('.statusbar'), 'connected');
    // (a string: this test program has no DOM typings)
    const outcome = (await page.evaluate(`new Promise((resolve) => {
      let violation = '';
      document.addEventListener('securitypolicyviolation', (e) => (violation = e.violatedDirective));
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true';
      document.body.appendChild(s);
      setTimeout(() => resolve({ ran: window.__injected === true, violation }), 200);
    })`)) as { ran: boolean; violation: string };
    expect(outcome.ran).toBe(false);
    expect(outcome.violation).toMatch(/^script-src/);
  });
});

describe.skipIf(!HAS_CHROMIUM)('operator console with a required token (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  const session = consoleSession({ config: { agent_token_required: true } });
  let gw: TestGateway;
  let browser: BrowserSession;
  beforeAll(() => ({ gw, browser } = session));

  it('asks for the operator token, refuses a wrong one, and connects with the right one', async () => {
    const page = browser.page;
    await page.goto(`${gw.url}/`);
    const dialog = page.getByRole('dialog', { name: 'Operator token required' });
    await dialog.waitFor();
    await screenshot(page, 'token-prompt');
    const field = dialog.getByLabel('Operator token');
    await field.fill('not-the-token-0000000000');
    await field.press('Enter');
    await waitForText(page.getByRole('dialog', { name: 'Operator token required' }), 'did not accept the token');
    await page.getByRole('dialog').getByLabel('Operator token').fill(gw.operatorToken);
    await page.getByRole('dialog').getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await waitForText(page.locator('.statusbar'), /Gateway\s*connected/);
    const phone = new PhoneSim(gw.url, gw.bearer, '+4915112345678');
    await phone.greeting('Hello.');
    await callCard(page, phone.sessionId).waitFor();
    // the token is kept for this browser session only: a reload reconnects without asking again
    await page.reload();
    await callCard(page, phone.sessionId).waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
  });
});

describe.skipIf(!HAS_CHROMIUM)('a console opened from another address of a gateway on 0.0.0.0 (needs /usr/bin/chromium)', { timeout: 90_000 }, () => {
  const session = consoleSession({ config: { host: '0.0.0.0' } });
  let gw: TestGateway;
  let browser: BrowserSession;
  beforeAll(() => ({ gw, browser } = session));

  it('loads at http://127.0.0.2:<port>/, asks for the operator token, then shows live calls and saves settings', async () => {
    const remote = `http://127.0.0.2:${new URL(gw.url).port}`;
    const page = browser.page;
    const res = await page.goto(`${remote}/`);
    expect(res?.status()).toBe(200);
    const dialog = page.getByRole('dialog', { name: 'Operator token required' });
    await dialog.waitFor();
    await dialog.getByLabel('Operator token').fill(gw.operatorToken);
    await dialog.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await waitForText(page.locator('.statusbar'), /Gateway\s*connected/);
    // live events arrive over the socket opened from this origin
    const phone = new PhoneSim(gw.url, gw.bearer, '+4915112345678');
    await phone.greeting('Hello.');
    await callCard(page, phone.sessionId).waitFor();
    // a POST from the page (its own Origin, the token) is accepted
    const status = await page.evaluate(`fetch('/api/config/call', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + ${JSON.stringify(gw.operatorToken)} }, body: JSON.stringify({ greeting_owner: 'Remote Ada' }) }).then((r) => r.status)`);
    expect(status).toBe(200);
    expect((await getJson(`${gw.url}/api/config/call`)).greeting_owner).toBe('Remote Ada');
  });
});
