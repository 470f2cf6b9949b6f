// End-to-end test of `vigil sign` and `vigil verify` as real child processes (node --import tsx
// bin/vigil.ts, cwd = repo root) against a running front end on loopback: the CA (log/ca, with its
// development OIDC issuer), the log (PGlite) and the TSA (log/tsa). The bundles the CLI writes are
// also verified by unmodified @sigstore/verify 3.1.1 with default thresholds.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../platform/clock.ts';
import { silentLogger } from '../../platform/logger.ts';
import { REPO_ROOT } from '../../test/vectors.ts';
import { startCaTestServer, type CaTestServer } from '../ca/ca-test-server.ts';
import { createTsaRouter } from '../tsa/http.ts';
import { initTsa, tsaCertificateAuthority, type Tsa } from '../tsa/tsa.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function vigil(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

let tmp: string;
let tsa: Tsa;
let server: CaTestServer;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'vigil-sign-cli-'));
  tsa = await initTsa(join(tmp, 'tsa'));
  server = await startCaTestServer({
    routers: async () => [createTsaRouter(tsa, { clock: systemClock, logger: silentLogger() })],
    timestampAuthorities: () => [tsaCertificateAuthority(tsa)],
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function stockVerify(bundleFile: string, artifact: Uint8Array, identity: string): void {
  const trust = toTrustMaterial(ProtoTrustedRoot.fromJSON(server.trustedRoot()));
  const entity = toSignedEntity(bundleFromJSON(JSON.parse(readFileSync(bundleFile, 'utf8'))), Buffer.from(artifact));
  new Verifier(trust).verify(entity, { subjectAlternativeName: identity, extensions: { issuer: server.issuerUrl } });
}

describe('vigil sign / vigil verify', () => {
  it.each([['Rekor v1 (SET)', []], ['Rekor v2 (RFC 3161 timestamp)', ['--rekor-v2']]])('%s: sign, then verify by URL and by trusted-root file', async (_name, extra) => {
    const file = join(tmp, `artifact-${extra.length}.txt`);
    const artifact = new TextEncoder().encode(`release ${Date.now()} ${extra.join(' ')}\n`);
    writeFileSync(file, artifact);
    const signed = await vigil(['sign', file, '--url', server.url, '--email', 'alice@example.com', ...extra]);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(/^signed .* log index \d+; bundle written to .*\.sigstore\.json\n$/);
    const bundle = `${file}.sigstore.json`;
    const b = JSON.parse(readFileSync(bundle, 'utf8'));
    expect(b.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(b.verificationMaterial.timestampVerificationData !== undefined).toBe(extra.length > 0);
    stockVerify(bundle, artifact, '^alice@example\\.com$');

    const byUrl = await vigil(['verify', file, '--bundle', bundle, '--identity', 'alice@example\\.com', '--issuer', server.issuerUrl, '--url', server.url]);
    expect(byUrl.stderr).toBe('');
    expect(byUrl.code).toBe(0);
    expect(byUrl.stdout).toContain('signed by alice@example.com');
    const rootFile = join(tmp, 'trusted_root.json');
    writeFileSync(rootFile, JSON.stringify(server.trustedRoot()));
    const byFile = await vigil(['verify', file, '--bundle', bundle, '--identity', 'alice@example\\.com', '--issuer', server.issuerUrl, '--trusted-root', rootFile, '--no-witness']);
    expect(byFile.code).toBe(0);
    expect(byFile.stderr).toContain('warning: --no-witness');
  });

  it('fails with a reason and a non-zero exit: wrong identity (anchored), tampered artifact, no token', async () => {
    const file = join(tmp, 'artifact-fail.txt');
    writeFileSync(file, 'a release\n');
    const token = await (await fetch(`${server.issuerUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'malice@example.com' }) })).json() as { id_token: string };
    const signed = await vigil(['sign', file, '--url', server.url], { VIGIL_ID_TOKEN: token.id_token });
    expect(signed.code).toBe(0);
    const bundle = `${file}.sigstore.json`;
    const wrongIdentity = await vigil(['verify', file, '--bundle', bundle, '--identity', 'alice@example\\.com', '--issuer', server.issuerUrl, '--url', server.url]);
    expect(wrongIdentity.code).toBe(1);
    expect(wrongIdentity.stderr).toContain('(identity_mismatch)');
    writeFileSync(file, 'another release\n');
    const tampered = await vigil(['verify', file, '--bundle', bundle, '--identity', 'malice@example\\.com', '--issuer', server.issuerUrl, '--url', server.url]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('(artifact_mismatch)');
    const noToken = await vigil(['sign', file, '--url', server.url], { VIGIL_ID_TOKEN: '' });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('no identity token');
  });
});
