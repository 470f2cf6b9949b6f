// `vigil alerts serve` as a newcomer runs it: embedded (PGlite in the data folder, no SMTP relay),
// so confirmation mail lands as .eml files in <data>/outbox; the pages and /metrics answer; SIGTERM
// stops it cleanly.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killVigilProcesses, startVigil } from '../vigil-process.ts';
import { linkIn, parseMail, postForm, postJson, tokenOf } from './alerts-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-serve-'));
afterAll(() => {
  killVigilProcesses();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean): Promise<void> {
  const end = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('vigil alerts serve, embedded', () => {
  it('writes confirmation mail to the outbox and confirms by POST', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const serve = await startVigil(['alerts', 'serve', '--data', dir, '--listen', `127.0.0.1:${port}`], {
      VIGIL_LOG_LEVEL: 'error', VIGIL_DATABASE_URL: '', VIGIL_SMTP_URL: '', VIGIL_REDIS_URL: '', VIGIL_ALERTS_PUBLIC_URL: url, VIGIL_ALERTS_FROM: 'Vigil <alerts@vigil.test>',
    });
    try {
      const page = await fetch(`${url}/`);
      expect(await page.text()).toContain('<form method="post" action="/subscribe">');
      const res = await postJson(`${url}/api/v1/subscriptions`, { email: 'newcomer@example.com', rules: [{ target: 'namespace', match: 'glob', pattern: 'pkg:npm/@newcomer/*' }] });
      expect(res.status).toBe(202);
      const outbox = join(dir, 'outbox');
      await until('a mail in the outbox', () => existsSync(outbox) && readdirSync(outbox).some((f) => f.endsWith('.eml')));
      const file = readdirSync(outbox).find((f) => f.endsWith('.eml'))!;
      const mail = parseMail(readFileSync(join(outbox, file), 'utf8'), []);
      expect(mail.headers.get('to')).toBe('newcomer@example.com');
      const confirm = linkIn(mail.text, '/confirm?token=');
      expect(confirm.startsWith(`${url}/confirm?token=`)).toBe(true);
      expect((await postForm(`${url}/confirm`, { token: tokenOf(confirm) })).status).toBe(200);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/vigil_alerts_mails_total\{kind="confirm",result="sent"[^}]*\} 1/);
    } finally {
      void serve.kill('SIGTERM');
    }
    expect(await serve.exited).toBe(0);
  });
});
