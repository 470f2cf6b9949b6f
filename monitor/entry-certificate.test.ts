// entry-certificate.ts: the monitor's reading of a certificate's signer on top of the log's reader
// (log/kinds/certificate-der.ts, whose own tests hold it to @peculiar/asn1-x509 and DER): the key
// fingerprint and time as OpenSSL sees them, the policy where the monitor reads on and the log
// refuses, and its errors, which are MonitorError('unparseable_entry') only.
import { createHash, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../log/kinds/peculiar-x509.ts';
import { rawExtension, withExtension } from '../log/kinds/testdata/pki.ts';
import { parseCertificate } from '../log/kinds/certificate.ts';
import { isLogError } from '../log/errors.ts';
import { MAX_CLAIM_LENGTH, readCertificateSigner } from './entry-certificate.ts';
import { isMonitorError } from './errors.ts';
import { createTestPki, fulcioExtension, githubClaims, issueSigner, type TestPki } from './testdata/signed-entries.ts';

function expectUnparseable(der: Uint8Array, reason: RegExp): void {
  let caught: unknown;
  try {
    readCertificateSigner(der);
  } catch (err) {
    caught = err;
  }
  expect(isMonitorError(caught, 'unparseable_entry'), String(caught)).toBe(true);
  expect((caught as Error).message).toMatch(reason);
}

// withSecondSan re-encodes der with one more subjectAltName extension (a URI), after the others,
// under `oid` (DER contents bytes). The signature no longer verifies; nothing here checks it.
function withSecondSan(der: Uint8Array, oid: number[], uri: string): Uint8Array {
  const u = [...Buffer.from(uri)];
  return withExtension(der, rawExtension(oid, [0x30, u.length + 2, 0x86, u.length, ...u]));
}

describe('readCertificateSigner', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });

  it('fingerprints the SPKI as OpenSSL exports it, and reads notBefore in seconds, for every key type', async () => {
    for (const keyType of ['P-256', 'P-384', 'RSA-2048', 'Ed25519'] as const) {
      const { der } = await issueSigner(pki, { keyType, email: `dev-${keyType}@example.com` });
      const signer = readCertificateSigner(der);
      const x = new X509Certificate(der);
      expect(signer.keyFingerprint).toBe(createHash('sha256').update(x.publicKey.export({ type: 'spki', format: 'der' })).digest('hex'));
      expect(signer.notBeforeSec).toBe(Date.parse(x.validFrom) / 1000);
      expect(signer.identity).toMatchObject({ kind: 'email', san: `dev-${keyType}@example.com` });
    }
  });

  it('reads a GitHub Actions identity and its CI claims', async () => {
    const uri = 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main';
    const { der } = await issueSigner(pki, { uri, issuer: 'https://token.actions.githubusercontent.com', extraExtensions: githubClaims('o/r', '.github/workflows/x.yml', 'refs/heads/main') });
    expect(readCertificateSigner(der).identity).toEqual({
      kind: 'uri',
      san: uri,
      issuer: 'https://token.actions.githubusercontent.com',
      ci: expect.objectContaining({ repository: 'o/r', workflow: 'o/r/.github/workflows/x.yml', workflowRef: 'o/r/.github/workflows/x.yml@refs/heads/main', ref: 'refs/heads/main', workflowTrigger: 'push' }),
    });
  });

  it('reads a second SAN as the log refuses it, by the first one (what sigstore-js reads)', async () => {
    const { der } = await issueSigner(pki, { email: 'victim@example.com' });
    const twice = withSecondSan(der, [0x55, 0x1d, 0x11], 'https://evil.example');
    expect(readCertificateSigner(twice).identity.san).toBe('victim@example.com');
    let refused: unknown;
    try {
      parseCertificate(twice, 'leaf');
    } catch (err) {
      refused = err;
    }
    expect(isLogError(refused, 'malformed_certificate')).toBe(true);
    expect((refused as Error).message).toMatch(/extension 2\.5\.29\.17 more than once/);
  });

  it('does not take an extension whose OID only wraps around to the SAN for the SAN', async () => {
    // 2.5.29.(17 + 2^32): ASN1Obj's toOID reads it as 2.5.29.17. A certificate whose real SAN names
    // the victim and whose last "SAN" names someone else would hide the victim's signing from a
    // monitor that took the last one.
    const { der } = await issueSigner(pki, { email: 'victim@example.com' });
    const forged = withSecondSan(der, [0x55, 0x1d, 0x90, 0x80, 0x80, 0x80, 0x11], 'https://evil.example');
    expect(readCertificateSigner(forged).identity.san).toBe('victim@example.com');
  });

  it('reads a non-ASCII email as Latin-1, which the log refuses', async () => {
    const { der } = await issueSigner(pki, { email: 'ünï@example.com' });
    // @peculiar/x509 writes each character as one byte (0xFC for ü); read back as Latin-1.
    expect(Buffer.from(der).includes(Buffer.from('ünï@example.com', 'latin1'))).toBe(true);
    expect(readCertificateSigner(der).identity.san).toBe('ünï@example.com');
    expect(() => parseCertificate(der, 'leaf')).toThrow(/non-ASCII email name/);
  });

  it('throws MonitorError unparseable_entry, with the reader\'s reason, and nothing else', async () => {
    const { der } = await issueSigner(pki);
    expectUnparseable(Uint8Array.from([...der, 0]), /trailing bytes/);
    expectUnparseable(new Uint8Array(0), /certificate is undecodable/);
    expectUnparseable(new Uint8Array([0x30, 0x80, 0x00, 0x00]), /certificate is undecodable/);
    const long = (await issueSigner(pki, { extraExtensions: [fulcioExtension(9, 'x'.repeat(MAX_CLAIM_LENGTH + 1))] })).der;
    expectUnparseable(long, /1\.3\.6\.1\.4\.1\.57264\.1\.9 is longer than 4096 characters/);
    const bad = (await issueSigner(pki, { extraExtensions: [new x509.Extension('1.3.6.1.4.1.57264.1.9', false, Uint8Array.from([0x0c, 0x02, 0xff, 0xfe]))] })).der;
    expectUnparseable(bad, /undecodable Fulcio extension 1\.3\.6\.1\.4\.1\.57264\.1\.9/);
  });
});
