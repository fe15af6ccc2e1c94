/**
 * Source of the playback process. `speaker` (mpg123's ALSA/CoreAudio/WinMM output) calls abort()
 * when ALSA has no usable default device, which would kill whatever process loaded it — so it
 * only ever runs here, in a child started with `node -e` (or Electron as node): a bad device
 * costs this child, never the gateway or a live phone call. Kept as plain CommonJS text so it
 * survives bundling of the main process unchanged.
 *
 * Protocol (IPC, advanced serialization):
 *   parent → child  {t:'play', id, rate, pcm: Uint8Array}  {t:'stop', id}
 *   child → parent  {t:'ready'} {t:'fatal', message}  {t:'started', id}  {t:'progress', id, written}
 *                   {t:'done', id, written, stopped, error?}
 * Env: CF_SPEAKER_MODULE (resolved path of the speaker package), CF_SPEAKER_DEVICE ('' = default).
 *
 * Stopping: the child writes ≤ 1024 frames per native write and checks for a stop between writes,
 * then drops ALSA's buffer (close(true) → snd_pcm_drop): silence within about one period. After
 * the last write it waits for the buffered audio to play out (stoppable) before a draining close;
 * a device that took the audio much faster than real time (a file) is closed at once.
 */
export const SPEAKER_CHILD_SOURCE = String.raw`
'use strict';
const Speaker = require(process.env.CF_SPEAKER_MODULE);
const device = process.env.CF_SPEAKER_DEVICE || undefined;
const FRAMES = 1024;
let cur = null;
function send(m) { if (process.connected) process.send(m); }
process.on('disconnect', () => process.exit(0));
function open(rate) {
  return new Speaker({ channels: 1, bitDepth: 16, sampleRate: rate, signed: true, device: device });
}
function fatal(message) {
  send({ t: 'fatal', message: String(message) });
  setTimeout(() => process.exit(3), 50);
}
try {
  const probe = open(16000);
  let settled = false;
  probe.on('error', (e) => { if (!settled) { settled = true; fatal(e && e.message || e); } });
  probe.write(Buffer.alloc(0), (err) => {
    if (settled) return;
    settled = true;
    if (err) return fatal(err.message);
    try { probe.close(true); } catch (e) { return fatal(e.message); }
    send({ t: 'ready' });
  });
} catch (e) {
  fatal(e && e.message || e);
}
function play(id, rate, pcm) {
  const buf = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const job = { id: id, stopping: false, written: 0, done: false, t0: 0, tail: null };
  cur = job;
  let s;
  const finish = (error) => {
    if (job.done) return;
    job.done = true;
    if (job.tail) clearTimeout(job.tail);
    try { if (s) s.close(job.stopping || !!error); } catch (e) { error = error || e.message; }
    if (cur === job) cur = null;
    send({ t: 'done', id: id, written: job.written, stopped: job.stopping, error: error });
  };
  job.finish = finish;
  try { s = open(rate); } catch (e) { return finish(e.message); }
  s.on('error', (e) => finish(String(e && e.message || e)));
  s.on('open', () => { job.t0 = Date.now(); send({ t: 'started', id: id }); });
  const chunk = FRAMES * 2;
  const next = () => {
    if (job.done) return;
    if (job.stopping) return finish();
    if (job.written >= buf.length) {
      const left = (job.written / 2 / rate) * 1000 - (Date.now() - job.t0);
      if (left <= 0 || left > 600) return finish();
      job.tail = setTimeout(() => finish(), left);
      return;
    }
    const part = buf.subarray(job.written, Math.min(buf.length, job.written + chunk));
    s.write(part, (err) => {
      if (err) return finish(err.message);
      job.written += part.length;
      send({ t: 'progress', id: id, written: job.written });
      next();
    });
  };
  next();
}
process.on('message', (m) => {
  if (!m || typeof m !== 'object') return;
  if (m.t === 'play') {
    if (cur) { cur.stopping = true; if (cur.tail) cur.finish(); }
    play(m.id, m.rate, m.pcm);
  } else if (m.t === 'stop' && cur && cur.id === m.id) {
    cur.stopping = true;
    if (cur.tail) cur.finish();
  }
});
`;
