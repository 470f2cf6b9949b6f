// search-pages.ts serves the real search API (monitor/search-http.ts) over a small real log (signed
// leaves accepted by the log's own parsers, stored as C2SP tiles, read through TileHashReader) and
// the search page in front of it, on loopback. Used by monitor/search-page.test.ts and the browser
// test (test/e2e/pages.test.ts). `tamper` makes the tiles lie, so proofs stop verifying.
import { createHash } from 'node:crypto';
import type { Router } from 'express';
import { createHttpApp, finishHttpApp, listen, type Listening } from '../platform/http.ts';
import { silentLogger } from '../platform/logger.ts';
import { applyMigrations } from '../platform/migrate.ts';
import { createPageAssets } from '../platform/page.ts';
import { formatCheckpoint } from '../tlog/checkpoint.ts';
import { hashLeaf } from '../tlog/merkle.ts';
import { signNote } from '../tlog/note.ts';
import { generateSignerKey, parseVerifierKey } from '../tlog/note-key.ts';
import { formatTilePath } from '../tlog/tile.ts';
import { TileHashReader } from '../tlog/tile-hash-reader.ts';
import { appendLeafHashes, EMPTY_TILE_EDGE, rootFromTileEdge } from '../tlog/tile-writer.ts';
import { parseLogEntry } from '../monitor/entry-parse.ts';
import { createSearchRouter, type VerifiedCheckpoint } from '../monitor/search-http.ts';
import { indexEvents, SEARCH_COMPONENT, SEARCH_MIGRATIONS } from '../monitor/search-index.ts';
import { createSearchPage } from '../monitor/search-page.ts';
import { createTestPki, githubClaims, issueSigner, newTestKey, signedLeaf } from '../monitor/testdata/signed-entries.ts';
import { openTestPglite } from './db.ts';

/** SEARCH_ORIGIN is the fixture log's origin. */
export const SEARCH_ORIGIN = 'log.vigil.test/pages';
/** SEARCH_IDENTITY signs every third entry (indices 0, 3, 6, ...). */
export const SEARCH_IDENTITY = 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1';
/** SEARCH_ENTRIES is the fixture log's size. */
export const SEARCH_ENTRIES = 30;

/** SearchPagesServer is the running fixture. */
export interface SearchPagesServer {
  url: string;
  /** artifact(i) is the SHA-256 hex of entry i's signed message. */
  artifact(i: number): string;
  setTamper(on: boolean): void;
  close(): Promise<void>;
}

async function buildEntries(): Promise<Uint8Array[]> {
  const pki = await createTestPki();
  const ci = await issueSigner(pki, { uri: SEARCH_IDENTITY, issuer: 'https://token.actions.githubusercontent.com', extraExtensions: githubClaims('org/repo', '.github/workflows/release.yml', 'refs/tags/v1') });
  const key = newTestKey('P-256');
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < SEARCH_ENTRIES; i++) bodies.push(signedLeaf(pki, 'hashedrekord-v2', i % 3 === 0 ? ci : key, new TextEncoder().encode(`artifact ${i}`)));
  return bodies;
}

/** startSearchPages builds the log, indexes it, and serves /api/v1/search, /search and /assets/. */
export async function startSearchPages(): Promise<SearchPagesServer> {
  const { db, drop } = await openTestPglite();
  await applyMigrations(db, SEARCH_COMPONENT, SEARCH_MIGRATIONS);
  const bodies = await buildEntries();
  const events = bodies.map((b, i) => parseLogEntry(SEARCH_ORIGIN, BigInt(i), b));
  await db.transaction((tx) => indexEvents(tx, events));
  const { tiles: written, edge } = appendLeafHashes(EMPTY_TILE_EDGE, bodies.map(hashLeaf));
  const tiles = new Map(written.map((t) => [formatTilePath(t.tile), t.data]));
  const logKey = generateSignerKey(SEARCH_ORIGIN);
  const rootHash = rootFromTileEdge(edge);
  const checkpoint: VerifiedCheckpoint = { note: signNote(formatCheckpoint({ origin: SEARCH_ORIGIN, size: edge.size, root: rootHash }), [logKey.signer]), size: edge.size, rootHash };
  let tamper = false;
  const app = createHttpApp({ component: 'monitor', logger: silentLogger() });
  app.use(createPageAssets());
  app.use(createSearchRouter({
    db,
    logger: silentLogger(),
    checkpointFor: async (origin) => (origin === SEARCH_ORIGIN ? checkpoint : undefined),
    hashReaderFor: () => new TileHashReader({ size: checkpoint.size, root: checkpoint.rootHash }, async (tile) => tiles.get(formatTilePath(tile))!),
    entryAt: async (_origin, index) => bodies[Number(index)]!,
  }));
  let server: Listening | undefined;
  // The page reaches the API through a tampering proxy route, so a lying server can be simulated.
  app.get('/lying/api/v1/search', async (req, res) => {
    const answer = await fetch(`${server!.url}/api/v1/search?${new URLSearchParams(req.query as Record<string, string>)}`);
    const body = (await answer.json()) as { results?: { body: string }[] };
    if (tamper) for (const r of body.results ?? []) r.body = Buffer.from('{"tampered":true}').toString('base64');
    res.status(answer.status).json(body);
  });
  const logKeys = new Map([[SEARCH_ORIGIN, [parseVerifierKey(logKey.vkey)]]]);
  // The page needs the server's URL, known only once it listens.
  let page: Router | undefined;
  app.use((req, res, next) => page!(req, res, next));
  finishHttpApp(app, silentLogger());
  server = await listen(app, '127.0.0.1', 0);
  page = createSearchPage({ logKeys, logger: silentLogger(), searchUrl: `${server.url}/lying/api/v1/search` });
  return {
    url: server.url,
    artifact: (i) => createHash('sha256').update(`artifact ${i}`).digest('hex'),
    setTamper: (on) => void (tamper = on),
    async close() {
      await server!.close();
      await drop();
    },
  };
}
