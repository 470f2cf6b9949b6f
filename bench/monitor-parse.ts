// monitor-parse.ts benchmarks the monitor's per-entry parse (monitor/entry-parse.ts) and the search
// index write (monitor/search-index.ts): entries parsed per second for each leaf shape, and
// entries parsed and indexed per second in batches of 500 (one transaction each) on PGlite and,
// when it answers, PostgreSQL. Leaves are the real Rekor v2 ones of
// ../shared/vectors/rekor/rekor-v2-inclusion.json and Vigil leaves with Fulcio-style CI
// certificates signed here.
//
//   npx tsx bench/monitor-parse.ts                     about 1 s per measurement
//   VIGIL_BENCH_MS=300 npx tsx bench/monitor-parse.ts  shorter
import { parseLogEntry } from '../monitor/entry-parse.ts';
import type { SigningEvent } from '../monitor/signing-event.ts';
import { indexEvents, SEARCH_COMPONENT, SEARCH_MIGRATIONS } from '../monitor/search-index.ts';
import { createTestPki, githubClaims, issueSigner, newTestKey, signedLeaf } from '../monitor/testdata/signed-entries.ts';
import { openDb, type Db } from '../platform/db.ts';
import { applyMigrations } from '../platform/migrate.ts';
import { b64, readVectorJson } from '../test/vectors.ts';
import { freshSchemaName } from '../test/db.ts';
import { POSTGRES_URL, serviceAvailable } from '../test/services.ts';
import { machineLine, measure, printTable, type BenchResult } from './harness.ts';

const BATCH = 500;

async function leaves(): Promise<Record<string, Uint8Array>> {
  const rekor = readVectorJson('rekor/rekor-v2-inclusion.json');
  const pki = await createTestPki();
  const ci = await issueSigner(pki, {
    uri: 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1',
    issuer: 'https://token.actions.githubusercontent.com',
    extraExtensions: githubClaims('org/repo', '.github/workflows/release.yml', 'refs/tags/v1'),
  });
  return {
    'Rekor v2 hashedrekord 0.0.2, bare key (real)': b64(rekor.vectors[0].entry_b64),
    'Rekor v2 dsse 0.0.2, Fulcio certificate (real)': b64(rekor.vectors[1].entry_b64),
    'Vigil hashedrekord 0.0.1, CI certificate': signedLeaf(pki, 'hashedrekord-v1', ci, new TextEncoder().encode('a')),
    'Vigil dsse 0.0.1, bare key': signedLeaf(pki, 'dsse-v1', newTestKey('P-256'), new TextEncoder().encode('{}')),
  };
}

async function benchIndex(name: string, db: Db, bodies: Uint8Array[]): Promise<BenchResult> {
  await applyMigrations(db, SEARCH_COMPONENT, SEARCH_MIGRATIONS);
  let next = 0n;
  return measure(
    name,
    async () => {
      const events: SigningEvent[] = [];
      for (let i = 0; i < BATCH; i++) events.push(parseLogEntry('bench.log', next++, bodies[i % bodies.length]!));
      await db.transaction((tx) => indexEvents(tx, events));
    },
    { batch: BATCH },
  );
}

async function main(): Promise<void> {
  console.log(`monitor parse + search index bench — ${machineLine()}`);
  const shapes = await leaves();
  const parse: BenchResult[] = [];
  for (const [name, body] of Object.entries(shapes)) {
    let i = 0n;
    parse.push(await measure(`parse: ${name}`, () => parseLogEntry('bench.log', i++, body)));
  }
  printTable('entries parsed per second (one core)', parse);
  // A realistic Rekor mix: most entries certificate-signed.
  const mix = Object.values(shapes);
  const index: BenchResult[] = [];
  const pglite = await openDb({ dataDir: 'memory://' });
  index.push(await benchIndex(`parse + index, PGlite, batches of ${BATCH}`, pglite, mix));
  await pglite.close();
  if (await serviceAvailable('postgres')) {
    const schema = freshSchemaName('bench_search');
    const pg = await openDb({ url: POSTGRES_URL, schema });
    index.push(await benchIndex(`parse + index, PostgreSQL, batches of ${BATCH}`, pg, mix));
    await pg.query(`DROP SCHEMA ${schema} CASCADE`);
    await pg.close();
  }
  printTable('entries parsed and indexed per second (mix of the four shapes)', index);
}

await main();
