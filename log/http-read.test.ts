// The read API over real loopback HTTP, on PostgreSQL (a fresh schema) and PGlite: the C2SP
// checkpoint, every tile and entry bundle of the tree with its caching headers, 404s beyond the
// tree, strict path parsing, the Rekor v1 reads (LogInfo, entries by index and UUID, consistency
// proofs, public key), and the independent client check over tiles alone.
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../test/log-fixtures.ts';
import {
  dsseV2Request, get, getBytes, hashedRekordV1Request, newTestKey, post, randomPayload, startTestLogServer, verifyLogOverHttp,
  type AckedEntry, type TestLogServer,
} from '../test/log-http.ts';
import { serviceAvailable } from '../test/services.ts';
import { decodeBase64, decodeHex, encodeHex } from '../tlog/base64.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { hashLeaf } from '../tlog/merkle.ts';
import { verifyConsistency, verifyInclusion } from '../tlog/proof.ts';
import { formatEntriesPath, formatTilePath, tilesForSize } from '../tlog/tile.ts';
import { computeLogId } from './set.ts';

const hasPostgres = await serviceAvailable('postgres');
const IMMUTABLE = 'public, max-age=31536000, immutable';
const key = newTestKey('P-256');

describe.each(backends(hasPostgres, 'logread'))('log read API on $name', (backend) => {
  let drop: () => Promise<void>;
  let s: TestLogServer;
  const acked: AckedEntry[] = [];
  const checkpoints: string[] = [];
  let firstV1: { uuid: string; entry: any } | undefined;
  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    s = await startTestLogServer(opened.db);
    // 300 entries in waves: several checkpoints, one full tile and bundle, partial ones after.
    const v1 = await post(`${s.url}/api/v1/log/entries`, hashedRekordV1Request(key, randomPayload('first')));
    const uuid = Object.keys(v1.json)[0]!;
    firstV1 = { uuid, entry: v1.json[uuid] };
    acked.push({ index: BigInt(firstV1.entry.logIndex), leafHash: decodeHex(uuid.slice(16)) });
    checkpoints.push(firstV1.entry.verification.inclusionProof.checkpoint);
    for (const wave of [40, 120, 139]) {
      const answers = await Promise.all(Array.from({ length: wave }, () => post(`${s.url}/api/v2/log/entries`, dsseV2Request(key, randomPayload('read')))));
      for (const a of answers) {
        expect(a.status, a.text).toBe(201);
        acked.push({ index: BigInt(a.json.logIndex), leafHash: hashLeaf(decodeBase64(a.json.canonicalizedBody)) });
        checkpoints.push(a.json.inclusionProof.checkpoint.envelope);
      }
    }
  });
  afterAll(async () => {
    await s?.close();
    await drop?.();
  });
  const v2 = () => `${s.url}/api/v2`;

  it('serves the checkpoint as text, uncached', async () => {
    const a = await get(`${v2()}/checkpoint`);
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(a.headers.get('cache-control')).toBe('no-cache');
    expect(openCheckpoint(a.text, [s.verifier], { origin: s.signer.name }).checkpoint.size).toBe(300n);
  });

  it('a C2SP client rebuilds the tree from tiles and bundles and finds every entry and checkpoint', async () => {
    expect(await verifyLogOverHttp(v2(), s.verifier, s.signer.name, acked, checkpoints)).toBe(300n);
    expect(new Set(checkpoints).size).toBeGreaterThan(2);
  });

  it('serves every tile and bundle immutable, and 404 (uncached) for what is not published', async () => {
    const paths = [...tilesForSize(300n)].flatMap((t) => (t.level === 0 ? [formatTilePath(t), formatEntriesPath(t)] : [formatTilePath(t)]));
    expect(paths).toEqual(['tile/0/000', 'tile/entries/000', 'tile/0/001.p/44', 'tile/entries/001.p/44', 'tile/1/000.p/1']);
    for (const path of paths) {
      const res = await fetch(`${v2()}/${path}`, { headers: { 'accept-encoding': 'identity' } });
      expect([path, res.status, res.headers.get('content-type'), res.headers.get('cache-control')]).toEqual([path, 200, 'application/octet-stream', IMMUTABLE]);
      if (path.startsWith('tile/0/') || path.startsWith('tile/1/')) expect((await res.arrayBuffer()).byteLength % 32).toBe(0);
      else await res.arrayBuffer();
    }
    // Bundles are compressed for clients that accept gzip (fetch decompresses them).
    const gz = await fetch(`${v2()}/tile/entries/000`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(new Uint8Array(await gz.arrayBuffer())).toEqual(await getBytes(`${v2()}/tile/entries/000`));
    // An older checkpoint's partial tile is still served: the first checkpoint had size 1.
    expect((await getBytes(`${v2()}/tile/0/000.p/1`)).length).toBe(32);
    for (const path of ['tile/0/001', 'tile/0/002.p/1', 'tile/0/001.p/45', 'tile/0/001.p/255', 'tile/1/000', 'tile/2/000.p/1', 'tile/entries/001', 'tile/entries/001.p/45', 'tile/63/x018/x446/x744/x073/x709/x551/615']) {
      const a = await get(`${v2()}/${path}`);
      expect([path, a.status, a.json?.code, a.headers.get('cache-control')]).toEqual([path, 404, 'not_found', 'no-cache']);
    }
  });

  it('refuses malformed tile paths with 400', async () => {
    for (const path of ['tile/0/0001', 'tile/00/000', 'tile/0/000.p/0', 'tile/0/000.p/256', 'tile/0/000.p/01', 'tile/64/000', 'tile/8/0/000', 'tile/0/x000/001', 'tile/entries/000.p', 'tile/0/-01', 'tile/0/%30%30%30']) {
      const a = await get(`${v2()}/${path}`);
      expect([path, a.status, a.json?.code]).toEqual([path, 400, 'invalid_argument']);
    }
  });

  it('v1 reads: LogInfo, entries by index and UUID with the same SET, consistency proofs, the key', async () => {
    const info = (await get(`${s.url}/api/v1/log`)).json;
    expect(Object.keys(info).sort()).toEqual(['rootHash', 'signedTreeHead', 'treeID', 'treeSize']);
    const cp = openCheckpoint(info.signedTreeHead, [s.verifier], { origin: s.signer.name }).checkpoint;
    expect([info.treeSize, info.rootHash]).toEqual([300, encodeHex(cp.root)]);
    expect(BigInt(info.treeID).toString(16).padStart(16, '0')).toBe(firstV1!.uuid.slice(0, 16));

    const { uuid, entry } = firstV1!;
    for (const url of [`/api/v1/log/entries?logIndex=${entry.logIndex}`, `/api/v1/log/entries/${uuid}`, `/api/v1/log/entries/${uuid.slice(16)}`, `/api/v1/log/entries/${uuid.toUpperCase()}`]) {
      const a = await get(`${s.url}${url}`);
      expect(a.status, url).toBe(200);
      const got = a.json[uuid];
      expect(got, url).toBeDefined();
      expect([got.body, got.integratedTime, got.logID, got.logIndex]).toEqual([entry.body, entry.integratedTime, entry.logID, entry.logIndex]);
      // Same entry, same SET (Ed25519 is deterministic); the proof is against the latest checkpoint.
      expect(got.verification.signedEntryTimestamp).toBe(entry.verification.signedEntryTimestamp);
      expect(got.verification.inclusionProof.treeSize).toBe(300);
      verifyInclusion(decodeHex(uuid.slice(16)), BigInt(got.logIndex), 300n, got.verification.inclusionProof.hashes.map((h: string) => decodeHex(h)), cp.root);
    }
    const otherTree = `${'0'.repeat(16)}${uuid.slice(16)}`;
    for (const [url, status] of [
      [`/api/v1/log/entries/${otherTree}`, 404], [`/api/v1/log/entries/${'ab'.repeat(32)}`, 404], [`/api/v1/log/entries/${uuid.slice(1)}`, 400],
      ['/api/v1/log/entries?logIndex=300', 404], ['/api/v1/log/entries?logIndex=01', 400], ['/api/v1/log/entries?logIndex=-1', 400],
      ['/api/v1/log/entries', 400], ['/api/v1/log/entries?logIndex=1&logIndex=2', 400],
    ] as const) {
      expect([url, (await get(`${s.url}${url}`)).status]).toEqual([url, status]);
    }

    for (const note of [checkpoints[0]!, checkpoints[50]!, checkpoints[299]!]) {
      const old = openCheckpoint(note, [s.verifier]).checkpoint;
      const a = await get(`${s.url}/api/v1/log/proof?firstSize=${old.size}&lastSize=300`);
      expect(a.status, a.text).toBe(200);
      expect(a.json.rootHash).toBe(encodeHex(cp.root));
      verifyConsistency(old.size, 300n, old.root, cp.root, a.json.hashes.map((h: string) => decodeHex(h)));
    }
    expect((await get(`${s.url}/api/v1/log/proof?lastSize=1`)).json).toEqual({ rootHash: encodeHex(acked[0]!.leafHash), hashes: [] });
    for (const q of ['firstSize=1&lastSize=301', 'firstSize=5&lastSize=4', 'firstSize=0&lastSize=4', 'firstSize=1', 'lastSize=x']) {
      expect([q, (await get(`${s.url}/api/v1/log/proof?${q}`)).status]).toEqual([q, 400]);
    }

    const pem = await get(`${s.url}/api/v1/log/publicKey`);
    expect(pem.headers.get('content-type')).toBe('application/x-pem-file');
    const raw = createPublicKey(pem.text).export({ format: 'jwk' }).x!;
    expect(Buffer.from(raw, 'base64url')).toEqual(Buffer.from(s.signer.publicKey));
    expect(entry.logID).toBe(encodeHex(computeLogId(s.signer.name, s.signer.publicKey)));
  });
});
