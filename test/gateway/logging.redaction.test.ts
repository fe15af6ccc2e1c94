/**
 * The log file (`<dataDir>/logs/app.log`) after a whole call and a series of refused and failing
 * requests never contains the phone bearer, the operator token, the passphrase (or what the caller
 * said at the gate), the LLM API key, or a full caller number — at the most verbose level.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway';
import { PhoneSim, rawRequest, utterance } from '../helpers/phone-sim';
import { call, postForm } from './support';

const BEARER = 'BEARERsecret9f8e7d6c5b4a';
const PASSPHRASE = 'purple elephant';
const API_KEY = 'sk-LOGKEY-5566778899';
const NUMBER = '+4917012345678';

describe('log redaction', () => {
  it('keeps secrets and caller numbers out of app.log', async () => {
    const gw = await startGateway({ config: { bearer_token: BEARER, auth_passphrase: PASSPHRASE, auth_max_attempts: 5, log_level: 'trace' } });
    const logFile = join(gw.dataDir, 'logs', 'app.log');
    try {
      const op = gw.operatorToken;
      const phone = new PhoneSim(gw.url, BEARER, NUMBER);
      await phone.getCallConfig();
      await phone.greeting('Say the passphrase.');
      gw.engines.transcripts.push('is it green giraffe', `it is ${PASSPHRASE}`, `my number is ${NUMBER}`);
      await phone.say(utterance(1, 24000, 1));
      await phone.say(utterance(1, 24000, 2));
      await phone.say(utterance(1, 24000, 3));
      // a failing turn logs an error with its context
      gw.engines.fail.tts = `synth failed for ${NUMBER}`;
      await phone.say(utterance(1, 24000, 4), { skipAsrProbe: true });
      gw.engines.fail.tts = null;
      // operator token in headers and query, accepted and refused
      await call(gw, 'GET', `/api/status?token=${encodeURIComponent(op)}`);
      await call(gw, 'GET', '/api/status', undefined, { Authorization: `Bearer ${op}` });
      await call(gw, 'GET', `/api/status?token=${encodeURIComponent(op)}&x=1`, undefined, { Origin: 'http://evil.example' });
      await rawRequest(gw.url, { method: 'GET', path: `/api/status?access_token=${encodeURIComponent(op)}`, headers: { Host: 'evil.example' } });
      // wrong and right bearers on refused requests
      await postForm(gw, [['caller_number', NUMBER]], utterance(0.3), { bearer: 'wrong' });
      await call(gw, 'GET', '/health', undefined, { Authorization: `Bearer ${BEARER}`, Origin: 'http://evil.example' });
      // secrets in config writes
      await call(gw, 'POST', '/api/config/llm', { api_key: API_KEY });
      await call(gw, 'POST', '/api/config/call', { auth_passphrase: PASSPHRASE });
      await call(gw, 'POST', '/api/config/call', { auth_passphrase: 12 });
    } finally {
      await gw.app.stop();
    }
    try {
      expect(existsSync(logFile)).toBe(true);
      const text = readdirSync(join(gw.dataDir, 'logs')).map((f) => readFileSync(join(gw.dataDir, 'logs', f), 'utf8')).join('\n');
      // the log is really written at this level (so the checks below can fail)
      expect(text).toContain('gateway listening');
      expect(text).toMatch(/request refused/);
      expect(text).toMatch(/turn failed/);
      expect(text).toMatch(/"url":"\/api\/status/);
      for (const secret of [BEARER, gw.operatorToken, encodeURIComponent(gw.operatorToken), PASSPHRASE, 'purple', 'green giraffe', API_KEY]) {
        expect(text.includes(secret), `log contains ${secret}`).toBe(false);
      }
      for (const digits of [NUMBER, NUMBER.slice(1), NUMBER.slice(3), '170123456']) {
        expect(text.includes(digits), `log contains ${digits}`).toBe(false);
      }
    } finally {
      rmSync(gw.dataDir, { recursive: true, force: true });
    }
  });
});
