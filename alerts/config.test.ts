// loadConfig reports every problem at once, and reads the environment only through its argument.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, TUNABLE_DEFAULTS } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('applies defaults, the file and the environment', () => {
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ pollIntervalMs: 50, allowPrivateWebhooks: false }));
    const c = loadConfig({ VIGIL_SMTP_URL: 'smtps://u:p@smtp.example.org:465', VIGIL_ALERTS_PUBLIC_URL: 'https://vigil.example.org/alerts/', VIGIL_ALERTS_ALLOW_PRIVATE_WEBHOOKS: '1' }, { configFile: join(dir, 'ok.json'), dataDir: dir, listen: '127.0.0.1:0' });
    expect(c).toMatchObject({ pollIntervalMs: 50, allowPrivateWebhooks: true, publicUrl: 'https://vigil.example.org/alerts', smtpUrl: 'smtps://u:p@smtp.example.org:465', outboxDir: join(dir, 'outbox'), webhookTimeoutMs: TUNABLE_DEFAULTS.webhookTimeoutMs });
  });

  it('lists every problem in one error', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ pollIntervalMs: -1, nope: 1, allowPrivateWebhooks: 'yes', dkimDomain: 'x.example', entryLink: 'https://x/', bounceListen: '0.0.0.0:25' }));
    let message = '';
    try {
      loadConfig({ VIGIL_SMTP_URL: 'http://relay', VIGIL_ALERTS_FROM: 'nobody' }, { configFile: join(dir, 'bad.json'), listen: 'nope' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const want of ['pollIntervalMs', 'unknown key "nope"', 'allowPrivateWebhooks', 'dkimKeyFile, dkimDomain and dkimSelector', 'entryLink', 'VIGIL_SMTP_URL', 'VIGIL_ALERTS_FROM', 'listen', 'bounceListen: needs bounceAddress']) {
      expect(message).toContain(want);
    }
  });

  it('checks the bounce address and listener', () => {
    writeFileSync(join(dir, 'bounce.json'), JSON.stringify({ bounceAddress: 'bounces+x@bounce.example', bounceListen: 'anywhere' }));
    expect(() => loadConfig({}, { configFile: join(dir, 'bounce.json') })).toThrow(/bounceAddress: want local@domain[\s\S]*bounceListen: want HOST:PORT/);
    writeFileSync(join(dir, 'bounce-ok.json'), JSON.stringify({ bounceAddress: 'bounces@bounce.example', bounceListen: '0.0.0.0:2525' }));
    expect(loadConfig({}, { configFile: join(dir, 'bounce-ok.json') })).toMatchObject({ bounceAddress: 'bounces@bounce.example', bounceListen: '0.0.0.0:2525' });
  });

  it('takes the bounce address and listener from the environment too, over the file (compose.yaml)', () => {
    const env = { VIGIL_ALERTS_BOUNCE_ADDRESS: 'dsn@mx.example', VIGIL_ALERTS_BOUNCE_LISTEN: '0.0.0.0:2526' };
    expect(loadConfig(env, {})).toMatchObject({ bounceAddress: 'dsn@mx.example', bounceListen: '0.0.0.0:2526' });
    expect(loadConfig(env, { configFile: join(dir, 'bounce-ok.json') })).toMatchObject({ bounceAddress: 'dsn@mx.example', bounceListen: '0.0.0.0:2526' });
    // Empty, as compose passes an unset variable: the file's value (or off) stands.
    expect(loadConfig({ VIGIL_ALERTS_BOUNCE_ADDRESS: '', VIGIL_ALERTS_BOUNCE_LISTEN: '' }, { configFile: join(dir, 'bounce-ok.json') })).toMatchObject({ bounceAddress: 'bounces@bounce.example', bounceListen: '0.0.0.0:2525' });
    expect(loadConfig({ VIGIL_ALERTS_BOUNCE_ADDRESS: '', VIGIL_ALERTS_BOUNCE_LISTEN: '' }, {})).toMatchObject({ bounceAddress: '', bounceListen: '' });
    expect(() => loadConfig({ VIGIL_ALERTS_BOUNCE_LISTEN: '0.0.0.0:2526' }, {})).toThrow(/bounceListen: needs bounceAddress/);
    expect(() => loadConfig({ VIGIL_ALERTS_BOUNCE_ADDRESS: 'not an address' }, {})).toThrow(/bounceAddress: want local@domain/);
  });
});
