// log.ts measures the log's write path (DESIGN "Performance targets": ≥ 10,000 entries/s sustained,
// p99 from request to inclusion ≤ 1 s; append cost flat from 1k to 1M entries, within 1.2×).
//
// 1. Over loopback HTTP: the real CLI (`vigil log serve`, default batching: ≤ 250 ms or 4,096
//    entries) in a child process, with PGlite in its data folder and with PostgreSQL, driven by an
//    in-process client with keep-alive connections, closed loop. Requests are signed before the
//    clock starts. Every 201 carries the entry's inclusion proof against a signed checkpoint, so
//    the latency is request → acknowledged inclusion.
//      dsse (v2)            ECDSA P-256 over the PAE, verified by node:crypto
//      hashedrekord (v2)    ECDSA P-256 over a digest, verified by @noble/curves (prehash: false)
//      dsse, certificate    dsse (v2) signed with a Fulcio-shaped leaf certificate (fresh key and
//                           certificate per request, P-384 intermediate, CI claims) that the log
//                           reads and chains to the CA file it was started with: what Vigil's own
//                           CA and Fulcio produce
// 2. Append cost vs tree size, through the log core (createLog/addEntry, no HTTP, no signature
//    checks): the rate of appending a fixed workload at each tree size, pre-filling in between.
//
//   npx tsx bench/log.ts
//   VIGIL_BENCH_LOG_DSSE=20000 VIGIL_BENCH_LOG_HASHEDREKORD=3000 npx tsx bench/log.ts   requests
//   VIGIL_BENCH_LOG_CERT=4000 npx tsx bench/log.ts                                       certificate requests
//   VIGIL_BENCH_LOG_SIZES=1000,100000,1000000 npx tsx bench/log.ts                      tree sizes
//   VIGIL_BENCH_LOG_SKIP=http|sizes                                                     one part
//   VIGIL_BENCH_LOG_CPU_PROF=/tmp/prof npx tsx bench/log.ts                               --cpu-prof each server
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import { initLog } from '../log/log-state.ts';
import { createLog } from '../log/log.ts';
import { systemClock } from '../platform/clock.ts';
import { openDb, type Db } from '../platform/db.ts';
import { silentLogger } from '../platform/logger.ts';
import { freshSchemaName } from '../test/db.ts';
import { createIntermediateCa, createRootCa, githubClaims, issueLeaf, type TestCa } from '../log/kinds/testdata/pki.ts';
import { keyFromPrivate } from '../log/kinds/testdata/requests.ts';
import { formatPem } from '../log/kinds/pem.ts';
import { dsseV2Request, hashedRekordV2Request, newTestKey, randomPayload } from '../test/log-requests.ts';
import { POSTGRES_URL, serviceAvailable } from '../test/services.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { latencyQuantiles, machineLine, postBody, printTable, runVigil, serveVigil, type BenchResult, type Served } from './harness.ts';

const DSSE_REQUESTS = Number(process.env.VIGIL_BENCH_LOG_DSSE ?? 12_000);
const HASHEDREKORD_REQUESTS = Number(process.env.VIGIL_BENCH_LOG_HASHEDREKORD ?? 3_000);
const CERT_REQUESTS = Number(process.env.VIGIL_BENCH_LOG_CERT ?? 3_000);
const SIZES = (process.env.VIGIL_BENCH_LOG_SIZES ?? '1000,100000,1000000').split(',').map(Number);
const SKIP = process.env.VIGIL_BENCH_LOG_SKIP ?? '';
const CONNECTIONS = Number(process.env.VIGIL_BENCH_LOG_CLIENTS ?? 4096);
const VERIFY_WORKERS = availableParallelism();
const WORKLOAD = 20_000; // entries appended at each tree size

/** serveLog runs `vigil log init` and `vigil log serve` in a temp folder, trusting the CAs in `ca`. */
async function serveLog(env: NodeJS.ProcessEnv, verifyWorkers: number, ca: readonly TestCa[]): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-log-'));
  await runVigil(['log', 'init', '--origin', 'bench.vigil.test/log', '--data', dir], env);
  const configFile = join(dir, 'log.json');
  writeFileSync(join(dir, 'ca.pem'), ca.map((c) => formatPem('CERTIFICATE', c.der)).join(''));
  writeFileSync(configFile, JSON.stringify({ maxPendingEntries: 100_000, verifyWorkers, caRoots: 'ca.pem' }));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  // stop() is a SIGTERM: a clean exit writes the CPU profile.
  const prof = process.env.VIGIL_BENCH_LOG_CPU_PROF;
  const nodeArgs = prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [];
  return serveVigil(['log', 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--config', configFile], env, { nodeArgs, cleanup });
}

const JSON_HEADERS = { 'content-type': 'application/json' };

interface LoadResult {
  result: BenchResult;
  p50Ms: number;
  p99Ms: number;
  serverCpuUsPerEntry: number;
  statuses: Map<number, number>;
}

/** load posts the bodies over CONNECTIONS keep-alive connections, closed loop, timing each. */
async function load(name: string, s: Served, bodies: readonly Buffer[]): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const url = new URL(`${s.url}/api/v2/log/entries`);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const cpu0 = s.cpuMs();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const t = performance.now();
        const status = await postBody(agent, url, body, JSON_HEADERS);
        latencies.push(performance.now() - t);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const elapsed = performance.now() - start;
  const serverCpuUsPerEntry = ((s.cpuMs() - cpu0) * 1000) / bodies.length;
  agent.destroy();
  return { result: { name, opsPerSec: (bodies.length * 1000) / elapsed, iterations: bodies.length }, ...latencyQuantiles(latencies), serverCpuUsPerEntry, statuses };
}

function signedBodies(n: number, make: (payload: Uint8Array) => object): Buffer[] {
  return Array.from({ length: n }, () => Buffer.from(JSON.stringify(make(randomPayload('bench')))));
}

type WithEnv = (fn: (env: NodeJS.ProcessEnv) => Promise<void>) => Promise<void>;

// certificateBodies signs n dsse requests, each with a fresh P-256 key and a leaf certificate for
// it, shaped like Fulcio's for a GitHub Actions workflow, valid for the next 30 minutes.
async function certificateBodies(n: number, intermediate: TestCa): Promise<Buffer[]> {
  const bodies: Buffer[] = [];
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + 30 * 60_000);
  const claims = githubClaims('bench/repo', '.github/workflows/release.yml', 'refs/tags/v1');
  for (let i = 0; i < n; i++) {
    const leaf = await issueLeaf(intermediate, { notBefore, notAfter, uri: 'https://github.com/bench/repo/.github/workflows/release.yml@refs/tags/v1', issuer: 'https://token.actions.githubusercontent.com', extraExtensions: claims });
    bodies.push(Buffer.from(JSON.stringify(dsseV2Request(keyFromPrivate('P-256', leaf.privateKey, leaf.spki), randomPayload('bench'), leaf.der))));
  }
  return bodies;
}

async function benchHttp(label: string, withEnv: WithEnv): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  const root = await createRootCa();
  const intermediate = await createIntermediateCa(root);
  for (const workers of [0, VERIFY_WORKERS]) await withEnv(async (env) => {
    // Fresh keys per request, as keyless signers (Fulcio certificates) have: no key is parsed twice.
    const warm = signedBodies(1000, (p) => dsseV2Request(newTestKey('P-256'), p));
    const dsse = signedBodies(DSSE_REQUESTS, (p) => dsseV2Request(newTestKey('P-256'), p));
    const hashed = signedBodies(HASHEDREKORD_REQUESTS, (p) => hashedRekordV2Request(newTestKey('P-256'), p));
    const certified = await certificateBodies(CERT_REQUESTS, intermediate);
    const s = await serveLog(env, workers, [root, intermediate]);
    const how = workers === 0 ? 'verify inline' : `${workers} verify workers`;
    try {
      await load('warm-up', s, warm);
      results.push(await load(`${label}, ${how}: dsse`, s, dsse));
      results.push(await load(`${label}, ${how}: hashedrekord P-256`, s, hashed));
      if (certified.length > 0) results.push(await load(`${label}, ${how}: dsse, certificate`, s, certified));
    } finally {
      await s.stop();
    }
  });
  return results;
}

/** appendRate appends n fresh bodies through the core in batches of `batch` and returns entries/s. */
async function appendRate(log: Awaited<ReturnType<typeof createLog>>, n: number, batch = 8192): Promise<number> {
  const start = performance.now();
  for (let done = 0; done < n; done += batch) {
    const bodies = Array.from({ length: Math.min(batch, n - done) }, () => randomBytes(400));
    await Promise.all(bodies.map((b) => log.addEntry(b)));
  }
  return (n * 1000) / (performance.now() - start);
}

async function benchSizes(label: string, db: Db): Promise<{ results: BenchResult[]; notes: string[] }> {
  const { signer } = generateSignerKey('bench.vigil.test/sizes');
  await initLog(db, { origin: signer.name, signer });
  const log = await createLog(
    { origin: signer.name, signer, maxBatchDelayMs: 5, maxPendingEntries: 100_000 },
    { db, clock: systemClock, logger: silentLogger(), metrics: new Registry() },
  );
  const results: BenchResult[] = [];
  let size = 0;
  try {
    for (const target of SIZES) {
      if (target > size) {
        const fill = await appendRate(log, target - size);
        if (target - size >= 100_000) console.log(`  ${label}: pre-filled ${size} → ${target} at ${fill.toFixed(0)} entries/s`);
        size = target;
      }
      const rate = await appendRate(log, WORKLOAD);
      size += WORKLOAD;
      results.push({ name: `${label}: append ${WORKLOAD} at tree size ${target}`, opsPerSec: rate, iterations: WORKLOAD });
    }
  } finally {
    await log.close();
  }
  const first = results[0]!;
  const last = results[results.length - 1]!;
  const ratio = first.opsPerSec / last.opsPerSec;
  return { results, notes: [`${label}: cost per entry at ${SIZES[SIZES.length - 1]} vs ${SIZES[0]}: ${ratio.toFixed(2)}× (target ≤ 1.2×)`] };
}

async function withPgSchema<T>(prefix: string, fn: (url: string, schema: string) => Promise<T>): Promise<T> {
  const schema = freshSchemaName(prefix);
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    return await fn(POSTGRES_URL, schema);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  console.log(machineLine());
  const hasPostgres = await serviceAvailable('postgres');
  if (!hasPostgres) console.log('PostgreSQL does not answer; its rows are skipped');
  if (!SKIP.includes('http')) {
    console.log(`log append over loopback HTTP (v2 API): ${DSSE_REQUESTS} dsse, ${HASHEDREKORD_REQUESTS} hashedrekord and ${CERT_REQUESTS} certificate-signed dsse requests by ${CONNECTIONS} concurrent clients (one keep-alive connection each), each signed by a fresh P-256 key; target ≥ 10,000 entries/s, p99 ≤ 1 s`);
    const results = await benchHttp('PGlite', (fn) => fn({ VIGIL_DATABASE_URL: '' }));
    if (hasPostgres) results.push(...(await benchHttp('PostgreSQL', (fn) => withPgSchema('bench_log', (url, schema) => fn({ VIGIL_DATABASE_URL: url, VIGIL_DATABASE_SCHEMA: schema })))));
    printTable('Throughput (entries acknowledged with inclusion proof per second)', results.map((r) => r.result));
    console.log('\nLatency, request → acknowledged inclusion (client-side, ms)');
    for (const r of results) {
      const statuses = [...r.statuses].map(([st, n]) => `${st}×${n}`).join(' ');
      console.log(`  ${r.result.name.padEnd(50)} p50 ${r.p50Ms.toFixed(1).padStart(7)}  p99 ${r.p99Ms.toFixed(1).padStart(7)}  server CPU ${r.serverCpuUsPerEntry.toFixed(0)} µs/entry  [${statuses}]`);
    }
  }
  if (!SKIP.includes('sizes')) {
    console.log(`\nappend cost vs tree size through the log core (no HTTP, no signatures), ${WORKLOAD} entries of 400 bytes at each size`);
    const results: BenchResult[] = [];
    const notes: string[] = [];
    if (hasPostgres) {
      const pgRun = await withPgSchema('bench_logsize', async (url, schema) => {
        const db = await openDb({ url, schema });
        try {
          return await benchSizes('PostgreSQL', db);
        } finally {
          await db.close();
        }
      });
      results.push(...pgRun.results);
      notes.push(...pgRun.notes);
    }
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-logsize-'));
    const db = await openDb({ dataDir: dir });
    try {
      const liteRun = await benchSizes('PGlite', db);
      results.push(...liteRun.results);
      notes.push(...liteRun.notes);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
    printTable('Append rate by tree size (entries/s)', results);
    console.log('');
    for (const n of notes) console.log(`  ${n}`);
  }
}

await main();
