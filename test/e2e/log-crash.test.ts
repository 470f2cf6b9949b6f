// The log as operators run it, killed under load (issue 3, "Done when"): the real CLI in a child
// process (`vigil log init`, then `vigil log serve`), concurrent writers posting v2 dsse entries
// over HTTP, SIGKILL at random moments, a restart on the same data, again and again. Writers retry
// what was in flight when the process died: a retry of an entry that had been committed must come
// back as a duplicate at the same index. At the end an independent C2SP client reads every tile and
// bundle over HTTP, authenticated against the final checkpoint, and checks that the tree is
// consistent with EVERY checkpoint ever returned to a writer and holds EVERY acknowledged entry at
// its acknowledged index. Run on PostgreSQL (a fresh schema, VIGIL_DATABASE_SCHEMA) and on PGlite.
//
//   VIGIL_CRASH_KILLS=20 npx vitest run test/e2e/log-crash.test.ts   kills per backend
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBase64, encodeHex } from '../../tlog/base64.ts';
import { openCheckpoint } from '../../tlog/checkpoint.ts';
import { hashLeaf } from '../../tlog/merkle.ts';
import { parseVerifierKey } from '../../tlog/note-key.ts';
import { verifyInclusion } from '../../tlog/proof.ts';
import { freshSchemaName } from '../db.ts';
import { dsseV2Request, newTestKey, randomPayload, verifyLogOverHttp, type AckedEntry } from '../log-http.ts';
import { POSTGRES_URL, serviceAvailable } from '../services.ts';
import { killVigilProcesses, runVigil, startVigil, type VigilProcess } from '../vigil-process.ts';

const hasPostgres = await serviceAvailable('postgres');
const ORIGIN = 'log.vigil.test/crash';
const WRITERS = 12;
const dirs: string[] = [];

afterAll(() => {
  killVigilProcesses();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Books is what the writers learnt: acknowledged entries (index by leaf) and checkpoints seen. */
class Books {
  readonly acked = new Map<string, AckedEntry>();
  readonly checkpoints = new Set<string>();
  duplicates = 0;
  failures = 0;

  record(status: number, tle: any): void {
    const leafHash = hashLeaf(decodeBase64(tle.canonicalizedBody));
    const key = encodeHex(leafHash);
    const index = BigInt(tle.logIndex);
    const before = this.acked.get(key);
    // An entry acknowledged twice (a retry after a crash) must be at the same index both times.
    if (before !== undefined) expect(index, `entry ${key} acknowledged at two indices`).toBe(before.index);
    if (status === 200) this.duplicates++;
    this.acked.set(key, { index, leafHash });
    this.checkpoints.add(tle.inclusionProof.checkpoint.envelope);
  }
}

/**
 * runWriters posts entries until stop() is called: each writer retries the same request after a
 * failure (connection reset by the kill, 503 while starting), so a committed-but-unanswered entry
 * comes back as a duplicate.
 */
function runWriters(target: () => string | undefined, books: Books, verify: (tle: any) => void): { stop(): Promise<void> } {
  let stopping = false;
  const key = newTestKey('P-256');
  const writer = async () => {
    let pending: object | undefined;
    while (!stopping || pending !== undefined) {
      const url = target();
      if (url === undefined) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const request = pending ?? dsseV2Request(key, randomPayload('crash'));
      pending = request;
      try {
        const res = await fetch(`${url}/api/v2/log/entries`, { method: 'POST', body: JSON.stringify(request), headers: { 'content-type': 'application/json' } });
        const text = await res.text();
        if (res.status === 201 || res.status === 200) {
          const tle = JSON.parse(text);
          verify(tle);
          books.record(res.status, tle);
          pending = undefined;
        } else {
          books.failures++;
          expect([503], `unexpected ${res.status}: ${text}`).toContain(res.status);
        }
      } catch {
        books.failures++; // the process died under the request; retry on the next one
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const running = Array.from({ length: WRITERS }, writer);
  return {
    async stop() {
      stopping = true;
      await Promise.all(running);
    },
  };
}

async function crashRounds(kills: number, args: string[], env: NodeJS.ProcessEnv, vkey: string): Promise<{ books: Books; size: bigint }> {
  const verifier = parseVerifierKey(vkey);
  const books = new Books();
  let seed = Number(process.env.VIGIL_CRASH_SEED ?? Date.now() % 1_000_000);
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let current: VigilProcess | undefined;
  // Every answer is checked as a client would: checkpoint signature, then the inclusion proof.
  const verify = (tle: any) => {
    const cp = openCheckpoint(tle.inclusionProof.checkpoint.envelope, [verifier], { origin: ORIGIN }).checkpoint;
    verifyInclusion(hashLeaf(decodeBase64(tle.canonicalizedBody)), BigInt(tle.logIndex), cp.size, tle.inclusionProof.hashes.map((h: string) => decodeBase64(h)), cp.root);
  };
  let url: string | undefined;
  const writers = runWriters(() => url, books, verify);
  try {
    for (let round = 0; round <= kills; round++) {
      current = await startVigil(['log', 'serve', ...args], env);
      url = current.url;
      const before = books.acked.size;
      // Run until this process has acknowledged a random number of entries (counted, not timed,
      // so a slow machine still kills under load), then a random moment more, then SIGKILL. The
      // last round ends cleanly after the writers stop.
      const target = before + MIN_ACKS_PER_ROUND + Math.floor(rand() * 40);
      const deadline = Date.now() + 60_000;
      while (books.acked.size < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(books.acked.size, `round ${round} acknowledged fewer than ${MIN_ACKS_PER_ROUND} entries in 60 s`).toBeGreaterThanOrEqual(before + MIN_ACKS_PER_ROUND);
      await new Promise((r) => setTimeout(r, rand() * 300));
      if (round === kills) break;
      url = undefined;
      await current.kill('SIGKILL');
    }
    await writers.stop();
    const size = await verifyLogOverHttp(`${current!.url}/api/v2`, verifier, ORIGIN, [...books.acked.values()], books.checkpoints);
    return { books, size };
  } finally {
    url = undefined;
    await writers.stop();
    await current?.kill('SIGTERM');
  }
}

const KILLS = Number(process.env.VIGIL_CRASH_KILLS ?? 10);
/** MIN_ACKS_PER_ROUND is how many acknowledgements each process gives before it may be killed. */
const MIN_ACKS_PER_ROUND = 5;

describe.skipIf(!hasPostgres)('vigil log on PostgreSQL, killed under load', () => {
  const schema = freshSchemaName('e2e_logcrash');
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end();
  });

  it(`keeps every acknowledged entry and checkpoint through ${KILLS} SIGKILLs`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-log-'));
    dirs.push(dir);
    const env = { VIGIL_DATABASE_URL: POSTGRES_URL, VIGIL_DATABASE_SCHEMA: schema };
    const vkey = (await runVigil(['log', 'init', '--origin', ORIGIN, '--data', dir], env)).trim();
    await expect(runVigil(['log', 'init', '--origin', ORIGIN, '--data', dir], env)).rejects.toThrow(/already exists/);
    const configFile = join(dir, 'log.json');
    writeFileSync(configFile, JSON.stringify({ maxBatchDelayMs: 20, maxBatchEntries: 256 }));
    const { books, size } = await crashRounds(KILLS, ['--data', dir, '--listen', '127.0.0.1:0', '--config', configFile], env, vkey);
    expect(books.acked.size).toBeGreaterThanOrEqual((KILLS + 1) * MIN_ACKS_PER_ROUND);
    expect(size).toBeGreaterThanOrEqual(BigInt(books.acked.size));
    console.log(`postgres: ${KILLS} kills, ${books.acked.size} acknowledged, tree size ${size}, ${books.checkpoints.size} checkpoints, ${books.duplicates} retries answered as duplicates, ${books.failures} failed requests`);
  }, 300_000);
});

describe('vigil log on PGlite, killed under load', () => {
  it(`keeps every acknowledged entry and checkpoint through ${KILLS} SIGKILLs`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-log-'));
    dirs.push(dir);
    const vkey = (await runVigil(['log', 'init', '--origin', ORIGIN, '--data', dir], {})).trim();
    const configFile = join(dir, 'log.json');
    writeFileSync(configFile, JSON.stringify({ maxBatchDelayMs: 20, maxBatchEntries: 256 }));
    const kills = KILLS;
    const { books, size } = await crashRounds(kills, ['--data', dir, '--listen', '127.0.0.1:0', '--config', configFile], { VIGIL_DATABASE_URL: '' }, vkey);
    expect(books.acked.size).toBeGreaterThanOrEqual((kills + 1) * MIN_ACKS_PER_ROUND);
    expect(size).toBeGreaterThanOrEqual(BigInt(books.acked.size));
    console.log(`pglite: ${kills} kills, ${books.acked.size} acknowledged, tree size ${size}, ${books.checkpoints.size} checkpoints, ${books.duplicates} retries answered as duplicates, ${books.failures} failed requests`);
  }, 300_000);
});
