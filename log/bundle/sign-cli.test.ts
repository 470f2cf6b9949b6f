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

  it.each([['Rekor v1 (SET)', []], ['Rekor v2 (RFC 3161 timestamp)', ['--rekor-v2']]])('%s: signs an attestation (in-toto statement in DSSE) and verifies it, with its predicate type', async (_name, extra) => {
    const file = join(tmp, `package-${extra.length}.tgz`);
    const artifact = new TextEncoder().encode(`package ${Date.now()} ${extra.join(' ')}\n`);
    writeFileSync(file, artifact);
    const predicateFile = join(tmp, 'provenance.json');
    writeFileSync(predicateFile, JSON.stringify({ buildDefinition: { buildType: 'https://example.com/build/v1' }, runDetails: { builder: { id: 'https://example.com/builder' } } }));
    const type = 'https://slsa.dev/provenance/v1';
    const signed = await vigil(['sign', file, '--url', server.url, '--email', 'alice@example.com', '--predicate', predicateFile, '--predicate-type', type, '--subject', 'pkg:npm/left-pad@1.3.0', ...extra]);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(new RegExp(`^signed an attestation \\(${type.replace(/[./]/g, '\\$&')}\\) about .*package-${extra.length}\\.tgz: log index \\d+; bundle written to `));
    const bundle = `${file}.sigstore.json`;
    const b = JSON.parse(readFileSync(bundle, 'utf8'));
    expect(b.messageSignature).toBeUndefined();
    expect(b.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(b.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('dsse');
    const statement = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
    expect(statement).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', predicateType: type, subject: [{ name: 'pkg:npm/left-pad@1.3.0', digest: { sha256: Buffer.from(await crypto.subtle.digest('SHA-256', artifact)).toString('hex') } }] });
    stockVerify(bundle, artifact, '^alice@example\\.com$');

    const args = ['verify', file, '--bundle', bundle, '--identity', 'alice@example\\.com', '--issuer', server.issuerUrl, '--url', server.url];
    const verified = await vigil([...args, '--predicate-type', type]);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`(attestation ${type}): signed by alice@example.com`);
    const otherType = await vigil([...args, '--predicate-type', 'https://spdx.dev/Document']);
    expect(otherType.code).toBe(1);
    expect(otherType.stderr).toContain('(predicate_mismatch)');
    writeFileSync(file, 'another package\n');
    const tampered = await vigil(args);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('(artifact_mismatch)');
  });

  it('refuses a bad attestation before signing, and a message bundle where an attestation is required', async () => {
    const file = join(tmp, 'artifact-attest.txt');
    writeFileSync(file, 'a release\n');
    const notObject = join(tmp, 'predicate-array.json');
    writeFileSync(notObject, '[1, 2]');
    const array = await vigil(['sign', file, '--url', server.url, '--email', 'alice@example.com', '--predicate', notObject, '--predicate-type', 'https://slsa.dev/provenance/v1']);
    expect(array.code).toBe(1);
    expect(array.stderr).toContain('the predicate must be a JSON object (invalid_attestation)');
    const notUri = await vigil(['sign', file, '--url', server.url, '--email', 'alice@example.com', '--predicate', notObject, '--predicate-type', 'provenance']);
    expect(notUri.code).toBe(1);
    expect(notUri.stderr).toContain('(invalid_attestation)');
    const alone = await vigil(['sign', file, '--url', server.url, '--email', 'alice@example.com', '--predicate-type', 'https://slsa.dev/provenance/v1']);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain('needs both --predicate FILE and --predicate-type URI');
    const signed = await vigil(['sign', file, '--url', server.url, '--email', 'alice@example.com']);
    expect(signed.code).toBe(0);
    const message = await vigil(['verify', file, '--bundle', `${file}.sigstore.json`, '--identity', 'alice@example\\.com', '--issuer', server.issuerUrl, '--url', server.url, '--predicate-type', 'https://slsa.dev/provenance/v1']);
    expect(message.code).toBe(1);
    expect(message.stderr).toContain('the bundle is not an in-toto attestation, not "https://slsa.dev/provenance/v1" (predicate_mismatch)');
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
