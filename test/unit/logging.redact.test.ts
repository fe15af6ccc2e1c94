/** Log redaction helpers and the logger's field redaction, written to a real rotating file. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, redactUrl, RotatingFile, scrubNumbers } from '../../src-main/logging/logger';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('redactUrl', () => {
  it('removes token and access_token query values, keeps the rest', () => {
    expect(redactUrl('/api/status?token=abc&x=1')).toBe('/api/status?token=[redacted]&x=1');
    expect(redactUrl('/ws/events?x=1&TOKEN=abc')).toBe('/ws/events?x=1&TOKEN=[redacted]');
    expect(redactUrl('/a?access_token=s3cr3t')).toBe('/a?access_token=[redacted]');
    expect(redactUrl('/api/status')).toBe('/api/status');
  });
});

describe('scrubNumbers', () => {
  it('masks international and national numbers in free text', () => {
    expect(scrubNumbers('call from +4917012345678 failed')).toBe('call from +49•••••••••78 failed');
    expect(scrubNumbers('"msg":"dial +49 170 123-4567"')).not.toMatch(/1234567|170 123/);
    expect(scrubNumbers('national 0170-1234567.')).not.toContain('1234567');
  });

  it('leaves JSON numbers, ids, IPs, decimals and short numbers alone', () => {
    const line = '{"time":1795325798805,"pid":12839,"sid":"a0123456789abcdef","ip":"127.0.0.1","ms":0.0123456789,"port":38195,"code":"+49"}';
    expect(scrubNumbers(line)).toBe(line);
  });
});

describe('createLogger', () => {
  it('writes JSON lines to <logDir>/app.log with secret fields redacted and numbers masked', async () => {
    const { logger, close } = createLogger({ logDir: dir, console: false, level: 'info' });
    logger.info({ bearer_token: 'B1', llm_api_key: 'K1', auth_passphrase: 'P1', nested: { token: 'T1', api_key: 'K2' }, number: '+4917012345678', caller_number: '+4930123456' }, 'fields');
    logger.info({ req: { headers: { authorization: 'Bearer B2' } } }, 'headers');
    logger.error({ err: new Error('engine said: caller +4917099887766 not reachable') }, 'boom');
    close();
    await new Promise((r) => setImmediate(r));
    const text = readFileSync(join(dir, 'app.log'), 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual(['fields', 'headers', 'boom']);
    for (const s of ['B1', 'K1', 'P1', 'T1', 'K2', 'Bearer B2', '17012345678', '30123456', '17099887766']) expect(text, s).not.toContain(s);
    expect(lines[0]).toMatchObject({ bearer_token: '[redacted]', number: '+49•••••••••78' });
  });
});

describe('RotatingFile', () => {
  it('rotates by size and keeps a bounded number of files', async () => {
    const f = new RotatingFile(join(dir, 'app.log'), 100, 2);
    for (let i = 0; i < 10; i++) f.write(`${'x'.repeat(60)}${i}\n`);
    await new Promise<void>((r) => f.end(r));
    expect(readdirSync(dir).sort()).toEqual(['app.log', 'app.log.1', 'app.log.2']);
    expect(readFileSync(join(dir, 'app.log'), 'utf8')).toContain('x9');
  });
});
