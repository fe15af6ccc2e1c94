#!/usr/bin/env node
/**
 * A separate program that speaks with espeak-ng compiled to WebAssembly (@echogarden/espeak-ng-emscripten,
 * GPL-3.0). The app talks to it over stdio only, which keeps the GPL code out of the MIT process, keeps
 * synthesis off the gateway's event loop, and lets a crash here leave the gateway running.
 *
 * Protocol
 *   stdin:  one JSON request per line: {"id":1,"op":"synth","text":"…","voice":"en-us","rate":175,"pitch":50}
 *           or {"id":2,"op":"voices"}, {"id":3,"op":"ping"}, {"id":4,"op":"phonemes","text":"…","voice":"de"} (IPA for Piper)
 *   stdout: frames [u32 LE payload length][u8 type][u32 LE request id][payload]
 *           type 1 audio chunk (int16 LE mono samples), 2 done (JSON {sampleRate, samples, ms}),
 *           3 error (JSON {message}), 4 ready (JSON {sampleRate}, id 0), 5 result (JSON)
 */
import readline from 'node:readline';

const T_AUDIO = 1;
const T_DONE = 2;
const T_ERROR = 3;
const T_READY = 4;
const T_RESULT = 5;

function frame(type, id, payload) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload), 'utf8');
  const head = Buffer.alloc(9);
  head.writeUInt32LE(body.length + 5, 0);
  head.writeUInt8(type, 4);
  head.writeUInt32LE(id >>> 0, 5);
  process.stdout.write(Buffer.concat([head, body]));
}

const escapeXml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const { default: init } = await import('@echogarden/espeak-ng-emscripten');
const mod = await init();
const worker = new mod.eSpeakNGWorker();
const sampleRate = worker.get_samplerate();
let current = { voice: '', rate: -1, pitch: -1 };

function configure(voice, rate, pitch) {
  if (voice !== current.voice) {
    const rc = worker.set_voice(voice);
    if (rc !== 0) {
      current.voice = '';
      throw new Error(`unknown voice '${voice}' (espeak-ng error ${rc})`);
    }
    current.voice = voice;
  }
  if (rate !== current.rate) { worker.set_rate(rate); current.rate = rate; }
  if (pitch !== current.pitch) { worker.set_pitch(pitch); current.pitch = pitch; }
}

function handle(req) {
  const id = Number(req.id) >>> 0;
  try {
    if (req.op === 'ping') return frame(T_RESULT, id, { ok: true });
    if (req.op === 'voices') {
      return frame(T_RESULT, id, worker.list_voices().map((v) => ({ id: v.identifier, name: v.name, languages: (v.languages ?? []).map((l) => l.name) })));
    }
    if (req.op === 'phonemes') {
      // IPA for a Piper voice, clause by clause with the clause's punctuation kept (as piper-phonemize does)
      configure(String(req.voice || 'en-us'), current.rate > 0 ? current.rate : 175, current.pitch >= 0 ? current.pitch : 50);
      const clauses = String(req.text ?? '').match(/[^,.;:!?]+[,.;:!?]*/g) ?? [];
      const out = [];
      for (const c of clauses) {
        const punct = (c.match(/[,.;:!?]+$/) ?? [''])[0].slice(0, 1);
        const words = c.slice(0, c.length - (c.match(/[,.;:!?]+$/) ?? [''])[0].length).trim();
        if (!words) continue;
        const r = worker.synthesize_ipa(escapeXml(words));
        if (r.code !== 0) throw new Error(`phonemizing failed (espeak-ng error ${r.code})`);
        out.push(r.ipa.replace(/_/g, '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ') + punct);
      }
      return frame(T_RESULT, id, { phonemes: out.join(' ') });
    }
    if (req.op === 'crash') process.exit(70); // used by tests to exercise restart
    if (req.op !== 'synth') return frame(T_ERROR, id, { message: `unknown op ${req.op}` });
    const text = String(req.text ?? '');
    configure(String(req.voice || 'en-us'), Math.round(Number(req.rate) || 175), Math.round(Number(req.pitch ?? 50)));
    const t0 = performance.now();
    let total = 0;
    worker.synthesize(escapeXml(text), (samples) => {
      if (samples && samples.length) {
        total += samples.length;
        frame(T_AUDIO, id, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
      }
    });
    frame(T_DONE, id, { sampleRate, samples: total, ms: performance.now() - t0 });
  } catch (e) {
    frame(T_ERROR, id, { message: e && e.message ? e.message : String(e) });
  }
}

frame(T_READY, 0, { sampleRate });
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    return frame(T_ERROR, 0, { message: 'bad request line' });
  }
  handle(req);
});
rl.on('close', () => process.exit(0));
