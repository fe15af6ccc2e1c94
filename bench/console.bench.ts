/**
 * bench:console — a browser console (Debian Chromium, the built renderer) following N simultaneous
 * calls (default 20) at R turns per second each (default 2) for D seconds (default 60), against the
 * real gateway with instant engines and the phone simulator.
 *
 * Measures, in the page: event-to-screen latency (bus publish time → the next frame after the call's
 * card shows the event; and socket receipt → that frame), events received/applied/duplicated/missed by
 * the console's sequencer (dropped must be 0), socket reconnects, and the renderer's JS heap after a
 * forced GC every 10 s (growth must stay bounded: transcripts and ended calls are capped).
 * Prints and writes bench/results/console.json.
 * Usage: npm run bench:console -- [--calls 20] [--rate 2] [--seconds 60] [--view calls|call]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildConsole, HAS_CHROMIUM, launchBrowser } from '../e2e/helpers/browser';
import { startGateway } from '../test/helpers/gateway';
import { PhoneSim, utterance } from '../test/helpers/phone-sim';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { calls: { type: 'string', default: '20' }, rate: { type: 'string', default: '2' }, seconds: { type: 'string', default: '60' }, view: { type: 'string', default: 'calls' } },
});
const CALLS = Number(values.calls);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const HEAP_BOUND_MB = 32;

if (!HAS_CHROMIUM) {
  console.error('bench:console needs Chromium at /usr/bin/chromium (apt-get install chromium)');
  process.exit(1);
}

/** Runs in the page before the console: timestamps every event frame and when its card repaints. */
const PAGE_PROBE = `(() => {
  const pending = new Map();
  const samples = { e2s: [], r2s: [] };
  const now = () => performance.timeOrigin + performance.now();
  const Native = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const ws = new Native(url, protocols);
    if (String(url).includes('/ws/events')) {
      ws.addEventListener('message', (ev) => {
        let e;
        try { e = JSON.parse(ev.data); } catch { return; }
        if (typeof e.seq !== 'number' || !e.session_id) return;
        let q = pending.get(e.session_id);
        if (!q) pending.set(e.session_id, (q = []));
        q.push([e.seq, e.timestamp * 1000, now()]);
      });
    }
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  const onMutations = (records) => {
    const shown = new Map();
    for (const r of records) {
      const el = r.target;
      const sid = el.getAttribute && el.getAttribute('data-session');
      const seq = Number(el.getAttribute && el.getAttribute('data-seq'));
      if (sid && seq) shown.set(sid, Math.max(shown.get(sid) || 0, seq));
    }
    if (!shown.size) return;
    requestAnimationFrame(() => {
      const t = now();
      for (const [sid, seq] of shown) {
        const q = pending.get(sid);
        if (!q) continue;
        while (q.length && q[0][0] <= seq) {
          const [, published, received] = q.shift();
          samples.e2s.push(t - published);
          samples.r2s.push(t - received);
        }
      }
    });
  };
  const start = () => new MutationObserver(onMutations).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-seq'], childList: true });
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
  window.__bench = { samples, unmatched: () => [...pending.values()].reduce((n, q) => n + q.length, 0) };
})();`;

function pct(v: number[], p: number): number {
  if (!v.length) return 0;
  const s = [...v].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] * 10) / 10;
}
const summary = (v: number[]) => ({ samples: v.length, p50: pct(v, 50), p95: pct(v, 95), p99: pct(v, 99), max: pct(v, 100) });

const consoleDir = await buildConsole();
const gw = await startGateway({ app: { consoleDir }, config: { session_ttl: 3600, max_duration_sec: 0 } });
let published = 0;
gw.app.ctx.bus.subscribe((e) => {
  if (e.session_id) published++;
});
const browser = await launchBrowser();
const page = browser.page;
await page.addInitScript(PAGE_PROBE);
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const heapMb = async () => {
  await cdp.send('HeapProfiler.collectGarbage');
  const m = (await cdp.send('Performance.getMetrics')).metrics;
  const get = (n: string) => m.find((x) => x.name === n)?.value ?? 0;
  return { heap_mb: Math.round((get('JSHeapUsedSize') / 1048576) * 10) / 10, dom_nodes: get('Nodes') };
};

await page.goto(`${gw.url}/#/calls`);
await page.locator('.statusbar').filter({ hasText: 'connected' }).waitFor();

// the calls start (a first utterance opens each call: a greeting's reset would, like a single real
// phone, end the other open calls)
const phones = Array.from({ length: CALLS }, (_, i) => new PhoneSim(gw.url, gw.bearer, `+49170${String(1000000 + i)}`));
await Promise.all(phones.map((p, i) => p.say(utterance(0.6, 16000, 50 + i))));
if (values.view === 'call') await page.goto(`${gw.url}/#/calls/${phones[0].sessionId}`);
await page.locator('article.call-card, .transcript').first().waitFor();

const audio = Array.from({ length: 8 }, (_, i) => utterance(0.6, 16000, i + 1));
const heap: { t: number; heap_mb: number; dom_nodes: number }[] = [];
const t0 = Date.now();
let turns = 0;
let failed = 0;
const turnLatency: number[] = [];
const until = t0 + SECONDS * 1000;
const interval = 1000 / RATE;

async function drive(p: PhoneSim, offset: number): Promise<void> {
  let next = t0 + offset;
  let k = 0;
  while (next < until) {
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const s = performance.now();
    try {
      const r = await p.say(audio[k++ % audio.length]);
      if (r.status === 200) turns++;
      else failed++;
    } catch {
      failed++;
    }
    turnLatency.push(performance.now() - s);
    next += interval;
  }
}

const sampler = (async () => {
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10_000));
    heap.push({ t: Math.round((Date.now() - t0) / 1000), ...(await heapMb()) });
    console.log(`  t=${heap.at(-1)!.t}s heap=${heap.at(-1)!.heap_mb} MB nodes=${heap.at(-1)!.dom_nodes} turns=${turns}`);
  }
})();
const baseline = { t: 0, ...(await heapMb()) };
await Promise.all([...phones.map((p, i) => drive(p, (i * interval) / CALLS)), sampler]);

// let the last events arrive and render
await page.waitForTimeout(1500);
const stats = (await page.evaluate('window.__clawfinger.stats()')) as Record<string, number | string>;
const probe = (await page.evaluate('({ e2s: window.__bench.samples.e2s, r2s: window.__bench.samples.r2s, unmatched: window.__bench.unmatched() })')) as { e2s: number[]; r2s: number[]; unmatched: number };
const final = { t: Math.round((Date.now() - t0) / 1000), ...(await heapMb()) };
const afterWarmup = heap[0] ?? baseline;
const growth = Math.round((final.heap_mb - afterWarmup.heap_mb) * 10) / 10;
const dropped = published - Number(stats.received) + Number(stats.missed);

const result = {
  bench: 'console',
  at: new Date().toISOString(),
  calls: CALLS,
  turns_per_call_per_s: RATE,
  seconds: SECONDS,
  view: values.view,
  turns_completed: turns,
  turns_failed: failed,
  achieved_turns_per_s: Math.round((turns / SECONDS) * 10) / 10,
  phone_turn_ms: summary(turnLatency),
  events: { published, received: stats.received, applied: stats.applied, duplicates: stats.duplicates, missed: stats.missed, late: stats.late, dropped },
  event_to_screen_ms: summary(probe.e2s),
  receive_to_screen_ms: summary(probe.r2s),
  events_not_shown: probe.unmatched,
  memory: { baseline, samples: heap, final, growth_after_warmup_mb: growth, bound_mb: HEAP_BOUND_MB },
  pass: { no_dropped_events: dropped === 0, memory_bounded: growth < HEAP_BOUND_MB },
};

console.log(`bench:console — ${CALLS} calls × ${RATE} turns/s × ${SECONDS} s (${values.view} view)`);
console.log(`  turns: ${turns} completed (${result.achieved_turns_per_s}/s), ${failed} failed; phone turn p95 ${result.phone_turn_ms.p95} ms`);
console.log(`  events: ${published} published, ${stats.received} received, ${stats.applied} applied, ${stats.duplicates} duplicates, dropped ${dropped}`);
console.log(`  event→screen: p50 ${result.event_to_screen_ms.p50} ms, p95 ${result.event_to_screen_ms.p95} ms, p99 ${result.event_to_screen_ms.p99} ms (${probe.e2s.length} samples; ${probe.unmatched} not shown)`);
console.log(`  receive→screen: p50 ${result.receive_to_screen_ms.p50} ms, p95 ${result.receive_to_screen_ms.p95} ms`);
console.log(`  heap: ${baseline.heap_mb} MB at start, ${afterWarmup.heap_mb} MB after warm-up, ${final.heap_mb} MB at end (growth ${growth} MB, bound ${HEAP_BOUND_MB} MB); DOM nodes ${final.dom_nodes}`);
console.log(`  pass: dropped=0 ${result.pass.no_dropped_events}, memory bounded ${result.pass.memory_bounded}`);

mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'console.json'), JSON.stringify(result, null, 2) + '\n');
await browser.close();
await gw.close();
if (!result.pass.no_dropped_events || !result.pass.memory_bounded) process.exitCode = 1;
