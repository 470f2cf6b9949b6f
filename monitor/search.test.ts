// The search index and its queries on both databases, over real entries: leaves of Vigil's own log
// signed here, and the real Rekor v2 leaves of ../shared/vectors/rekor/rekor-v2-inclusion.json.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db.ts';
import { applyMigrations } from '../platform/migrate.ts';
import { openTestPg, openTestPglite } from '../test/db.ts';
import { serviceAvailable } from '../test/services.ts';
import { b64, readVectorJson, VECTORS_AVAILABLE } from '../test/vectors.ts';
import { parseLogEntry } from './entry-parse.ts';
import { isMonitorError } from './errors.ts';
import { indexEvents, SEARCH_COMPONENT, SEARCH_MIGRATIONS } from './search-index.ts';
import { formatCursor, parseCursor, searchEntries, type SearchQuery } from './search.ts';
import type { SigningEvent } from './signing-event.ts';
import { createTestPki, githubClaims, inTotoStatement, issueSigner, newTestKey, signedLeaf } from './testdata/signed-entries.ts';

const hasPostgres = await serviceAvailable('postgres');
const ORIGIN = 'log.vigil.test/search';
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

interface Corpus {
  events: SigningEvent[];
  releaseDigest: string;
  keyFingerprint: string;
  npmPayloadDigest: string;
}

// buildCorpus signs 12 entries: 4 by a GitHub workflow, 4 by an email signer, 4 by a bare key
// (dsse with an in-toto payload naming an npm package), across all four body shapes.
async function buildCorpus(): Promise<Corpus> {
  const pki = await createTestPki();
  const uri = 'https://github.com/Org/Repo/.github/workflows/release.yml@refs/tags/v1';
  const ci = await issueSigner(pki, { uri, issuer: 'https://token.actions.githubusercontent.com', extraExtensions: githubClaims('Org/Repo', '.github/workflows/release.yml', 'refs/tags/v1') });
  const mail = await issueSigner(pki, { email: 'Alice@Example.com', issuer: 'https://accounts.example.com' });
  const key = newTestKey('P-256');
  const events: SigningEvent[] = [];
  let index = 0n;
  const push = (body: Uint8Array, payload?: Uint8Array) => events.push(parseLogEntry(ORIGIN, index++, body, payload ? { dssePayload: payload } : {}));
  for (let i = 0; i < 4; i++) push(signedLeaf(pki, i % 2 ? 'hashedrekord-v2' : 'hashedrekord-v1', ci, new TextEncoder().encode(`release ${i}`)));
  for (let i = 0; i < 4; i++) push(signedLeaf(pki, i % 2 ? 'hashedrekord-v2' : 'dsse-v2', mail, new TextEncoder().encode(`mail ${i}`)));
  for (let i = 0; i < 4; i++) {
    const payload = inTotoStatement([{ name: `pkg:npm/%40scope/tool@1.0.${i}`, sha256: sha(`tool ${i}`) }]);
    push(signedLeaf(pki, i % 2 ? 'dsse-v1' : 'dsse-v2', key, payload), payload);
  }
  return { events, releaseDigest: sha('release 2'), keyFingerprint: sha(key.spki), npmPayloadDigest: sha('tool 3') };
}

async function all(db: Db, q: SearchQuery): Promise<bigint[]> {
  const out: bigint[] = [];
  let after = q.after;
  for (;;) {
    const page = await searchEntries(db, { ...q, ...(after ? { after } : {}) });
    out.push(...page.hits.map((h) => h.index));
    if (page.next === undefined) return out;
    after = parseCursor(formatCursor(page.next));
  }
}

function suite(open: () => Promise<{ db: Db; drop: () => Promise<void> }>) {
  let opened: { db: Db; drop: () => Promise<void> };
  let corpus: Corpus;
  beforeAll(async () => {
    [opened, corpus] = await Promise.all([open(), buildCorpus()]);
    await applyMigrations(opened.db, SEARCH_COMPONENT, SEARCH_MIGRATIONS);
    await opened.db.transaction((tx) => indexEvents(tx, corpus.events));
  });
  afterAll(async () => opened?.drop());

  it('is idempotent: re-indexing the same (log, index) adds nothing', async () => {
    const count = async () => (await opened.db.query<{ n: bigint }>('SELECT count(*)::int8 AS n FROM monitor_search_entries'))[0]!.n;
    // An entry's first digest is in its row, the others in the side table: together, each once.
    const digests = async () =>
      (await opened.db.query<{ n: bigint }>('SELECT (SELECT count(digest_hex) FROM monitor_search_entries) + (SELECT count(*) FROM monitor_search_digests) AS n'))[0]!.n;
    const before = [await count(), await digests()];
    await opened.db.transaction((tx) => indexEvents(tx, [...corpus.events, ...corpus.events.slice(0, 3)]));
    expect([await count(), await digests()]).toEqual(before);
    expect(before[0]).toBe(12n);
    const distinct = corpus.events.reduce((n, e) => n + new Set(e.artifactDigests.map((d) => d.hex)).size, 0);
    expect(before[1]).toBe(BigInt(distinct));
    expect((await opened.db.query<{ n: bigint }>('SELECT count(*)::int8 AS n FROM monitor_search_digests'))[0]!.n).toBeGreaterThan(0n); // the corpus has multi-subject dsse
  });

  it('serves issuer, time and digest searches from the partial indexes (rows without issuer, time or digest are not in them)', async () => {
    // With sequential scans priced out, the plan shows whether the partial index can answer the
    // search's own predicates: `=` and `>=` imply NOT NULL, which is the index's WHERE.
    const plan = async (where: string, param: string | number) =>
      opened.db.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT log_index FROM monitor_search_entries e WHERE ${where}`, [param]);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    expect(await plan('e.issuer_norm = $1', 'https://token.actions.githubusercontent.com')).toContain('monitor_search_issuer_idx');
    expect(await plan('e.signed_at >= $1', 0)).toContain('monitor_search_time_idx');
    const digestPlan = await plan('e.digest_hex = $1', corpus.releaseDigest);
    expect(digestPlan).toContain('monitor_search_digest_idx');
    const partial = await opened.db.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'monitor_search_entries' AND indexname IN ('monitor_search_issuer_idx', 'monitor_search_time_idx') ORDER BY indexname",
    );
    expect(partial.map((r) => [r.indexname, /WHERE \(\w+ IS NOT NULL\)/.test(r.indexdef)])).toEqual([
      ['monitor_search_issuer_idx', true],
      ['monitor_search_time_idx', true],
    ]);
  });

  it('finds by artifact digest, with or without an algorithm prefix', async () => {
    expect(await all(opened.db, { digest: corpus.releaseDigest })).toEqual([2n]);
    expect(await all(opened.db, { digest: `sha256:${corpus.releaseDigest.toUpperCase()}` })).toEqual([2n]);
    expect(await all(opened.db, { digest: corpus.npmPayloadDigest })).toEqual([11n]); // an in-toto subject
    expect(await all(opened.db, { digest: 'f'.repeat(64) })).toEqual([]);
  });

  it('finds by identity exactly (normalised as watch rules are) and by prefix', async () => {
    expect(await all(opened.db, { identity: 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1' })).toEqual([0n, 1n, 2n, 3n]);
    expect(await all(opened.db, { identity: 'alice@example.com' })).toEqual([4n, 5n, 6n, 7n]);
    expect(await all(opened.db, { identityPrefix: 'https://GitHub.com/ORG/' })).toEqual([0n, 1n, 2n, 3n]);
    expect(await all(opened.db, { identityPrefix: 'https://github.com/org/other' })).toEqual([]);
    expect(await all(opened.db, { identity: corpus.keyFingerprint })).toEqual([8n, 9n, 10n, 11n]);
  });

  it('finds by issuer, namespace (purl without version, repository, email domain) and key', async () => {
    expect(await all(opened.db, { issuer: 'https://accounts.example.com' })).toEqual([4n, 5n, 6n, 7n]);
    expect(await all(opened.db, { namespace: 'pkg:npm/@scope/tool' })).toEqual([8n, 9n, 10n, 11n]);
    expect(await all(opened.db, { namespace: 'https://github.com/org/repo' })).toEqual([0n, 1n, 2n, 3n]);
    expect(await all(opened.db, { namespace: 'example.com' })).toEqual([4n, 5n, 6n, 7n]);
    expect(await all(opened.db, { keyFingerprint: corpus.keyFingerprint.toUpperCase() })).toEqual([8n, 9n, 10n, 11n]);
  });

  it('combines criteria, filters by time and log, and pages by keyset without gaps or repeats', async () => {
    const notBefore = corpus.events[0]!.certificateNotBeforeSec!;
    expect(await all(opened.db, { sinceSec: notBefore, untilSec: notBefore, limit: 3 })).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n]);
    expect(await all(opened.db, { sinceSec: notBefore + 1 })).toEqual([]); // key-signed entries have no time
    expect(await all(opened.db, { issuer: 'https://accounts.example.com', digest: sha('mail 1') })).toEqual([5n]);
    expect(await all(opened.db, { issuer: 'https://accounts.example.com', log: 'other.log' })).toEqual([]);
    const page = await searchEntries(opened.db, { identity: 'alice@example.com', limit: 2 });
    expect(page.hits.map((h) => h.index)).toEqual([4n, 5n]);
    expect(page.next).toEqual({ logOrigin: ORIGIN, index: 5n });
    expect(page.hits[0]).toEqual({ logOrigin: ORIGIN, index: 4n, signedAtSec: corpus.events[4]!.certificateNotBeforeSec });
  });

  it('refuses bad queries with invalid_search', async () => {
    for (const q of [{}, { digest: 'abc' }, { digest: `sha512:${'a'.repeat(64)}` }, { identityPrefix: 'ht' }, { keyFingerprint: 'xyz' }, { identity: 'a\u0000b' }, { identity: 'x'.repeat(5000) }, { sinceSec: -1 }, { identity: 'a', limit: 1000 }]) {
      const err = await searchEntries(opened.db, q as SearchQuery).catch((e: unknown) => e);
      expect(isMonitorError(err, 'invalid_search'), JSON.stringify(q)).toBe(true);
    }
    for (const c of ['!!', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["a","01"]').toString('base64url')]) expect(() => parseCursor(c)).toThrow(/cursor/);
  });

  it('stores what PostgreSQL text cannot hold (U+0000, lone surrogates) without failing the batch', async () => {
    const e = corpus.events[4]!;
    const evil: SigningEvent = { ...e, index: 1000n, identity: { kind: 'email', san: 'eve@example.com\u0000.evil', issuer: 'https://x\uD800', ci: {} } };
    await opened.db.transaction((tx) => indexEvents(tx, [evil]));
    expect(await all(opened.db, { identity: 'eve@example.com\uFFFD.evil' })).toEqual([1000n]);
  });

  it.skipIf(!VECTORS_AVAILABLE)('indexes real Rekor v2 leaves (shared/vectors/rekor/rekor-v2-inclusion.json)', async () => {
    const file = readVectorJson('rekor/rekor-v2-inclusion.json');
    const events = file.vectors.map((v: any) => parseLogEntry(file.log.origin, BigInt(v.log_index), b64(v.entry_b64)));
    await opened.db.transaction((tx) => indexEvents(tx, events));
    expect(await all(opened.db, { identity: 'brian@dehamer.com', log: file.log.origin })).toEqual([544346n]);
    expect(await all(opened.db, { digest: sha('hello, world!'), log: file.log.origin })).toEqual([544346n, 547661n]);
  });
}

describe.skipIf(!hasPostgres)('search index on PostgreSQL', () => suite(() => openTestPg('msearch')));
describe('search index on PGlite', () => suite(() => openTestPglite()));
