// Chain validation against a CA made here with @peculiar/x509: root → intermediate (Fulcio-shaped:
// pathlen 0, EKU codeSigning) → 10-minute code-signing leaf, and the ways a chain must fail.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isLogError, type LogErrorCode } from '../errors.ts';
import { loadCertificateTrust, verifyCertificateChain, type CertificateTrust } from './certificate-chain.ts';
import { OID_FULCIO_ISSUER_V1, OID_FULCIO_ISSUER_V2, parseCertificate } from './certificate.ts';
import { createIntermediateCa, createRootCa, issueLeaf, LEAF_NOT_BEFORE, type TestCa } from './testdata/pki.ts';
import { x509 } from './peculiar-x509.ts';

const IN_WINDOW = new Date(LEAF_NOT_BEFORE.getTime() + 5 * 60_000);
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function codeOf(fn: () => unknown): LogErrorCode | 'no error' | 'not a LogError' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return isLogError(err) ? err.code : 'not a LogError';
  }
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('verifyCertificateChain', () => {
  let root: TestCa;
  let intermediate: TestCa;
  let trust: CertificateTrust;

  beforeAll(async () => {
    root = await createRootCa();
    intermediate = await createIntermediateCa(root);
    trust = loadCertificateTrust({ roots: [root.der], intermediates: [intermediate.der] });
  });

  it('accepts a Fulcio-shaped leaf and returns the path leaf → intermediate → root', async () => {
    const leaf = parseCertificate((await issueLeaf(intermediate)).der, 'leaf');
    const chain = verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf');
    expect(chain.map((c) => c.der)).toEqual([leaf.der, intermediate.der, root.der]);
    expect(leaf.identity).toEqual({
      emails: ['alice@vigil.test'],
      uris: [],
      oidcIssuer: 'https://oauth.vigil.test',
      fulcioExtensions: { [OID_FULCIO_ISSUER_V1]: 'https://oauth.vigil.test', [OID_FULCIO_ISSUER_V2]: 'https://oauth.vigil.test' },
    });
  });

  it('accepts the first and last second of the leaf validity, and refuses one second outside', async () => {
    const leaf = parseCertificate((await issueLeaf(intermediate)).der, 'leaf');
    const start = leaf.notBefore.getTime();
    const end = leaf.notAfter.getTime();
    expect(end - start).toBe(10 * 60_000);
    expect(codeOf(() => verifyCertificateChain(leaf, trust, new Date(start), 'leaf'))).toBe('no error');
    expect(codeOf(() => verifyCertificateChain(leaf, trust, new Date(end), 'leaf'))).toBe('no error');
    expect(messageOf(() => verifyCertificateChain(leaf, trust, new Date(start - 1000), 'leaf'))).toMatch(/not valid until/);
    expect(messageOf(() => verifyCertificateChain(leaf, trust, new Date(end + 1000), 'leaf'))).toMatch(/expired at/);
  });

  it('accepts a URI identity and takes the issuer from the certificate', async () => {
    const leaf = parseCertificate((await issueLeaf(intermediate, { uri: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' })).der, 'leaf');
    verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf');
    expect(leaf.identity.uris).toEqual(['https://github.com/o/r/.github/workflows/release.yml@refs/heads/main']);
    expect(leaf.identity.emails).toEqual([]);
    expect(leaf.identity.oidcIssuer).toBe('https://token.actions.githubusercontent.com');
  });

  it('accepts a leaf issued by the root itself, and an intermediate supplied by the entry', async () => {
    const direct = parseCertificate((await issueLeaf(root)).der, 'leaf');
    expect(verifyCertificateChain(direct, trust, IN_WINDOW, 'leaf')).toHaveLength(2);
    const otherIntermediate = await createIntermediateCa(root, { name: 'CN=second-intermediate' });
    const leaf = parseCertificate((await issueLeaf(otherIntermediate)).der, 'leaf');
    expect(codeOf(() => verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf'))).toBe('untrusted_certificate');
    const supplied = parseCertificate(otherIntermediate.der, 'intermediate');
    expect(verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf', [supplied]).map((c) => c.der)).toEqual([leaf.der, otherIntermediate.der, root.der]);
  });

  it('refuses a leaf from an untrusted root, even one with the same names', async () => {
    const evilRoot = await createRootCa();
    const evilIntermediate = await createIntermediateCa(evilRoot);
    const leaf = parseCertificate((await issueLeaf(evilIntermediate)).der, 'leaf');
    expect(messageOf(() => verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf', [parseCertificate(evilIntermediate.der, 'i')]))).toMatch(/does not chain to a trusted root/);
  });

  it('refuses a leaf whose signature was tampered with', async () => {
    const der = (await issueLeaf(intermediate)).der.slice();
    der[der.length - 5]! ^= 0x01; // inside the signature value
    const leaf = parseCertificate(der, 'leaf');
    expect(codeOf(() => verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf'))).toBe('untrusted_certificate');
  });

  it('refuses leaves outside the code-signing profile', async () => {
    const cases: [string, Parameters<typeof issueLeaf>[1], RegExp][] = [
      ['wrong EKU', { eku: [SERVER_AUTH] }, /code-signing extended key usage/],
      ['no EKU', { eku: null }, /code-signing extended key usage/],
      ['key usage without digitalSignature', { keyUsage: x509.KeyUsageFlags.keyEncipherment }, /digital signatures/],
      ['a CA certificate', { ca: true }, /is a CA certificate/],
      ['an unknown critical extension', { extraExtensions: [new x509.Extension('1.3.6.1.4.1.11129.2.4.3', true, new Uint8Array([5, 0]))] }, /unsupported critical extension 1.3.6.1.4.1.11129.2.4.3/],
    ];
    for (const [name, opts, message] of cases) {
      const leaf = parseCertificate((await issueLeaf(intermediate, opts)).der, 'leaf');
      expect(messageOf(() => verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf')), name).toMatch(message);
      expect(codeOf(() => verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf')), name).toBe('untrusted_certificate');
    }
  });

  it('refuses chains through an expired, non-CA or wrong-EKU intermediate', async () => {
    const cases: [string, Parameters<typeof createIntermediateCa>[1]][] = [
      ['expired', { notAfter: new Date('2025-01-01T00:00:00Z') }],
      ['not a CA', { ca: false }],
      ['EKU serverAuth only', { eku: [SERVER_AUTH] }],
    ];
    for (const [name, opts] of cases) {
      const bad = await createIntermediateCa(root, { ...opts, name: `CN=bad-${name}` });
      const leaf = parseCertificate((await issueLeaf(bad)).der, 'leaf');
      expect(codeOf(() => verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf', [parseCertificate(bad.der, 'i')])), name).toBe('untrusted_certificate');
    }
    // An intermediate with no EKU at all constrains nothing, as in Go's x509.
    const open = await createIntermediateCa(root, { eku: null, name: 'CN=no-eku' });
    const leaf = parseCertificate((await issueLeaf(open)).der, 'leaf');
    expect(codeOf(() => verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf', [parseCertificate(open.der, 'i')]))).toBe('no error');
  });

  it('throws only LogError for corrupted leaves (fuzzed byte flips, truncations, insertions)', async () => {
    const der = (await issueLeaf(intermediate)).der;
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 }), fc.constantFrom('flip', 'cut', 'insert'), (at, x, how) => {
        const bad =
          how === 'flip' ? der.map((b, i) => (i === at ? b ^ x : b)) : how === 'cut' ? der.subarray(0, at) : new Uint8Array([...der.subarray(0, at), x, ...der.subarray(at)]);
        try {
          verifyCertificateChain(parseCertificate(bad, 'leaf'), trust, IN_WINDOW, 'leaf');
        } catch (err) {
          if (!isLogError(err)) throw err;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('enforces the intermediate pathlen 0: no CA may sit below it', async () => {
    const sub = await createIntermediateCa(intermediate, { name: 'CN=below-pathlen-0' });
    const leaf = parseCertificate((await issueLeaf(sub)).der, 'leaf');
    expect(codeOf(() => verifyCertificateChain(leaf, trust, IN_WINDOW, 'leaf', [parseCertificate(sub.der, 'sub')]))).toBe('untrusted_certificate');
  });
});

describe('loadCertificateTrust and parseCertificate', () => {
  it('refuses trust material that is not a CA, is garbage, or is empty', async () => {
    const root = await createRootCa();
    const leaf = await issueLeaf(root);
    expect(codeOf(() => loadCertificateTrust({ roots: [] }))).toBe('invalid_config');
    expect(codeOf(() => loadCertificateTrust({ roots: [leaf.der] }))).toBe('invalid_config');
    expect(codeOf(() => loadCertificateTrust({ roots: [root.der], intermediates: [new Uint8Array([0x30, 0x03, 1, 2, 3])] }))).toBe('invalid_config');
    expect(loadCertificateTrust({ roots: [root.der] }).roots).toHaveLength(1);
  });

  it('refuses an email or URI name that is not ASCII (IA5String), as Go does', async () => {
    const root = await createRootCa();
    for (const opts of [{ email: 'jos\u00e9@vigil.test' }, { uri: 'https://github.com/o/r/.github/workflows/w.yml@refs/heads/caf\u00e9' }]) {
      const der = (await issueLeaf(root, opts)).der;
      // The encoder wrote the character as one byte above 0x7f; the parser must not read it as Latin-1.
      expect(Buffer.from(der).includes(0xe9)).toBe(true);
      expect(messageOf(() => parseCertificate(der, 'leaf'))).toMatch(/leaf has a non-ASCII (email|URI) name/);
      expect(codeOf(() => parseCertificate(der, 'leaf'))).toBe('malformed_certificate');
    }
  });

  it('refuses garbage and trailing bytes', async () => {
    const root = await createRootCa();
    const leaf = await issueLeaf(root);
    expect(codeOf(() => parseCertificate(new Uint8Array([1, 2, 3]), 'c'))).toBe('malformed_certificate');
    expect(codeOf(() => parseCertificate(new Uint8Array(0), 'c'))).toBe('malformed_certificate');
    const trailing = new Uint8Array([...leaf.der, 0]);
    expect(messageOf(() => parseCertificate(trailing, 'c'))).toMatch(/trailing bytes/);
    expect(codeOf(() => parseCertificate(leaf.der.subarray(0, leaf.der.length - 1), 'c'))).toBe('malformed_certificate');
  });

  it('reads RSA and Ed25519 leaf keys', async () => {
    const root = await createRootCa();
    for (const keyType of ['RSA-2048', 'Ed25519', 'P-384'] as const) {
      const leaf = await issueLeaf(root, { keyType });
      const cert = parseCertificate(leaf.der, 'c');
      expect(cert.publicKey.spki).toEqual(leaf.spki);
    }
  });
});
