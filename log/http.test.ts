// The write API over real loopback HTTP, on PostgreSQL (a fresh schema) and PGlite: every response
// shape of the research notes (Rekor v1 LogEntry with SET and proof, v2 TransparencyLogEntry),
// checked the way a client checks it (checkpoint signature with the vkey, inclusion proof, SET,
// key hint = logId prefix), duplicates, certificate trust, and refusals with {code, message}.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../platform/clock.ts';
import { backends } from '../test/log-fixtures.ts';
import {
  dsseV1Request, dsseV2Request, hashedRekordV1Request, hashedRekordV2Request, newTestKey, post, get, randomPayload,
  startTestLogServer, type Answer, type TestLogServer,
} from '../test/log-http.ts';
import { serviceAvailable } from '../test/services.ts';
import { decodeBase64, decodeHex, encodeHex } from '../tlog/base64.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { hashLeaf, type Hash } from '../tlog/merkle.ts';
import { parseNote } from '../tlog/note.ts';
import { verifyInclusion } from '../tlog/proof.ts';
import { loadCertificateTrust } from './kinds/certificate-chain.ts';
import { createIntermediateCa, createRootCa, issueLeaf, LEAF_NOT_BEFORE, type TestCa } from './kinds/testdata/pki.ts';
import { keyFromPrivate } from './kinds/testdata/requests.ts';
import { computeLogId, isValidEntryTimestamp } from './set.ts';

const hasPostgres = await serviceAvailable('postgres');
const NOW_MS = LEAF_NOT_BEFORE.getTime() + 60_000;
const p256 = newTestKey('P-256');

/** checkProof verifies an inclusion proof as a client does: checkpoint signature, then the path. */
function checkProof(s: TestLogServer, leaf: Hash, index: bigint, note: string, hashes: Hash[]): { size: bigint; root: Hash } {
  const cp = openCheckpoint(note, [s.verifier], { origin: s.signer.name }).checkpoint;
  verifyInclusion(leaf, index, cp.size, hashes, cp.root);
  return cp;
}

function expectRefused(a: Answer, status: number, code: string): void {
  expect({ status: a.status, code: a.json?.code }, a.text).toEqual({ status, code });
  expect(typeof a.json.message).toBe('string');
  expect(a.json.message.length).toBeGreaterThan(10);
  expect(Object.keys(a.json).sort()).toEqual(['code', 'message']);
}

describe.each(backends(hasPostgres, 'loghttp'))('log write API on $name', (backend) => {
  let drop: () => Promise<void>;
  let s: TestLogServer;
  let logIdHex: string;
  let intermediate: TestCa;
  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    const root = await createRootCa();
    intermediate = await createIntermediateCa(root);
    const trust = loadCertificateTrust({ roots: [root.der], intermediates: [intermediate.der] });
    s = await startTestLogServer(opened.db, { trust, clock: manualClock(NOW_MS), config: { maxRequestBytes: 64 * 1024 } });
    logIdHex = encodeHex(computeLogId(s.signer.name, s.signer.publicKey));
  });
  afterAll(async () => {
    await s?.close();
    await drop?.();
  });

  it('v1 hashedrekord: 201 with the Rekor LogEntry, whose proof, checkpoint and SET verify', async () => {
    const a = await post(`${s.url}/api/v1/log/entries`, hashedRekordV1Request(p256, randomPayload('v1')));
    expect(a.status, a.text).toBe(201);
    const [uuid, ...more] = Object.keys(a.json);
    expect(more).toEqual([]);
    const e = a.json[uuid!];
    expect(Object.keys(e).sort()).toEqual(['body', 'integratedTime', 'logID', 'logIndex', 'verification']);
    const body = decodeBase64(e.body);
    const leaf = hashLeaf(body);
    expect(JSON.parse(new TextDecoder().decode(body))).toMatchObject({ kind: 'hashedrekord', apiVersion: '0.0.1' });
    expect(uuid).toMatch(/^[0-9a-f]{80}$/);
    expect(uuid!.slice(16)).toBe(encodeHex(leaf));
    expect(a.headers.get('etag')).toBe(uuid);
    expect(a.headers.get('location')).toBe(`/api/v1/log/entries/${uuid}`);
    expect(e.integratedTime).toBe(Math.floor(NOW_MS / 1000));
    expect(e.logID).toBe(logIdHex);
    const p = e.verification.inclusionProof;
    expect(Object.keys(p).sort()).toEqual(['checkpoint', 'hashes', 'logIndex', 'rootHash', 'treeSize']);
    expect(p.logIndex).toBe(e.logIndex);
    const cp = checkProof(s, leaf, BigInt(p.logIndex), p.checkpoint, p.hashes.map((h: string) => decodeHex(h)));
    expect([cp.size, encodeHex(cp.root)]).toEqual([BigInt(p.treeSize), p.rootHash]);
    // @sigstore/verify finds the checkpoint signature by the logId's first 4 bytes.
    expect(parseNote(p.checkpoint).signatures[0]!.keyId.toString(16).padStart(8, '0')).toBe(logIdHex.slice(0, 8));
    const fields = { body, integratedTime: e.integratedTime, logId: decodeHex(e.logID), logIndex: BigInt(e.logIndex) };
    expect(isValidEntryTimestamp(s.signer.publicKey, fields, decodeBase64(e.verification.signedEntryTimestamp))).toBe(true);
    expect(isValidEntryTimestamp(s.signer.publicKey, { ...fields, logIndex: fields.logIndex + 1n }, decodeBase64(e.verification.signedEntryTimestamp))).toBe(false);
  });

  it('v1 duplicate: 409 with the Location of the existing entry, which GET returns', async () => {
    const request = dsseV1Request(p256, randomPayload('dup'));
    const first = await post(`${s.url}/api/v1/log/entries`, request);
    expect(first.status, first.text).toBe(201);
    const again = await post(`${s.url}/api/v1/log/entries`, request);
    expectRefused(again, 409, 'entry_exists');
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    const fetched = await get(`${s.url}${again.headers.get('location')}`);
    expect(fetched.status).toBe(200);
    const [uuid] = Object.keys(first.json);
    expect(fetched.json[uuid!].body).toBe(first.json[uuid!].body);
    expect(fetched.json[uuid!].verification.signedEntryTimestamp).toBe(first.json[uuid!].verification.signedEntryTimestamp);
  });

  it('v2 hashedrekord: 201 TransparencyLogEntry; a duplicate is 200 with the existing entry and X-Log-Index', async () => {
    const request = hashedRekordV2Request(p256, randomPayload('v2'));
    const a = await post(`${s.url}/api/v2/log/entries`, request);
    expect(a.status, a.text).toBe(201);
    const t = a.json;
    expect(Object.keys(t)).toEqual(['logIndex', 'logId', 'kindVersion', 'integratedTime', 'inclusionPromise', 'inclusionProof', 'canonicalizedBody']);
    expect(t.inclusionPromise).toBeNull();
    expect(t.logIndex).toMatch(/^(0|[1-9][0-9]*)$/);
    expect(t.logId).toEqual({ keyId: Buffer.from(decodeHex(logIdHex)).toString('base64') });
    expect(t.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    expect(t.integratedTime).toBe('0');
    expect(Object.keys(t.inclusionProof).sort()).toEqual(['checkpoint', 'hashes', 'logIndex', 'rootHash', 'treeSize']);
    expect(t.inclusionProof.logIndex).toBe(t.logIndex);
    const leaf = hashLeaf(decodeBase64(t.canonicalizedBody));
    const cp = checkProof(s, leaf, BigInt(t.logIndex), t.inclusionProof.checkpoint.envelope, t.inclusionProof.hashes.map((h: string) => decodeBase64(h)));
    expect([cp.size.toString(), Buffer.from(cp.root).toString('base64')]).toEqual([t.inclusionProof.treeSize, t.inclusionProof.rootHash]);
    expect(JSON.parse(new TextDecoder().decode(decodeBase64(t.canonicalizedBody)))).toMatchObject({ kind: 'hashedrekord', apiVersion: '0.0.2', spec: { hashedRekordV002: {} } });

    const again = await post(`${s.url}/api/v2/log/entries`, request);
    expect(again.status, again.text).toBe(200);
    expect(again.headers.get('x-log-index')).toBe(t.logIndex);
    expect(again.json.canonicalizedBody).toBe(t.canonicalizedBody);
    checkProof(s, leaf, BigInt(again.json.logIndex), again.json.inclusionProof.checkpoint.envelope, again.json.inclusionProof.hashes.map((h: string) => decodeBase64(h)));
  });

  it('certificates: one chaining to the CA roots is logged; one from another CA is refused', async () => {
    const leaf = await issueLeaf(intermediate);
    const key = keyFromPrivate('P-256', leaf.privateKey, leaf.spki);
    const ok = await post(`${s.url}/api/v2/log/entries`, dsseV2Request(key, randomPayload('cert'), leaf.der));
    expect(ok.status, ok.text).toBe(201);
    expect(ok.json.kindVersion).toEqual({ kind: 'dsse', version: '0.0.2' });
    const okV1 = await post(`${s.url}/api/v1/log/entries`, hashedRekordV1Request(key, randomPayload('cert v1'), leaf.der));
    expect(okV1.status, okV1.text).toBe(201);

    const otherLeaf = await issueLeaf(await createIntermediateCa(await createRootCa()));
    const otherKey = keyFromPrivate('P-256', otherLeaf.privateKey, otherLeaf.spki);
    expectRefused(await post(`${s.url}/api/v2/log/entries`, dsseV2Request(otherKey, randomPayload('x'), otherLeaf.der)), 400, 'untrusted_certificate');
    expectRefused(await post(`${s.url}/api/v1/log/entries`, hashedRekordV1Request(otherKey, randomPayload('x'), otherLeaf.der)), 400, 'untrusted_certificate');
  });

  it('malformed requests get 400 with a code and a reason; oversized bodies 413', async () => {
    const v1 = `${s.url}/api/v1/log/entries`;
    const v2 = `${s.url}/api/v2/log/entries`;
    const good = dsseV2Request(p256, randomPayload('bad'));
    const cases: Array<[string, string, unknown, number, string]> = [
      ['not JSON', v1, '{"kind":', 400, 'malformed_request'],
      ['empty body', v2, '', 400, 'malformed_request'],
      ['not UTF-8', v1, new Uint8Array([0x7b, 0xff, 0x7d]), 400, 'malformed_request'],
      ['an array', v1, [], 400, 'malformed_request'],
      ['unknown kind', v1, { kind: 'rekord', apiVersion: '0.0.1', spec: {} }, 400, 'unsupported_kind'],
      ['v2 kind through v1', v1, { kind: 'hashedrekord', apiVersion: '0.0.2', spec: {} }, 400, 'unsupported_kind'],
      ['two v2 requests', v2, { ...good, hashedRekordRequestV002: {} }, 400, 'malformed_request'],
      ['unknown v2 request', v2, { intotoRequestV002: {} }, 400, 'unsupported_kind'],
      ['a v1 body to v2', v2, dsseV1Request(p256, randomPayload('x')), 400, 'malformed_request'],
      ['bad base64', v2, { dsseRequestV002: { ...(good.dsseRequestV002 as object), envelope: { payload: '!!', payloadType: 't', signatures: [] } } }, 400, 'malformed_entry'],
      ['no verifiers', v1, { ...dsseV1Request(p256, randomPayload('a')), spec: { proposedContent: { envelope: '{}', verifiers: [] } } }, 400, 'malformed_entry'],
    ];
    for (const [name, url, body, status, code] of cases) {
      const a = await post(url, body);
      expect({ name, status: a.status, code: a.json?.code }, a.text).toEqual({ name, status, code });
      expect(a.json.message).toBeTruthy();
    }
    const signedByOther = hashedRekordV1Request(newTestKey('P-256'), randomPayload('x'));
    (signedByOther as any).spec.signature.publicKey = (hashedRekordV1Request(p256, randomPayload('y')) as any).spec.signature.publicKey;
    expectRefused(await post(v1, signedByOther), 400, 'invalid_signature');
    expectRefused(await post(v2, new Uint8Array(64 * 1024 + 1).fill(0x20)), 413, 'request_too_large');
    expectRefused(await post(v1, 'x', { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400, 'malformed_request');
    const metrics = await get(`${s.url}/metrics`);
    expect(metrics.text).toMatch(/vigil_log_requests_rejected_total\{api="v1",code="malformed_request"\} [1-9]/);
  });
});

describe('a log without CA roots', () => {
  it('refuses certificate entries with untrusted_certificate and a clear message', async () => {
    const { openTestPglite } = await import('../test/db.ts');
    const { db, drop } = await openTestPglite();
    const s = await startTestLogServer(db, { trust: null, clock: manualClock(NOW_MS) });
    try {
      const root = await createRootCa();
      const leaf = await issueLeaf(await createIntermediateCa(root));
      const key = keyFromPrivate('P-256', leaf.privateKey, leaf.spki);
      const a = await post(`${s.url}/api/v2/log/entries`, dsseV2Request(key, randomPayload('c'), leaf.der));
      expectRefused(a, 400, 'untrusted_certificate');
      expect(a.json.message).toMatch(/accepts no certificates/);
      expect((await post(`${s.url}/api/v2/log/entries`, dsseV2Request(p256, randomPayload('k')))).status).toBe(201);

      // Closed: 503 with Retry-After, and the body says why.
      await s.started.close();
      const closed = await post(`${s.url}/api/v2/log/entries`, dsseV2Request(p256, randomPayload('late')));
      expectRefused(closed, 503, 'closed');
      expect(closed.headers.get('retry-after')).toBe('1');
    } finally {
      await s.close();
      await drop();
    }
  });
});

describe('a full pool', () => {
  it('answers 503 overloaded with Retry-After; the waiting entry is logged once its batch runs', async () => {
    const { openTestPglite } = await import('../test/db.ts');
    const { db, drop } = await openTestPglite();
    // One waiting entry at most, and a batch timer that never fires: only flush() integrates.
    const s = await startTestLogServer(db, { config: { maxPendingEntries: 1, maxBatchDelayMs: 3_600_000, retryAfterSeconds: 7 } });
    try {
      const url = `${s.url}/api/v2/log/entries`;
      const answers = [post(url, dsseV2Request(p256, randomPayload('a'))), post(url, dsseV2Request(p256, randomPayload('b')))];
      // Whichever arrives second finds the pool full and is answered at once.
      const refused = await Promise.race(answers);
      expectRefused(refused, 503, 'overloaded');
      expect(refused.headers.get('retry-after')).toBe('7');
      await s.started.log.flush();
      const statuses = (await Promise.all(answers)).map((a) => a.status).sort();
      expect(statuses).toEqual([201, 503]);
    } finally {
      await s.close();
      await drop();
    }
  });
});
