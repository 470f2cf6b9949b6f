// signed-entries.ts builds real log entry leaves for the monitor's parse, search and bench code:
// requests signed on the spot (test/log-requests.ts), accepted by the log's own entry parsers
// (log/kinds/entry.ts) under a test CA, so the bytes are exactly what Vigil's log would hash.
// Fulcio-style certificates carry CI claims as real Fulcio extensions. Test use only.
import { loadCertificateTrust, type CertificateTrust } from '../../log/kinds/certificate-chain.ts';
import { parseCreateEntryRequest, parseProposedEntry } from '../../log/kinds/entry.ts';
import { createIntermediateCa, createRootCa, issueLeaf, LEAF_NOT_BEFORE, type LeafOptions, type TestCa } from '../../log/kinds/testdata/pki.ts';

export { fulcioExtension, githubClaims } from '../../log/kinds/testdata/pki.ts';
import { keyFromPrivate } from '../../log/kinds/testdata/requests.ts';
import { dsseV1Request, dsseV2Request, hashedRekordV1Request, hashedRekordV2Request, newTestKey, type TestKey } from '../../test/log-requests.ts';

/** TestPki is a root and intermediate and the trust the log's parsers check leaves against. */
export interface TestPki {
  intermediate: TestCa;
  trust: CertificateTrust;
}

/** createTestPki makes a Fulcio-shaped root and intermediate. */
export async function createTestPki(): Promise<TestPki> {
  const root = await createRootCa();
  const intermediate = await createIntermediateCa(root);
  return { intermediate, trust: loadCertificateTrust({ roots: [root.der], intermediates: [intermediate.der] }) };
}

/** CertSigner is a leaf certificate and the key that signs with it. */
export interface CertSigner {
  der: Uint8Array;
  key: TestKey;
}

/** issueSigner issues a P-256 leaf under pki's intermediate. */
export async function issueSigner(pki: TestPki, opts: LeafOptions = {}): Promise<CertSigner> {
  const leaf = await issueLeaf(pki.intermediate, opts);
  return { der: leaf.der, key: keyFromPrivate('P-256', leaf.privateKey, leaf.spki) };
}

/** LEAF_TIME is a time inside every default test leaf's validity. */
export const LEAF_TIME = new Date(LEAF_NOT_BEFORE.getTime() + 60_000);

/** EntryShape names the four body shapes the log writes. */
export type EntryShape = 'hashedrekord-v1' | 'hashedrekord-v2' | 'dsse-v1' | 'dsse-v2';

/**
 * signedLeaf returns the canonical body the log would hash for `message` signed in `shape` by a
 * certificate signer or a bare key (for dsse, message is the payload).
 */
export function signedLeaf(pki: TestPki, shape: EntryShape, signer: CertSigner | TestKey, message: Uint8Array): Uint8Array {
  const key = 'der' in signer ? signer.key : signer;
  const cert = 'der' in signer ? signer.der : undefined;
  const options = { trust: pki.trust, integrationTime: LEAF_TIME };
  switch (shape) {
    case 'hashedrekord-v1':
      return parseProposedEntry(JSON.stringify(hashedRekordV1Request(key, message, cert)), options).canonicalBody;
    case 'hashedrekord-v2':
      return parseCreateEntryRequest(JSON.stringify(hashedRekordV2Request(key, message, cert)), options).canonicalBody;
    case 'dsse-v1': {
      if (cert !== undefined) throw new Error('test/log-requests.ts signs v1 dsse with bare keys only');
      return parseProposedEntry(JSON.stringify(dsseV1Request(key, message)), options).canonicalBody;
    }
    case 'dsse-v2':
      return parseCreateEntryRequest(JSON.stringify(dsseV2Request(key, message, cert)), options).canonicalBody;
  }
}

/** inTotoStatement returns an in-toto v1 statement payload with the given subjects. */
export function inTotoStatement(subjects: { name: string; sha256: string }[]): Uint8Array {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
  };
  return new TextEncoder().encode(JSON.stringify(statement));
}

export { newTestKey };
