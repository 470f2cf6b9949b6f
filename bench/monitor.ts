// monitor.ts benchmarks the monitor's range pipeline end to end in one worker process: fetch the
// bundles and tiles over loopback HTTP, verify every entry against the authenticated tree, parse,
// write the search index and findings to PostgreSQL, match rules. Entries per second with 1, 1,000
// and 100,000 watch rules (DESIGN.md target: ≥ 25,000 entries/s per worker, rule count within
// 1.3×), and the share of verification alone (entry format "opaque": no parse, index or match).
// The log holds hashedrekord 0.0.2 leaves signed with 16 keys (P-256), repeated; one in 256 matches a rule.
// With VIGIL_BENCH_LEAVES=certificate, each leaf carries a Fulcio-style certificate with GitHub CI
// claims instead (16 signers, as most of Rekor does), the rules still watching one signer's key.
//
// Then the same range jobs run by 1, 2 and 3 `vigil monitor work` processes over BullMQ (Redis),
// 1,000 rules, measured from the enqueue to the last range committed. Each run also prints its CPU
// per entry, the worker's and PostgreSQL's apart: on one machine they share the cores, so the
// worker's own ceiling (1e6 / its µs per entry) is what a worker does with the database elsewhere.
//
//   npx tsx bench/monitor.ts                       10,240 entries per run, 4 jobs at once per worker
//   VIGIL_BENCH_JOBS=2 npx tsx bench/monitor.ts    range jobs at once per worker (workerConcurrency)
//   VIGIL_BENCH_ENTRIES_PER_JOB=256 npx tsx bench/monitor.ts   range size (entriesPerJob; default the config's, 1,024)
//   VIGIL_BENCH_ENTRIES=25600 npx tsx bench/monitor.ts
//   VIGIL_BENCH_PROCS=0 npx tsx bench/monitor.ts   skip the multi-process part
//   VIGIL_BENCH_LEAVES=certificate npx tsx bench/monitor.ts   certificate-signed leaves (default: bare keys)
//   VIGIL_BENCH_WORKER_CPU_PROF=/tmp/prof npx tsx bench/monitor.ts   --cpu-prof the worker processes
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../platform/clock.ts';
import { openDb } from '../platform/db.ts';
import { silentLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { openQueue } from '../platform/queue.ts';
import { DEFAULT_ENTRIES_PER_JOB, parseFollowedLog } from '../monitor/config.ts';
import { createLogClient } from '../monitor/log-client.ts';
import { MONITOR_QUEUE_NAME } from '../monitor/main.ts';
import { newMonitorMetrics } from '../monitor/metrics.ts';
import { migrateMonitor } from '../monitor/schema.ts';
import { SEARCH_MIGRATIONS } from '../monitor/search-index.ts';
import type { RangeJob } from '../monitor/state.ts';
import { LogTailer } from '../monitor/tailer.ts';
import { freshSchemaName } from '../test/db.ts';
import { REPO_ROOT } from '../test/vectors.ts';
import type { RuleSet, WatchRule } from '../monitor/rules.ts';
import { startHarness } from '../test/monitor-harness.ts';
import { EntryLog, newTestKey, serveFiles, signedLeaves } from '../test/monitor-log.ts';
import { createTestPki, githubClaims, issueSigner, signedLeaf, type CertSigner } from '../monitor/testdata/signed-entries.ts';
import { POSTGRES_URL, REDIS_URL, serviceAvailable } from '../test/services.ts';
import { machineLine, pgBackendCpuMs, printTable, processCpuMs, stopChild, type BenchResult } from './harness.ts';

const ENTRIES = Number(process.env.VIGIL_BENCH_ENTRIES ?? 10_240);
const JOBS = Number(process.env.VIGIL_BENCH_JOBS ?? 4);
const PER_JOB = Number(process.env.VIGIL_BENCH_ENTRIES_PER_JOB ?? DEFAULT_ENTRIES_PER_JOB);
const LEAVES = process.env.VIGIL_BENCH_LEAVES ?? 'key';
if (LEAVES !== 'key' && LEAVES !== 'certificate') throw new Error(`VIGIL_BENCH_LEAVES: want key or certificate, got ${JSON.stringify(LEAVES)}`);
/** WARM_ENTRIES are the first entries (a quarter, at most 2,560), run by the worker processes before the measured part. */
const WARM_ENTRIES = Math.max(256, Math.min(2560, Math.floor(ENTRIES / 4 / 256) * 256));
const ORIGIN = 'bench.vigil.test/monitor';

function rulesOf(n: number, hit: string): RuleSet {
  const rules: WatchRule[] = [{ id: 'hit', subscriberId: 's', target: 'key', match: 'exact', pattern: hit }];
  for (let i = 1; i < n; i++) {
    const slot = i % 4;
    if (slot === 0) rules.push({ id: `r${i}`, subscriberId: `s${i % 977}`, target: 'identity', match: 'exact', pattern: `dev@org${i}.example` });
    else if (slot === 1) rules.push({ id: `r${i}`, subscriberId: `s${i % 977}`, target: 'key', match: 'exact', pattern: createHash('sha256').update(`k${i}`).digest('hex') });
    else if (slot === 2) rules.push({ id: `r${i}`, subscriberId: `s${i % 977}`, target: 'identity', match: 'glob', pattern: `https://github.com/org${i}/*/.github/workflows/*.yml@refs/tags/*` });
    else rules.push({ id: `r${i}`, subscriberId: `s${i % 977}`, target: 'namespace', match: 'glob', pattern: `pkg:npm/@org${i}/*` });
  }
  return { rules, policies: [] };
}

/** CpuShare is where one run's CPU went, per entry: this process (worker, tailer and the log's file server) and PostgreSQL. */
interface CpuShare {
  name: string;
  workerUs: number;
  postgresUs: number;
}

const cpuShares: CpuShare[] = [];

async function run(name: string, log: EntryLog, opts: { rules?: RuleSet; entryFormat?: 'rekor' | 'opaque'; indexEvents?: () => Promise<void> }): Promise<BenchResult> {
  const server = await serveFiles(log.files);
  const h = await startHarness({ origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey], concurrency: JOBS, entriesPerJob: PER_JOB, ...opts });
  try {
    const schema = (await h.db.query<{ schema: string }>('SELECT current_schema() AS schema'))[0]!.schema;
    const pg0 = await pgBackendCpuMs(h.db, schema);
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const out = await h.poll(); // verify the checkpoint, record the ranges, run every range job
    const elapsed = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    cpuShares.push({ name, workerUs: (cpu.user + cpu.system) / ENTRIES, postgresUs: ((await pgBackendCpuMs(h.db, schema)) - pg0) * 1000 / ENTRIES });
    if ((await h.cursor()) !== log.size) throw new Error(`${name}: cursor did not reach the head (${out.result}: ${out.message})`);
    return { name, opsPerSec: (ENTRIES * 1000) / elapsed, iterations: 1 };
  } finally {
    await h.close();
    await server.close();
  }
}

// One leaf in 256 is by the watched key (keys[0]): a finding per bundle, as a busy rule would have.
function keyPool(): { pool: Uint8Array[]; hit: string } {
  const keys = Array.from({ length: 16 }, () => newTestKey('P-256'));
  const pool = [...signedLeaves(keys[0]!, 1), ...keys.slice(1).flatMap((k) => signedLeaves(k, 17))];
  return { pool, hit: createHash('sha256').update(keys[0]!.spki).digest('hex') };
}

// The same mix with certificate-signed leaves: 16 GitHub workflow signers, 272 distinct leaves.
async function certificatePool(): Promise<{ pool: Uint8Array[]; hit: string }> {
  const pki = await createTestPki();
  const signers = await Promise.all(Array.from({ length: 16 }, (_, i) => issueSigner(pki, {
    uri: `https://github.com/org/repo-${i}/.github/workflows/release.yml@refs/tags/v1`,
    issuer: 'https://token.actions.githubusercontent.com',
    extraExtensions: githubClaims(`org/repo-${i}`, '.github/workflows/release.yml', 'refs/tags/v1'),
  })));
  const leaves = (s: CertSigner, n: number) => Array.from({ length: n }, () => signedLeaf(pki, 'hashedrekord-v2', s, randomBytes(32)));
  const pool = [...leaves(signers[0]!, 1), ...signers.slice(1).flatMap((s) => leaves(s, 17))];
  return { pool, hit: createHash('sha256').update(signers[0]!.key.spki).digest('hex') };
}

async function main(): Promise<void> {
  if (!(await serviceAvailable('postgres'))) throw new Error('bench/monitor needs PostgreSQL');
  console.log(`monitor pipeline, one worker process (${JOBS} jobs at once, ${PER_JOB} entries each), ${ENTRIES} ${LEAVES}-signed entries per run; ${machineLine()}`);
  const { pool, hit } = LEAVES === 'key' ? keyPool() : await certificatePool();
  const log = new EntryLog(ORIGIN).append(Array.from({ length: ENTRIES }, (_, i) => pool[i % pool.length]!));
  const results: BenchResult[] = [];
  await run('warm-up (not reported)', log, { rules: rulesOf(1, hit) });
  results.push(await run('fetch + verify only (opaque entries)', log, { entryFormat: 'opaque' }));
  results.push(await run('fetch, verify, parse, match (no search index): 1 rule', log, { rules: rulesOf(1, hit), indexEvents: async () => {} }));
  for (const n of [1, 1_000, 100_000]) {
    results.push(await run(`fetch, verify, parse, index, match: ${n} rules`, log, { rules: rulesOf(n, hit) }));
  }
  const procs = (process.env.VIGIL_BENCH_PROCS ?? '1,2,3').split(',').map(Number).filter((n) => n > 0);
  const multi: BenchResult[] = [];
  if (procs.length > 0 && (await serviceAvailable('redis'))) {
    for (const n of procs) multi.push(await runProcesses(n, log, rulesOf(1_000, hit)));
  }
  printTable('worker processes over BullMQ, 1000 rules (all entries, all processes)', multi);
  printTable('entries per second', results, {
    'fetch, verify, parse, index, match: 100000 rules': 'fetch, verify, parse, index, match: 1 rules',
    'fetch, verify, parse, index, match: 1000 rules': 'fetch, verify, parse, index, match: 1 rules',
  });
  // Both share this machine's cores: a worker's own ceiling is 1e6 / its µs per entry, reached
  // where the database runs elsewhere.
  console.log('\nCPU per entry (µs): worker = the worker process(es) (in-process runs: also the tailer and the log file server); PostgreSQL = its backends for this run');
  for (const c of cpuShares) {
    console.log(`  ${c.name.padEnd(62)} worker ${c.workerUs.toFixed(1).padStart(6)}  PostgreSQL ${c.postgresUs.toFixed(1).padStart(6)}  (worker alone: ${(1000 / c.workerUs).toFixed(1)} k entries/s per core)`);
  }
}

// runProcesses starts n `vigil monitor work` processes, waits for them, then records and enqueues
// every range with a tailer in this process and times until the last range is done.
async function runProcesses(n: number, log: EntryLog, rules: RuleSet): Promise<BenchResult> {
  // The workers first run the ranges of a prefix of the log (not measured), so that their lazy
  // loading and first-use costs are not counted; then the server serves the whole log.
  const warm = log.fork(WARM_ENTRIES);
  const server = await serveFiles(warm.files);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-monitor-'));
  const schema = freshSchemaName('benchmon');
  const prefix = `vb${randomBytes(4).toString('hex')}`;
  writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules));
  const logConfig = { origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey] };
  writeFileSync(join(dir, 'monitor.json'), JSON.stringify({ logs: [logConfig], rulesFile: 'rules.json', workerConcurrency: JOBS }));
  const db = await openDb({ url: POSTGRES_URL, schema });
  await migrateMonitor(db, SEARCH_MIGRATIONS);
  const dbUrl = new URL(POSTGRES_URL);
  dbUrl.searchParams.set('application_name', schema);
  const env = { ...process.env, VIGIL_DATABASE_URL: dbUrl.toString(), VIGIL_DATABASE_SCHEMA: schema, VIGIL_REDIS_URL: REDIS_URL, VIGIL_REDIS_PREFIX: prefix, VIGIL_LOG_LEVEL: 'warn' };
  const children: ChildProcess[] = [];
  // VIGIL_BENCH_WORKER_CPU_PROF=<dir>: --cpu-prof each worker (written at its SIGTERM exit).
  const prof = process.env.VIGIL_BENCH_WORKER_CPU_PROF;
  const profileArgs = prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [];
  const queue = await openQueue<RangeJob>({ name: MONITOR_QUEUE_NAME, redisUrl: REDIS_URL, prefix });
  try {
    await Promise.all(
      Array.from({ length: n }, () => {
        const child = spawn(process.execPath, [...profileArgs, '--import', 'tsx', 'bin/vigil.ts', 'monitor', 'work', '--config', join(dir, 'monitor.json')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(child);
        return new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      }),
    );
    const problems: string[] = [];
    const followed = parseFollowedLog(logConfig, 'log', '.', problems);
    const tailer = new LogTailer(followed, { entriesPerJob: PER_JOB, requeueAfterMs: 600_000, unreachableAfterMs: 600_000 }, {
      db, queue, client: createLogClient(followed, 10_000), metrics: newMonitorMetrics(createMetricsRegistry({}, false)), logger: silentLogger(), clock: systemClock,
    });
    const allDone = async () => {
      for (;;) {
        const rows = await db.query<{ n: bigint }>("SELECT count(*) AS n FROM monitor_ranges WHERE state <> 'done'");
        if (rows[0]!.n === 0n) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await tailer.poll(1n);
    await allDone();
    server.files = log.files;
    const workerCpu0 = children.reduce((t, c) => t + processCpuMs(c.pid!), 0);
    const pg0 = await pgBackendCpuMs(db, schema);
    const start = performance.now();
    await tailer.poll(1n);
    await allDone();
    const elapsed = performance.now() - start;
    const name = `${n} worker process${n > 1 ? 'es' : ''} (${JOBS} jobs each)`;
    const workerMs = children.reduce((t, c) => t + processCpuMs(c.pid!), 0) - workerCpu0;
    const measured = ENTRIES - WARM_ENTRIES;
    cpuShares.push({ name, workerUs: (workerMs * 1000) / measured, postgresUs: (((await pgBackendCpuMs(db, schema)) - pg0) * 1000) / measured });
    return { name, opsPerSec: (measured * 1000) / elapsed, iterations: 1 };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await queue.close();
    await db.query(`DROP SCHEMA ${schema} CASCADE`);
    await db.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
