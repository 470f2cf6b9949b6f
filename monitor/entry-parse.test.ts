// Sources: ../shared/vectors/rekor/rekor-v2-inclusion.json (real log2025-1.rekor.sigstore.dev
// leaves, from sigstore/sigstore-js @ 769a53d8) and log/kinds/testdata/sigstore-public-good.json
// (real rekor.sigstore.dev v1 bodies, sigstore/sigstore-js @ 002b5b91); the rest are leaves Vigil's
// own log parsers produce from requests signed here.
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPrecertificate, newLeafTemplate, prepareLeaf } from '../log/ca/certificate.ts';
import { initCa, type Ca } from '../log/ca/keys.ts';
import { formatPrecertificateEntry } from '../log/ca/precert-entry.ts';
import { parseCreateEntryRequest } from '../log/kinds/entry.ts';
import { b64, describeVectors, readVectorJson } from '../test/vectors.ts';
import { dsseV2Request } from '../test/log-requests.ts';
import { parseLogEntry } from './entry-parse.ts';
import { isMonitorError } from './errors.ts';
import { createTestPki, fulcioExtension, githubClaims, inTotoStatement, issueSigner, LEAF_TIME, newTestKey, signedLeaf, type TestPki } from './testdata/signed-entries.ts';

const publicGood = JSON.parse(readFileSync(new URL('../log/kinds/testdata/sigstore-public-good.json', import.meta.url), 'utf8'));

function spkiFingerprintOfCert(der: Uint8Array): string {
  const spki = new X509Certificate(der).publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest('hex');
}

function expectUnparseable(body: Uint8Array | string): void {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  let caught: unknown;
  try {
    parseLogEntry('log.test', 7n, bytes);
  } catch (err) {
    caught = err;
  }
  expect(isMonitorError(caught, 'unparseable_entry'), String(caught)).toBe(true);
}

describeVectors('parseLogEntry on real Rekor v2 leaves (shared/vectors/rekor/rekor-v2-inclusion.json)', () => {
  const file = readVectorJson('rekor/rekor-v2-inclusion.json');
  const leaf = (i: number) => ({ index: BigInt(file.vectors[i].log_index), body: b64(file.vectors[i].entry_b64) });

  it('reads a key-signed hashedrekord 0.0.2: the key is the identity', () => {
    const { index, body } = leaf(0);
    const e = parseLogEntry(file.log.origin, index, body);
    const json = JSON.parse(new TextDecoder().decode(body));
    const spki = b64(json.spec.hashedRekordV002.signature.verifier.publicKey.rawBytes);
    const fp = createHash('sha256').update(spki).digest('hex');
    expect(e).toMatchObject({ logOrigin: file.log.origin, index, entryKind: 'hashedrekord', keyFingerprint: fp, identity: { kind: 'key', san: fp }, namespaces: [] });
    expect(e.artifactDigests).toEqual([{ algorithm: 'sha256', hex: Buffer.from(b64(json.spec.hashedRekordV002.data.digest)).toString('hex') }]);
    expect(e.integratedTimeSec).toBeUndefined();
  });

  it('reads a Fulcio-certificate dsse 0.0.2: email SAN, .8 issuer, notBefore, payload hash as digest', () => {
    const { index, body } = leaf(1);
    const e = parseLogEntry(file.log.origin, index, body);
    const json = JSON.parse(new TextDecoder().decode(body));
    const cert = b64(json.spec.dsseV002.signatures[0].verifier.x509Certificate.rawBytes);
    expect(e.identity).toEqual({ kind: 'email', san: 'brian@dehamer.com', issuer: 'https://github.com/login/oauth', ci: {} });
    expect(e.keyFingerprint).toBe(spkiFingerprintOfCert(cert));
    expect(e.certificateNotBeforeSec).toBe(Date.parse('2025-12-11T19:36:08Z') / 1000);
    expect(e.namespaces).toEqual([{ kind: 'email-domain', value: 'dehamer.com' }]);
    // The leaf holds only the payload's hash: SHA-256("hello, world!").
    expect(e.artifactDigests).toEqual([{ algorithm: 'sha256', hex: createHash('sha256').update('hello, world!').digest('hex') }]);
  });

  it('checks a DSSE payload given with the entry against its payloadHash', () => {
    const { index, body } = leaf(1);
    const e = parseLogEntry(file.log.origin, index, body, { dssePayload: new TextEncoder().encode('hello, world!') });
    expect(e.namespaces).toEqual([{ kind: 'email-domain', value: 'dehamer.com' }]); // not in-toto: no subjects
    expect(() => parseLogEntry(file.log.origin, index, body, { dssePayload: new TextEncoder().encode('hello, world?') })).toThrow(/does not hash/);
    expect(() => parseLogEntry(file.log.origin, 0n, leaf(0).body, { dssePayload: new Uint8Array(1) })).toThrow(/no DSSE payload/);
  });
});

describe('parseLogEntry on real Rekor v1 leaves (log/kinds/testdata/sigstore-public-good.json)', () => {
  for (const name of ['hashedrekord_v001', 'dsse_v001'] as const) {
    it(`reads ${name}: certificate from base64 PEM, email SAN, issuer`, () => {
      const body = b64(publicGood.rekor_v1[name].canonicalized_body_b64);
      const e = parseLogEntry('rekor.sigstore.dev', 1n, body);
      const json = JSON.parse(new TextDecoder().decode(body));
      const pem = Buffer.from(name === 'dsse_v001' ? json.spec.signatures[0].verifier : json.spec.signature.publicKey.content, 'base64').toString();
      expect(e.entryKind).toBe(name === 'dsse_v001' ? 'dsse' : 'hashedrekord');
      expect(e.identity).toMatchObject({ kind: 'email', san: 'brian@dehamer.com', issuer: 'https://github.com/login/oauth' });
      expect(e.keyFingerprint).toBe(spkiFingerprintOfCert(new X509Certificate(pem).raw));
      expect(e.artifactDigests).toEqual([{ algorithm: 'sha256', hex: '68e656b251e67e8358bef8483ab0d51c6619f3e7a1a9f0e75838d41ff368f728' }]);
    });
  }
});

describe('parseLogEntry on leaves of Vigil’s own log', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });

  it('reads GitHub Actions CI claims from the current Fulcio OIDs', async () => {
    const uri = 'https://github.com/Org/Repo/.github/workflows/release.yml@refs/tags/v1.2.3';
    const signer = await issueSigner(pki, { uri, issuer: 'https://token.actions.githubusercontent.com', extraExtensions: githubClaims('Org/Repo', '.github/workflows/release.yml', 'refs/tags/v1.2.3') });
    for (const shape of ['hashedrekord-v1', 'hashedrekord-v2', 'dsse-v2'] as const) {
      const e = parseLogEntry('log.vigil.test', 3n, signedLeaf(pki, shape, signer, new TextEncoder().encode(`artifact ${shape}`)));
      expect(e.identity).toEqual({
        kind: 'uri',
        san: uri,
        issuer: 'https://token.actions.githubusercontent.com',
        ci: {
          sourceRepositoryUri: 'https://github.com/Org/Repo',
          repository: 'Org/Repo',
          workflow: 'Org/Repo/.github/workflows/release.yml',
          workflowRef: 'Org/Repo/.github/workflows/release.yml@refs/tags/v1.2.3',
          workflowTrigger: 'push',
          ref: 'refs/tags/v1.2.3',
          sha: 'a'.repeat(40),
          buildSignerUri: uri,
          runnerEnvironment: 'github-hosted',
          runInvocationUri: 'https://github.com/Org/Repo/actions/runs/1/attempts/1',
        },
      });
      expect(e.namespaces).toEqual([{ kind: 'repository', value: 'https://github.com/Org/Repo' }]);
      expect(e.keyFingerprint).toBe(createHash('sha256').update(signer.key.spki).digest('hex'));
    }
  });

  it('falls back to the deprecated GitHub OIDs (.2, .3, .5, .6) when only they are present', async () => {
    const signer = await issueSigner(pki, {
      uri: 'https://github.com/old/repo/.github/workflows/ci.yml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
      extraExtensions: [fulcioExtension(2, 'release'), fulcioExtension(3, 'b'.repeat(40)), fulcioExtension(5, 'old/repo'), fulcioExtension(6, 'refs/heads/main')],
    });
    const e = parseLogEntry('log.vigil.test', 4n, signedLeaf(pki, 'hashedrekord-v2', signer, new Uint8Array([1])));
    expect(e.identity.kind === 'uri' && e.identity.ci).toEqual({
      sourceRepositoryUri: 'https://github.com/old/repo',
      repository: 'old/repo',
      workflowTrigger: 'release',
      sha: 'b'.repeat(40),
      ref: 'refs/heads/main',
    });
  });

  it('keeps an email SAN verbatim and derives its domain namespace', async () => {
    const signer = await issueSigner(pki, { email: 'Dev@Example.com', issuer: 'https://a.example', extraExtensions: [] });
    const e = parseLogEntry('log.vigil.test', 5n, signedLeaf(pki, 'hashedrekord-v1', signer, new Uint8Array([2])));
    expect(e.identity).toEqual({ kind: 'email', san: 'Dev@Example.com', issuer: 'https://a.example', ci: {} });
    expect(e.namespaces).toEqual([{ kind: 'email-domain', value: 'Example.com' }]);
  });

  it('reads in-toto subjects as purls and digests when the payload comes with a dsse entry', () => {
    const key = newTestKey('P-256');
    const digest = 'c'.repeat(64);
    const payload = inTotoStatement([{ name: 'pkg:npm/%40scope/name@1.0.0', sha256: digest }, { name: 'not-a-purl.tgz', sha256: 'd'.repeat(64) }]);
    for (const shape of ['dsse-v1', 'dsse-v2'] as const) {
      const body = signedLeaf(pki, shape, key, payload);
      const bare = parseLogEntry('log.vigil.test', 6n, body);
      expect(bare.namespaces).toEqual([]);
      expect(bare.artifactDigests).toEqual([{ algorithm: 'sha256', hex: createHash('sha256').update(payload).digest('hex') }]);
      const e = parseLogEntry('log.vigil.test', 6n, body, { dssePayload: payload });
      expect(e.namespaces).toEqual([{ kind: 'purl', value: 'pkg:npm/%40scope/name@1.0.0' }]);
      expect(e.artifactDigests.map((d) => d.hex)).toEqual([createHash('sha256').update(payload).digest('hex'), digest, 'd'.repeat(64)]);
      expect(e.identity).toEqual({ kind: 'key', san: createHash('sha256').update(key.spki).digest('hex') });
    }
  });

  it('gives the same key fingerprint as the log computed when it accepted the entry', () => {
    const key = newTestKey('Ed25519');
    const entry = parseCreateEntryRequest(JSON.stringify(dsseV2Request(key, new Uint8Array([9]))), { trust: pki.trust, integrationTime: LEAF_TIME });
    const e = parseLogEntry('log.vigil.test', 8n, entry.canonicalBody);
    expect(e.keyFingerprint).toBe(entry.signatures[0]!.verifier.keyFingerprint);
    expect(createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' }).asymmetricKeyType).toBe('ed25519');
  });
});

describe('parseLogEntry refuses what is not a supported entry', () => {
  const good = JSON.parse(Buffer.from(publicGood.rekor_v1.hashedrekord_v001.canonicalized_body_b64, 'base64').toString());
  const mutate = (f: (j: any) => void) => {
    const j = structuredClone(good);
    f(j);
    return JSON.stringify(j);
  };

  it.each([
    ['not JSON', '{"kind":'],
    ['not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d])],
    ['not an object', '[1,2]'],
    ['an unsupported kind', mutate((j) => (j.kind = 'intoto'))],
    ['an unsupported version', mutate((j) => (j.apiVersion = '0.0.3'))],
    ['an unknown hash', mutate((j) => (j.spec.data.hash.algorithm = 'md5'))],
    ['a short digest', mutate((j) => (j.spec.data.hash.value = 'abcd'))],
    ['uppercase hex', mutate((j) => (j.spec.data.hash.value = j.spec.data.hash.value.toUpperCase()))],
    ['a key that is not base64', mutate((j) => (j.spec.signature.publicKey.content = '%%%'))],
    ['PEM that is not a certificate', mutate((j) => (j.spec.signature.publicKey.content = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64')))],
    ['a missing signature', mutate((j) => delete j.spec.signature)],
    ['an oversized body', new Uint8Array(70_000).fill(0x20)],
    ['deep nesting', '['.repeat(30_000) + ']'.repeat(30_000)],
  ])('refuses %s', (_name, body) => {
    expectUnparseable(body);
  });

  it('never throws anything but MonitorError on arbitrary bytes or mutated leaves (property)', () => {
    const text = JSON.stringify(good);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.tuple(fc.nat(text.length - 1), fc.nat(text.length), fc.string({ maxLength: 8 })).map(([a, n, s]) => new TextEncoder().encode(text.slice(0, a) + s + text.slice(a + Math.min(n, 4))))), (bytes) => {
        try {
          parseLogEntry('log.test', 1n, bytes);
        } catch (err) {
          if (!isMonitorError(err, 'unparseable_entry')) throw err;
        }
      }),
      { numRuns: 300 },
    );
  });
});

// Precertificate entries built with the CA's own functions (log/ca/certificate.ts and
// precert-entry.ts), exactly as signing-cert.ts logs them; monitor/entry-precert.test.ts reads
// those the running CA logged.
describe('parseLogEntry on precertificate entries', () => {
  let dir: string;
  let ca: Ca;
  let spki: Uint8Array;
  let good: Record<string, any>;
  const NOW = new Date('2026-12-04T20:00:00.500Z');
  const body = (j: unknown) => new TextEncoder().encode(JSON.stringify(j));
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-precert-'));
    ca = await initCa(join(dir, 'ca'));
    spki = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' }));
    const claims = [
      { oid: '1.3.6.1.4.1.57264.1.5', value: 'Org/Repo', encoding: 'raw' as const },
      { oid: '1.3.6.1.4.1.57264.1.12', value: 'https://github.com/Org/Repo', encoding: 'utf8String' as const },
      { oid: '1.3.6.1.4.1.57264.1.14', value: 'refs/heads/main', encoding: 'utf8String' as const },
    ];
    const template = newLeafTemplate(NOW, { spki, san: { type: 'uri', value: 'https://github.com/Org/Repo/.github/workflows/ci.yml@refs/heads/main' }, issuer: 'https://token.actions.githubusercontent.com', claims });
    const precertificate = formatPrecertificate(ca, prepareLeaf(ca, template));
    good = JSON.parse(new TextDecoder().decode(formatPrecertificateEntry({ precertificate, chain: ca.chain, timestampMs: NOW.getTime() })));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the holder of the certificate: URI SAN, issuer, CI claims, key and notBefore, no digests', () => {
    const leaf = formatPrecertificateEntry({ precertificate: b64(good.spec.precertificate), chain: ca.chain, timestampMs: NOW.getTime() });
    const e = parseLogEntry('log.vigil.test', 11n, leaf);
    expect(e).toMatchObject({ entryKind: 'precertificate', index: 11n, keyFingerprint: createHash('sha256').update(spki).digest('hex'), artifactDigests: [], integratedTimeSec: undefined });
    expect(e.identity).toEqual({
      kind: 'uri',
      san: 'https://github.com/Org/Repo/.github/workflows/ci.yml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
      ci: { sourceRepositoryUri: 'https://github.com/Org/Repo', repository: 'Org/Repo', ref: 'refs/heads/main' },
    });
    expect(e.namespaces).toEqual([{ kind: 'repository', value: 'https://github.com/Org/Repo' }]);
    expect(e.certificateNotBeforeSec).toBe(Date.parse('2026-12-04T20:00:00Z') / 1000);
    expect(() => parseLogEntry('log.vigil.test', 11n, leaf, { dssePayload: new Uint8Array(1) })).toThrow(/no DSSE payload/);
  });

  const mutations: [string, (j: any) => void][] = [
    ['a missing precertificate', (j) => delete j.spec.precertificate],
    ['an empty precertificate', (j) => (j.spec.precertificate = '')],
    ['a precertificate that is not base64', (j) => (j.spec.precertificate = '%%%')],
    ['a precertificate that is not a certificate', (j) => (j.spec.precertificate = Buffer.from('not DER').toString('base64'))],
    ['a truncated precertificate', (j) => (j.spec.precertificate = Buffer.from(b64(j.spec.precertificate).subarray(0, 200)).toString('base64'))],
    ['a missing chain', (j) => delete j.spec.chain],
    ['an empty chain', (j) => (j.spec.chain = [])],
    ['a chain of 9', (j) => (j.spec.chain = Array(9).fill(j.spec.chain[0]))],
    ['a chain element that is not base64', (j) => (j.spec.chain = [j.spec.chain[0], 7])],
    ['a missing timestamp', (j) => delete j.spec.timestamp],
    ['a negative timestamp', (j) => (j.spec.timestamp = -1)],
    ['a fractional timestamp', (j) => (j.spec.timestamp = 1.5)],
    ['a timestamp as a string', (j) => (j.spec.timestamp = '1')],
    ['another version', (j) => (j.apiVersion = '0.0.2')],
  ];
  it.each(mutations)('refuses %s', (_name, f) => {
    const j = structuredClone(good);
    f(j);
    expectUnparseable(body(j));
  });

  it('names the precertificate when its certificate is unreadable', () => {
    const j = structuredClone(good);
    j.spec.precertificate = Buffer.from('not DER').toString('base64');
    expect(() => parseLogEntry('log.vigil.test', 12n, body(j))).toThrow(/entry 12 of log\.vigil\.test: the precertificate is unreadable/);
  });

  it('never throws anything but MonitorError on mutated precertificate leaves (property)', () => {
    const text = JSON.stringify(good);
    fc.assert(
      fc.property(fc.tuple(fc.nat(text.length - 1), fc.nat(8), fc.string({ maxLength: 8 })), ([at, n, s]) => {
        try {
          parseLogEntry('log.test', 1n, new TextEncoder().encode(text.slice(0, at) + s + text.slice(at + n)));
        } catch (err) {
          if (!isMonitorError(err, 'unparseable_entry')) throw err;
        }
      }),
      { numRuns: 300 },
    );
  });
});
