/**
 * bench:gateway — N simulated phones (default 50) × M turns each against the real gateway in a child
 * process, with instant in-process engines and 3 s 24 kHz utterances. Each turn is what the phone
 * sends: /api/asr then /api/turn with the same bytes. Prints and writes bench/results/gateway.json.
 *
 * Two phases: "saturation" (every phone sends its next turn as soon as the last one is answered:
 * throughput) and "paced" (each phone waits --think-ms between turns, like a caller listening to the
 * reply and speaking again: the latency the gateway adds to a turn when it is not overloaded).
 * Usage: npm run bench:gateway -- [--phones 50] [--turns 20] [--paced-turns 8] [--think-ms 1500]
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { phoneMultipart, SILENCE_WAV, utterance } from '../test/helpers/phone-sim';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { phones: { type: 'string', default: '50' }, turns: { type: 'string', default: '20' }, 'paced-turns': { type: 'string', default: '8' }, 'think-ms': { type: 'string', default: '1500' } },
});
const PHONES = Number(values.phones);
const TURNS = Number(values.turns);
const PACED_TURNS = Number(values['paced-turns']);
const THINK_MS = Number(values['think-ms']);

const child = fork(join(here, 'gateway-server.ts'), [], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/cf-prof'] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const ask = <T>(cmd?: string): Promise<T> => new Promise((resolve) => { child.once('message', (m) => resolve(m as T)); if (cmd) child.send({ cmd }); });
const { url } = await ask<{ url: string }>();
const u = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: PHONES * 2 });

/** Each simulated phone talks from its own loopback address (127.0.0.2, …), as separate phones on a network do. */
const phoneAddress = (p: number) => `127.0.${1 + Math.floor(p / 250)}.${2 + (p % 250)}`;

/** A phone's answer: status, latency, and what the load generator checks of it. */
interface Answer {
  status: number;
  ms: number;
  /** the session id (parsed only where needed: the greeting) */
  sessionId: string;
  /** a turn the caller hears as an answer: reply and audio, not the hang-up of an ended call, a rejection or a stale turn */
  real: boolean;
}

const has = (b: Buffer, s: string) => b.indexOf(s) >= 0;
/**
 * Checks an answer without JSON-parsing its ~100 KB of base64 audio (twice, as upstream sends it):
 * the load generator shares this 2-core machine with the gateway, and every millisecond it spends is
 * taken from the gateway. Small answers (errors) and the greeting are parsed in full.
 */
function check(status: number, b: Buffer, parse: boolean): Omit<Answer, 'ms'> {
  if (parse || b.length < 4096) {
    const j = JSON.parse(b.toString()) as Record<string, unknown>;
    const real = status === 200 && !!j.reply && !!j.audio_base64 && j.hangup !== true && j.rejected !== true && j.stale !== true;
    return { status, sessionId: String(j.session_id ?? ''), real };
  }
  const real = status === 200 && has(b, '"ok":true') && !has(b, '"reply":""') && has(b, '"audio_base64":"') && !has(b, '"hangup":true') && !has(b, '"rejected":true') && !has(b, '"stale":true');
  return { status, sessionId: '', real };
}

function post(path: string, fields: [string, string][], audio: Uint8Array, localAddress: string, parse = false): Promise<Answer> {
  const boundary = `----PhoneBridge${Date.now()}`;
  const body = phoneMultipart(boundary, fields, audio);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method: 'POST', agent, localAddress, headers: { Authorization: 'Bearer bench-bearer', 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        try {
          resolve({ ...check(res.statusCode ?? 0, Buffer.concat(chunks), parse), ms });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const utterances = Array.from({ length: 8 }, (_, i) => utterance(3, 24000, i + 1));
let turnLatencies: number[] = [];
let asrLatencies: number[] = [];
let errors = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function phone(p: number, turns: number, thinkMs: number): Promise<void> {
  if (thinkMs) await sleep(Math.random() * thinkMs);
  const from = phoneAddress(p);
  const g = await post('/api/turn', [['reset_session', 'true'], ['transcript_hint', 'Hello'], ['forced_reply', 'Hello'], ['caller_number', `+4917000${p}`], ['call_direction', 'incoming']], SILENCE_WAV, from, true);
  if (!g.real) errors++;
  const sid = g.sessionId;
  for (let t = 0; t < turns; t++) {
    if (thinkMs) await sleep(thinkMs * (0.75 + Math.random() * 0.5));
    // distinct bytes per phone and turn, as real utterances are
    const wav = Buffer.from(utterances[(p + t) % utterances.length]);
    wav.writeInt16LE((p * 1000 + t) % 30000, 44);
    const a = await post('/api/asr', [], wav, from);
    asrLatencies.push(a.ms);
    const r = await post('/api/turn', [['reset_session', 'false'], ['session_id', sid], ['caller_number', `+4917000${p}`], ['call_direction', 'incoming']], wav, from);
    turnLatencies.push(r.ms);
    if (!r.real) errors++;
  }
}

const pct = (v: number[], p: number) => { const s = [...v].sort((a, b) => a - b); return s.length ? Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] * 100) / 100 : 0; };
type Cpu = { user: number; system: number };
const cpu0 = await ask<Cpu>('cpu');
const t0 = performance.now();
await Promise.all(Array.from({ length: PHONES }, (_, p) => phone(p, TURNS, 0)));
const wallS = (performance.now() - t0) / 1000;
const cpu1 = await ask<Cpu>('cpu');
/** CPU time the gateway process used in the saturation phase (all its threads): its cost per turn */
const gatewayCpuS = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1e6;
const saturation = {
  turns: turnLatencies.length, wallSeconds: Math.round(wallS * 100) / 100, turnsPerSecond: Math.round((turnLatencies.length / wallS) * 10) / 10,
  turnLatencyMs: { p50: pct(turnLatencies, 50), p95: pct(turnLatencies, 95), p99: pct(turnLatencies, 99) },
  gatewayCpuSeconds: Math.round(gatewayCpuS * 100) / 100,
  gatewayCpuMsPerTurn: Math.round((gatewayCpuS * 1000 * 100) / turnLatencies.length) / 100,
};
const satErrors = errors;
turnLatencies = [];
asrLatencies = [];
const t1 = performance.now();
await Promise.all(Array.from({ length: PHONES }, (_, p) => phone(p + PHONES, PACED_TURNS, THINK_MS)));
const pacedWall = (performance.now() - t1) / 1000;
const stats = await ask<{ peakRss: number; asrCalls: number }>('stats');
child.send({ cmd: 'stop' });
agent.destroy();

const result = {
  bench: 'gateway',
  date: new Date().toISOString(),
  phones: PHONES,
  saturation: { turnsPerPhone: TURNS, ...saturation, errors: satErrors },
  paced: {
    turnsPerPhone: PACED_TURNS, thinkMs: THINK_MS, turns: turnLatencies.length,
    offeredTurnsPerSecond: Math.round((turnLatencies.length / pacedWall) * 10) / 10,
    gatewayAddedLatencyMs: { p50: pct(turnLatencies, 50), p95: pct(turnLatencies, 95), p99: pct(turnLatencies, 99) },
    asrProbeLatencyMs: { p50: pct(asrLatencies, 50), p95: pct(asrLatencies, 95), p99: pct(asrLatencies, 99) },
    errors: errors - satErrors,
  },
  turnsPerSecond: saturation.turnsPerSecond,
  p99AddedLatencyMs: pct(turnLatencies, 99),
  asrRunsPerUtterance: Math.round((stats.asrCalls / (PHONES * (TURNS + PACED_TURNS))) * 100) / 100,
  errors,
  peakRssMB: Math.round(stats.peakRss / 1048576),
  targets: { turnsPerSecond: 300, p99LatencyMs: 20, errors: 0 },
  note: 'latency = full /api/turn request time with instant engines (what the gateway adds); client and server share this 2-core machine. A turn is /api/asr + /api/turn with a 3 s utterance, the caller and reply WAVs recorded (record_audio on). gatewayCpuMsPerTurn = the gateway process\'s CPU per turn in the saturation phase',
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'gateway.json'), JSON.stringify(result, null, 2) + '\n');
