// The worker-thread verifier gives exactly the inline verifier's answers: the same canonical body
// for good requests, the same LogError code for refused ones, with certificates checked against
// trust material each worker loads itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsseV1Request, dsseV2Request, hashedRekordV2Request, newTestKey, randomPayload } from '../test/log-requests.ts';
import { isLogError } from './errors.ts';
import { loadCertificateTrust } from './kinds/certificate-chain.ts';
import { createIntermediateCa, createRootCa, issueLeaf, LEAF_NOT_BEFORE } from './kinds/testdata/pki.ts';
import { keyFromPrivate } from './kinds/testdata/requests.ts';
import { inlineEntryVerifier, startEntryVerifierPool, type EntryVerifier, type WriteApi } from './verify-pool.ts';

const AT = new Date(LEAF_NOT_BEFORE.getTime() + 60_000);
const bytes = (o: unknown) => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));

let pool: EntryVerifier;
let inline: EntryVerifier;
const cases: Array<{ name: string; api: WriteApi; body: Uint8Array }> = [];
beforeAll(async () => {
  const root = await createRootCa();
  const intermediate = await createIntermediateCa(root);
  const trustConfig = { roots: [root.der], intermediates: [intermediate.der] };
  pool = await startEntryVerifierPool(2, { trust: trustConfig, maxRequestBytes: 64 * 1024 });
  inline = inlineEntryVerifier(loadCertificateTrust(trustConfig), 64 * 1024);
  const key = newTestKey('P-256');
  const leaf = await issueLeaf(intermediate);
  const certKey = keyFromPrivate('P-256', leaf.privateKey, leaf.spki);
  const foreign = await issueLeaf(await createIntermediateCa(await createRootCa()));
  const wrong = dsseV2Request(key, randomPayload('w')) as any;
  wrong.dsseRequestV002.envelope.payload = Buffer.from('tampered').toString('base64');
  cases.push(
    { name: 'v2 dsse by a key', api: 'v2', body: bytes(dsseV2Request(key, randomPayload('a'))) },
    { name: 'v2 hashedrekord by a key', api: 'v2', body: bytes(hashedRekordV2Request(key, randomPayload('b'))) },
    { name: 'v1 dsse by a key', api: 'v1', body: bytes(dsseV1Request(key, randomPayload('c'))) },
    { name: 'v2 dsse by a trusted certificate', api: 'v2', body: bytes(dsseV2Request(certKey, randomPayload('d'), leaf.der)) },
    { name: 'a certificate of another CA', api: 'v2', body: bytes(dsseV2Request(keyFromPrivate('P-256', foreign.privateKey, foreign.spki), randomPayload('e'), foreign.der)) },
    { name: 'a tampered payload', api: 'v2', body: bytes(wrong) },
    { name: 'not JSON', api: 'v1', body: bytes('{') },
    { name: 'too large', api: 'v2', body: new Uint8Array(64 * 1024 + 1) },
  );
});
afterAll(async () => {
  await pool?.close();
});

async function outcome(v: EntryVerifier, api: WriteApi, body: Uint8Array): Promise<string> {
  try {
    const e = await v.verify(api, body, AT);
    return `${e.kind} ${e.apiVersion} ${Buffer.from(e.canonicalBody).toString('base64')}`;
  } catch (err) {
    if (!isLogError(err)) throw err;
    return err.code;
  }
}

describe('startEntryVerifierPool', () => {
  it('answers as the inline verifier does, for accepted and refused requests alike', async () => {
    const got = await Promise.all(cases.map((c) => outcome(pool, c.api, c.body)));
    const want = await Promise.all(cases.map((c) => outcome(inline, c.api, c.body)));
    expect(got).toEqual(want);
    expect(want.slice(4)).toEqual(['untrusted_certificate', 'invalid_signature', 'malformed_request', 'request_too_large']);
  });

  it('spreads many concurrent requests over its workers', async () => {
    const key = newTestKey('P-256');
    const bodies = Array.from({ length: 200 }, () => bytes(dsseV2Request(key, randomPayload('many'))));
    const entries = await Promise.all(bodies.map((b) => pool.verify('v2', b, AT)));
    expect(new Set(entries.map((e) => Buffer.from(e.canonicalBody).toString('hex'))).size).toBe(200);
  });

  it('refuses work once closed', async () => {
    const p = await startEntryVerifierPool(1, { trust: null, maxRequestBytes: 1024 });
    await p.close();
    await expect(p.verify('v1', bytes('{}'), AT)).rejects.toSatisfy((err: unknown) => isLogError(err, 'closed'));
  });
});
