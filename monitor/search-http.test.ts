// The search API over real HTTP on loopback, and `vigil search` as a child process against it.
// Entries are real leaves (signed here and accepted by the log's own parsers) in a tree stored as
// C2SP tiles and read through TileHashReader; one log is the real Rekor v2 entry
// log2025-1.rekor.sigstore.dev#544346 with its real signed checkpoint and audit path
// (../shared/vectors/rekor/rekor-v2-inclusion.json).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, finishHttpApp, listen, type Listening } from '../platform/http.ts';
import { silentLogger } from '../platform/logger.ts';
import { applyMigrations } from '../platform/migrate.ts';
import type { Db } from '../platform/db.ts';
import { openTestPglite } from '../test/db.ts';
import { b64, readVectorJson, REPO_ROOT, VECTORS_AVAILABLE } from '../test/vectors.ts';
import { formatCheckpoint } from '../tlog/checkpoint.ts';
import { hashLeaf, type HashReader, type NodeId } from '../tlog/merkle.ts';
import { signNote } from '../tlog/note.ts';
import { generateSignerKey, parseVerifierKey } from '../tlog/note-key.ts';
import { inclusionProofRanges, rangeNodes } from '../tlog/proof.ts';
import { formatTilePath } from '../tlog/tile.ts';
import { TileHashReader } from '../tlog/tile-hash-reader.ts';
import { appendLeafHashes, EMPTY_TILE_EDGE, rootFromTileEdge } from '../tlog/tile-writer.ts';
import { parseLogEntry } from './entry-parse.ts';
import { isMonitorError } from './errors.ts';
import { createSearchRouter, type VerifiedCheckpoint } from './search-http.ts';
import { indexEvents, SEARCH_COMPONENT, SEARCH_MIGRATIONS } from './search-index.ts';
import { verifySearchResult } from './search-verify.ts';
import { createTestPki, githubClaims, issueSigner, newTestKey, signedLeaf } from './testdata/signed-entries.ts';

const ORIGIN = 'log.vigil.test/http';
const IDENTITY = 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1';
const logKey = generateSignerKey(ORIGIN);
const rekor = VECTORS_AVAILABLE ? readVectorJson('rekor/rekor-v2-inclusion.json') : undefined;
const rekorVector = rekor?.vectors.find((v: any) => v.log_index === 544346);

let db: Db;
let dropDb: () => Promise<void>;
let server: Listening;
const tiles = new Map<string, Uint8Array>();
let checkpoint: VerifiedCheckpoint;
let tamperTiles = false;
let tamperEntries = false;
let bodies: Uint8Array[] = [];

// ProofHashReader serves exactly the audit path of one real inclusion proof: for the last leaf of a
// tree, every sibling is a complete left subtree, so each proof hash is one node.
function proofHashReader(index: bigint, size: bigint, proof: Uint8Array[]): HashReader {
  const nodes = new Map<string, Uint8Array>();
  inclusionProofRanges(index, size).forEach((r, i) => {
    const ids = rangeNodes(r.start, r.end);
    if (ids.length === 1) nodes.set(`${ids[0]!.level}/${ids[0]!.index}`, proof[i]!);
  });
  return {
    readHashes: async (ids: readonly NodeId[]) =>
      ids.map((id) => {
        const h = nodes.get(`${id.level}/${id.index}`);
        if (h === undefined) throw new Error(`no hash for node ${id.level}/${id.index}`);
        return h;
      }),
  };
}

async function buildLog(): Promise<Uint8Array[]> {
  const pki = await createTestPki();
  const ci = await issueSigner(pki, { uri: IDENTITY, issuer: 'https://token.actions.githubusercontent.com', extraExtensions: githubClaims('org/repo', '.github/workflows/release.yml', 'refs/tags/v1') });
  const key = newTestKey('P-256');
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) bodies.push(signedLeaf(pki, i % 2 ? 'hashedrekord-v2' : 'hashedrekord-v1', i % 3 === 0 ? ci : key, new TextEncoder().encode(`artifact ${i}`)));
  const { tiles: written, edge } = appendLeafHashes(EMPTY_TILE_EDGE, bodies.map(hashLeaf));
  for (const t of written) tiles.set(formatTilePath(t.tile), t.data);
  const rootHash = rootFromTileEdge(edge);
  checkpoint = { note: signNote(formatCheckpoint({ origin: ORIGIN, size: edge.size, root: rootHash }), [logKey.signer]), size: edge.size, rootHash };
  return bodies;
}

beforeAll(async () => {
  ({ db, drop: dropDb } = await openTestPglite());
  await applyMigrations(db, SEARCH_COMPONENT, SEARCH_MIGRATIONS);
  bodies = await buildLog();
  const events = bodies.map((b, i) => parseLogEntry(ORIGIN, BigInt(i), b));
  if (rekorVector) events.push(parseLogEntry(rekor.log.origin, 544346n, b64(rekorVector.entry_b64)));
  await db.transaction((tx) => indexEvents(tx, events));
  const app = createHttpApp({ component: 'monitor', logger: silentLogger() });
  app.use(
    createSearchRouter({
      db,
      logger: silentLogger(),
      checkpointFor: async (origin) => {
        if (origin === ORIGIN) return checkpoint;
        if (rekorVector && origin === rekor.log.origin) {
          return { note: rekorVector.checkpoint_note, size: BigInt(rekorVector.tree_size), rootHash: b64(rekorVector.root_hash_b64) };
        }
        return undefined;
      },
      hashReaderFor: (origin) =>
        origin === ORIGIN
          ? new TileHashReader({ size: checkpoint.size, root: checkpoint.rootHash }, async (tile) => {
              const data = tiles.get(formatTilePath(tile))!;
              return tamperTiles ? data.map((b, i) => (i === 0 ? b ^ 1 : b)) : data;
            })
          : proofHashReader(544346n, BigInt(rekorVector.tree_size), rekorVector.inclusion_proof_b64.map(b64)),
      // The test plays the logs: its own entries, and the Rekor vector's one entry.
      entryAt: async (origin, index) => {
        if (origin !== ORIGIN) return b64(rekorVector.entry_b64);
        const body = bodies[Number(index)]!;
        return tamperEntries ? bodies[(Number(index) + 1) % bodies.length]! : body;
      },
    }),
  );
  finishHttpApp(app, silentLogger());
  server = await listen(app, '127.0.0.1', 0);
});

afterAll(async () => {
  await server?.close();
  await dropDb?.();
});

async function get(query: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/api/v1/search?${query}`);
  return { status: res.status, body: await res.json() };
}

const keys = new Map([[ORIGIN, [parseVerifierKey(logKey.vkey)]]]);

describe('GET /api/v1/search', () => {
  it('answers results with leaf bytes and inclusion proofs that verify against the signed checkpoint', async () => {
    const { status, body } = await get(`identity=${encodeURIComponent(IDENTITY)}&limit=100`);
    expect(status).toBe(200);
    expect(body.results.map((r: any) => r.index)).toEqual(Array.from({ length: 100 }, (_, i) => String(i * 3)));
    for (const r of body.results) {
      const v = verifySearchResult(r, { identity: IDENTITY }, keys);
      expect(v.signatureChecked).toBe(true);
      expect(v.event.identity.san).toBe(IDENTITY);
      expect(r.inclusion_proof.tree_size).toBe('300');
    }
    expect(body.next_cursor).toBeNull();
  });

  it('pages with next_cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const { body } = await get(`namespace=${encodeURIComponent('https://github.com/org/repo')}&limit=40${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.results.map((r: any) => r.index));
      cursor = body.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => String(i * 3)));
  });

  it.each([
    ['no criteria', ''],
    ['an unknown parameter', 'identity=a&colour=red'],
    ['a repeated parameter', 'identity=a&identity=b'],
    ['a bracketed parameter', 'identity[x]=a'],
    ['a bad digest', 'digest=xyz'],
    ['a bad limit', 'identity=a&limit=0'],
    ['a huge limit', 'identity=a&limit=99999'],
    ['a bad time', 'since=yesterday'],
    ['a bad cursor', 'identity=a&cursor=%21%21'],
    ['a NUL', 'identity=a%00b'],
    ['an overlong value', `identity=${'x'.repeat(3000)}`],
  ])('answers 400 JSON for %s', async (_name, query) => {
    const { status, body } = await get(query);
    expect(status).toBe(400);
    expect(body.code).toBe('invalid_search');
    expect(typeof body.message).toBe('string');
  });

  it('answers 503, not a bad proof, when the tiles do not authenticate', async () => {
    tamperTiles = true;
    try {
      const { status, body } = await get(`digest=${createHash('sha256').update('artifact 7').digest('hex')}`);
      expect(status).toBe(503);
      expect(body.code).toBe('unavailable');
    } finally {
      tamperTiles = false;
    }
  });

  it('answers 503, not a result, when the log serves an entry other than the tree holds', async () => {
    const query = `digest=${createHash('sha256').update('artifact 7').digest('hex')}`;
    expect((await get(query)).body.results).toHaveLength(1);
    tamperEntries = true;
    try {
      const { status, body } = await get(query);
      expect(status).toBe(503);
      expect(body.code).toBe('unavailable');
    } finally {
      tamperEntries = false;
    }
  });

  it.skipIf(!rekorVector)('serves a real Rekor v2 entry with its real proof and checkpoint (rekor-v2-inclusion.json)', async () => {
    const { status, body } = await get(`identity=brian%40dehamer.com&log=${rekor.log.origin}`);
    expect(status).toBe(200);
    expect(body.results).toHaveLength(1);
    const rekorKeys = new Map([[rekor.log.origin, [parseVerifierKey(rekor.log.vkey)]]]);
    const v = verifySearchResult(body.results[0], { identity: 'brian@dehamer.com' }, rekorKeys);
    expect(v).toMatchObject({ signatureChecked: true, treeSize: BigInt(rekorVector.tree_size) });
  });
});

describe('verifySearchResult refuses what a lying server could send', () => {
  let good: any;
  beforeAll(async () => {
    good = (await get(`digest=${createHash('sha256').update('artifact 9').digest('hex')}`)).body.results[0];
  });
  const expectRefused = (r: unknown, q: object = { digest: createHash('sha256').update('artifact 9').digest('hex') }) => {
    let err: unknown;
    try {
      verifySearchResult(r, q, keys);
    } catch (e) {
      err = e;
    }
    expect(isMonitorError(err, 'unverified_result'), String(err)).toBe(true);
  };

  it('accepts the honest result', () => {
    expect(verifySearchResult(good, { digest: createHash('sha256').update('artifact 9').digest('hex') }, keys).event.index).toBe(9n);
  });
  it('refuses another entry’s bytes', async () => {
    const other = (await get(`digest=${createHash('sha256').update('artifact 10').digest('hex')}`)).body.results[0];
    expectRefused({ ...good, body: other.body });
  });
  it('refuses a wrong index, a truncated proof, a missing proof, an unsigned or foreign checkpoint', () => {
    expectRefused({ ...good, index: '8' });
    expectRefused({ ...good, inclusion_proof: { ...good.inclusion_proof, hashes: good.inclusion_proof.hashes.slice(1) } });
    expectRefused({ ...good, inclusion_proof: null });
    const forged = signNote(formatCheckpoint({ origin: ORIGIN, size: 300n, root: new Uint8Array(32) }), [generateSignerKey(ORIGIN).signer]);
    expectRefused({ ...good, inclusion_proof: { ...good.inclusion_proof, checkpoint: forged } });
  });
  it('refuses a proved entry that does not match the query', () => {
    expectRefused(good, { identity: 'someone@else.example' });
    expectRefused(good, { digest: 'a'.repeat(64) });
    expectRefused(good, { sinceSec: Date.parse('2100-01-01T00:00:00Z') / 1000 }); // its certificate's notBefore is 2026
  });
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', 'search', ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('vigil search', () => {
  it('prints verified results as JSON', async () => {
    const digest = createHash('sha256').update('artifact 12').digest('hex');
    const out = await runCli(['--url', server.url, '--digest', digest, '--log-key', logKey.vkey, '--json']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.results).toHaveLength(1);
    expect(json.results[0]).toMatchObject({ log_origin: ORIGIN, index: '12', identity: { kind: 'uri', san: IDENTITY }, verified: { tree_size: '300', checkpoint_signature: true } });
  }, 60_000);

  it('prints a table, warns when a checkpoint signature could not be checked, and shows the next cursor', async () => {
    const out = await runCli(['--url', server.url, '--identity-prefix', 'https://github.com/org/', '--limit', '2']);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^LOG\s+INDEX\s+KIND\s+IDENTITY/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['0', '3']);
    expect(out.stderr).toMatch(/no --log-key for log\.vigil\.test\/http/);
    expect(out.stderr).toMatch(/next cursor: \S+/);
  }, 60_000);

  it('exits 1 when a result does not verify, and 2 for a bad query', async () => {
    const liar = createHttpApp({ component: 'liar', logger: silentLogger() });
    const honest = (await get(`digest=${createHash('sha256').update('artifact 9').digest('hex')}`)).body;
    liar.get('/api/v1/search', (_req, res) => {
      res.json({ results: [{ ...honest.results[0], index: '8' }], next_cursor: null });
    });
    const liarServer = await listen(liar, '127.0.0.1', 0);
    try {
      const lie = await runCli(['--url', liarServer.url, '--digest', createHash('sha256').update('artifact 9').digest('hex')]);
      expect(lie.code).toBe(1);
      expect(lie.stdout).toBe('');
      expect(lie.stderr).toMatch(/inclusion proof does not verify/);
    } finally {
      await liarServer.close();
    }
    const bad = await runCli(['--url', server.url, '--digest', 'nothex']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/digest/);
  }, 60_000);
});
