/**
 * A simulated Clawfinger phone: sends byte-for-byte what the app sends (phone spec §1) and reads the
 * reply the way the app does (§1.3.5, §2.4). Requests go over raw node:http with Content-Length
 * bodies, boundary `----PhoneBridge<epochMillis>`, parts in the app's order, text written with the
 * app's low-8-bit `writeBytes`.
 */
import http from 'node:http';
import { encodeWav, phoneWavProblem, silence, type PcmAudio } from '../../src-shared/audio/wav';
import { isClarifyPhrase } from '../../src-shared/text/sanitize';

export interface PhoneReply {
  status: number;
  json: Record<string, unknown>;
  /** what the phone would play (null: nothing) */
  audio: Uint8Array | null;
  /** the reply text when the phone accepts it */
  reply: string | null;
  /** the phone disconnects after playing (rejected / hangup) */
  disconnect: boolean;
  /** the phone swallowed a "could not hear" prompt and listens again */
  suppressed: boolean;
}

/** DataOutputStream.writeBytes: keeps the low 8 bits of each UTF-16 unit. */
export function writeBytes(s: string): Buffer {
  const b = Buffer.alloc(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

export function phoneMultipart(boundary: string, fields: [string, string][], audio: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(writeBytes(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), writeBytes(value), Buffer.from('\r\n'));
  }
  parts.push(writeBytes(`--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="turn.wav"\r\nContent-Type: audio/wav\r\n\r\n`), Buffer.from(audio), Buffer.from('\r\n'));
  parts.push(writeBytes(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

export function rawRequest(url: string, opts: { method: string; path: string; headers?: Record<string, string>; body?: Buffer; timeoutMs?: number; localAddress?: string }): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, localAddress: opts.localAddress, method: opts.method, path: opts.path, headers: { ...(opts.body ? { 'Content-Length': String(opts.body.length) } : {}), ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 45_000, () => req.destroy(new Error('phone read timeout')));
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

/** 300 ms of 16 kHz digital silence: the app's greeting/goodbye audio (9,644 bytes). */
export const SILENCE_WAV = encodeWav(silence(16000, 300));

/** A voiced-like utterance (harmonic tone with an envelope) at the phone's usual 24 kHz. */
export function utterance(seconds = 3, rate = 24000, seed = 1): Uint8Array {
  const n = Math.round(seconds * rate);
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const env = Math.min(1, t * 8, (seconds - t) * 8);
    s[i] = Math.round(env * 6000 * (Math.sin(2 * Math.PI * (180 + seed * 7) * t) + 0.5 * Math.sin(2 * Math.PI * 720 * t)));
  }
  return encodeWav({ sampleRate: rate, samples: s } as PcmAudio);
}

export class PhoneSim {
  sessionId = '';
  /** prefix added to every path, e.g. a trailing slash in the profile's base_url gives '//' paths */
  pathPrefix = '';
  /** source address of this phone's requests (e.g. 127.0.0.2: another phone on the network) */
  localAddress?: string;
  constructor(readonly baseUrl: string, readonly bearer: string, readonly callerNumber = '+4917012345678', readonly direction: 'incoming' | 'outgoing' = 'incoming') {}

  private headers(): Record<string, string> {
    return this.bearer ? { Authorization: `Bearer ${this.bearer}` } : {};
  }

  async getCallConfig(): Promise<Record<string, unknown>> {
    const r = await rawRequest(this.baseUrl, { method: 'GET', path: `${this.pathPrefix}/api/config/call`, headers: this.headers(), timeoutMs: 5000, localAddress: this.localAddress });
    if (r.status < 200 || r.status > 299) throw new Error(`config/call HTTP ${r.status}`);
    return JSON.parse(r.body.toString('utf8'));
  }

  private async post(path: string, fields: [string, string][], audio: Uint8Array, boundaryPrefix = '----PhoneBridge'): Promise<{ status: number; json: Record<string, unknown> }> {
    const boundary = `${boundaryPrefix}${Date.now()}`;
    const body = phoneMultipart(boundary, fields, audio);
    const r = await rawRequest(this.baseUrl, {
      method: 'POST', path: `${this.pathPrefix}${path}`, body, localAddress: this.localAddress,
      headers: { ...this.headers(), 'Content-Type': `multipart/form-data; boundary=${boundary}`, Accept: 'application/json' },
    });
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(r.body.toString('utf8'));
    } catch {
      json = { _raw: r.body.toString('utf8') };
    }
    return { status: r.status, json };
  }

  /** Interpret a /api/turn answer exactly like the app. */
  read(status: number, json: Record<string, unknown>): PhoneReply {
    const out: PhoneReply = { status, json, audio: null, reply: null, disconnect: false, suppressed: false };
    if (status < 200 || status > 299) return out;
    if (typeof json.session_id === 'string' && json.session_id.trim()) this.sessionId = json.session_id;
    const disconnect = json.rejected === true || json.hangup === true;
    const order = disconnect ? ['audio_base64', 'audio_wav_base64'] : ['audio_wav_base64', 'audio_base64', 'audioBase64'];
    const b64 = order.map((k) => json[k]).find((v) => typeof v === 'string' && v.length > 0) as string | undefined;
    const reply = typeof json.reply === 'string' ? json.reply : '';
    out.disconnect = disconnect;
    if (!reply.trim()) return out;
    if (!disconnect && isClarifyPhrase(reply)) {
      out.suppressed = true;
      return out;
    }
    out.reply = reply;
    if (b64) {
      const wav = new Uint8Array(Buffer.from(b64.trim(), 'base64'));
      const problem = phoneWavProblem(wav);
      if (problem) throw new Error(`the phone would reject this WAV: ${problem}`);
      out.audio = wav;
    }
    return out;
  }

  async greeting(text: string): Promise<PhoneReply> {
    this.sessionId = '';
    const fields: [string, string][] = [['reset_session', 'true'], ['transcript_hint', text], ['forced_reply', text], ['caller_number', this.callerNumber], ['call_direction', this.direction]];
    const r = await this.post('/api/turn', fields, SILENCE_WAV);
    return this.read(r.status, r.json);
  }

  /** One caller utterance: /api/asr first, then /api/turn with the same bytes, as the app does. */
  async say(wav: Uint8Array, opts: { skipAsrProbe?: boolean } = {}): Promise<PhoneReply & { asrTranscript?: string }> {
    let asrTranscript: string | undefined;
    if (!opts.skipAsrProbe) {
      const a = await this.post('/api/asr', [], wav, '----PhoneBridgeAsr');
      if (a.status === 200) asrTranscript = String(a.json.transcript ?? '');
    }
    const fields: [string, string][] = [['reset_session', 'false']];
    if (this.sessionId) fields.push(['session_id', this.sessionId]);
    fields.push(['caller_number', this.callerNumber], ['call_direction', this.direction]);
    const r = await this.post('/api/turn', fields, wav);
    return { ...this.read(r.status, r.json), asrTranscript };
  }

  async goodbye(message: string): Promise<PhoneReply> {
    const fields: [string, string][] = [['reset_session', 'false'], ['session_id', this.sessionId], ['transcript_hint', message], ['forced_reply', message], ['caller_number', this.callerNumber], ['call_direction', this.direction]];
    const r = await this.post('/api/turn', fields, SILENCE_WAV);
    return this.read(r.status, r.json);
  }
}
