// The witness as operators run it: the real CLI in child processes (`vigil witness init`, then
// `vigil witness serve`), killed with SIGKILL and restarted on the same state. With PGlite in the
// data folder: the state survives the kill. With PostgreSQL: floods of concurrent requests from
// two forks of one log, a SIGKILL at a random point of a flood, a restart, and the witness never
// cosigns two inconsistent checkpoints (DESIGN, Security model; issue 4, "Done when").
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCosignerKey, verifyCosignatureLine, type CosignatureVerifier } from '../../tlog/cosignature.ts';
import { parseNote } from '../../tlog/note.ts';
import { TLOG_SIZE_CONTENT_TYPE, parseAddCheckpointRequest, witnessCheckpointPath } from '../../tlog/witness-request.ts';
import { freshSchemaName } from '../db.ts';
import { POSTGRES_URL, serviceAvailable } from '../services.ts';
import { killVigilProcesses, runVigil, startVigil, type VigilProcess } from '../vigil-process.ts';
import { forkedTestLogs, type TestLog } from '../witness-log.ts';

const hasPostgres = await serviceAvailable('postgres');
const dirs: string[] = [];

afterAll(() => {
  killVigilProcesses();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** serve starts `vigil witness serve` and resolves once it is listening. */
function serve(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<VigilProcess> {
  return startVigil(['witness', 'serve', '--config', configFile], env);
}

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

async function post(url: string, body: string): Promise<Answer> {
  const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

async function cosignedSize(url: string, origin: string): Promise<bigint | undefined> {
  const res = await fetch(`${url}/${witnessCheckpointPath(origin)}`);
  return res.status === 404 ? undefined : BigInt((await res.text()).split('\n')[1]!);
}

/** setUp makes a data folder, runs `vigil witness init` in it and writes a config following `logs`. */
async function setUp(name: string, logs: readonly TestLog[], extra: object = {}): Promise<{ configFile: string; verifier: CosignatureVerifier }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-witness-'));
  dirs.push(dir);
  const vkey = (await runVigil(['witness', 'init', '--name', name, '--data', join(dir, 'data')])).trim();
  const configFile = join(dir, 'witness.json');
  const config = { name, listen: '127.0.0.1:0', dataDir: 'data', logs: logs.map((l) => ({ origin: l.origin, vkeys: [l.vkey] })), ...extra };
  writeFileSync(configFile, JSON.stringify(config));
  return { configFile, verifier: parseCosignerKey(vkey) };
}

describe('vigil witness on PGlite (real processes)', () => {
  it('init refuses an existing key; serve keeps its state across a SIGKILL and a restart', async () => {
    const [log] = forkedTestLogs('example.com/e2e-log', 4, 20);
    const { configFile, verifier } = await setUp('e2e.example/witness', [log]);
    const dataDir = join(configFile, '..', 'data');
    await expect(runVigil(['witness', 'init', '--name', 'e2e.example/witness', '--data', dataDir])).rejects.toThrow(/already exists/);

    let w = await serve(configFile);
    const first = await post(w.url, await log.request(0n, 4n));
    expect(first.status).toBe(200);
    verifyCosignatureLine(verifier, parseNote(log.checkpointNote(4n)).text, first.body.trimEnd());
    // Appends one after another, then a SIGKILL the moment the last is acknowledged, with one more
    // in flight: the restarted witness must hold at least what it acknowledged (no rollback).
    let acknowledged = 4n;
    for (let size = 8n; size <= 12n; size++) {
      expect((await post(w.url, await log.request(acknowledged, size))).status).toBe(200);
      acknowledged = size;
    }
    const inFlight = post(w.url, await log.request(acknowledged, acknowledged + 1n)).catch(() => undefined);
    await w.kill();
    await inFlight;

    w = await serve(configFile);
    const recovered = (await cosignedSize(w.url, log.origin))!;
    expect([acknowledged, acknowledged + 1n], `recovered ${recovered} after acknowledging ${acknowledged}`).toContain(recovered);
    const stale = await post(w.url, await log.request(4n, 16n));
    expect(stale).toEqual({ status: 409, contentType: TLOG_SIZE_CONTENT_TYPE, body: `${recovered}\n` });
    expect((await post(w.url, await log.request(recovered, 16n))).status).toBe(200);
    expect(await cosignedSize(w.url, log.origin)).toBe(16n);
    await w.kill();
  });
});

describe.skipIf(!hasPostgres)('vigil witness on PostgreSQL (real processes)', () => {
  const COMMON = 16;
  const SIZE = 600;
  const ORIGIN = 'example.com/forked';
  const forks = forkedTestLogs(ORIGIN, COMMON, SIZE);
  const schema = freshSchemaName('e2e_witness');
  const admin = new pg.Client({ connectionString: POSTGRES_URL });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
  });

  /**
   * flood builds n requests on random forks, from old sizes at or a little past the witness's size
   * `from`, each growing the tree by 1-3 leaves: many race from one state, some chain.
   */
  async function flood(n: number, from: bigint, rand: () => number): Promise<{ fork: number; body: string }[]> {
    const reqs: { fork: number; body: string }[] = [];
    for (let i = 0; i < n; i++) {
      const fork = rand() < 0.5 ? 0 : 1;
      const old = min(from + BigInt(Math.floor(rand() * rand() * 24)), BigInt(SIZE - 1));
      const size = min(old + 1n + BigInt(Math.floor(rand() * 3)), BigInt(SIZE));
      reqs.push({ fork, body: await forks[fork]!.request(old, size) });
    }
    return reqs;
  }

  it('never cosigns two inconsistent checkpoints under 1,000 concurrent forked requests and a SIGKILL mid-flood', async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const env = { VIGIL_DATABASE_URL: url.toString() };
    const { configFile, verifier } = await setUp('e2e-pg.example/witness', [forks[0]], { maxInFlight: 2000 });

    let seed = 0x5eed;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const cosigned: { fork: number; size: bigint }[] = [];
    const record = (fork: number, body: string, a: Answer | undefined) => {
      if (a?.status !== 200) return;
      const text = parseNote(parseAddCheckpointRequest(body).checkpointNote).text;
      // Every 200 carries a valid cosignature by this witness over the checkpoint sent.
      for (const line of a.body.trimEnd().split('\n')) verifyCosignatureLine(verifier, text, line);
      cosigned.push({ fork, size: BigInt(text.split('\n')[1]!) });
    };

    let w = await serve(configFile, env);
    record(0, await forks[0].request(0n, BigInt(COMMON)), await post(w.url, await forks[0].request(0n, BigInt(COMMON))));

    // Flood 1: 1,000 at once, from the common prefix, where the forks race.
    const first = await flood(1000, BigInt(COMMON), rand);
    const answers = await Promise.all(first.map((r) => post(w.url, r.body)));
    first.forEach((r, i) => record(r.fork, r.body, answers[i]));
    expect(answers.every((a) => [200, 409, 422].includes(a.status))).toBe(true);
    expect(answers.filter((a) => a.status === 409).length).toBeGreaterThan(0);

    // Flood 2: SIGKILL once a random number of answers came back; the rest fail on the socket.
    const second = await flood(1000, (await cosignedSize(w.url, ORIGIN))!, rand);
    const killAfter = 50 + Math.floor(rand() * 400);
    let answered = 0;
    const served = w;
    const killed = new Promise<void>((resolve) => {
      const results = second.map((r) =>
        post(served.url, r.body).then(
          (a) => {
            record(r.fork, r.body, a);
            if (++answered === killAfter) void served.kill().then(() => resolve());
          },
          () => undefined,
        ),
      );
      void Promise.all(results).then(() => resolve());
    });
    await killed;
    const acknowledged = cosigned.reduce((m, c) => (c.size > m ? c.size : m), 0n);

    // Restart on the same database and flood again from the state it recovered.
    w = await serve(configFile, env);
    expect(await cosignedSize(w.url, ORIGIN), 'the restarted witness rolled back').toBeGreaterThanOrEqual(acknowledged);
    const third = await flood(500, (await cosignedSize(w.url, ORIGIN))!, rand);
    const thirdAnswers = await Promise.all(third.map((r) => post(w.url, r.body)));
    third.forEach((r, i) => record(r.fork, r.body, thirdAnswers[i]));

    const grown = new Set(cosigned.filter((c) => c.size > BigInt(COMMON)).map((c) => c.fork));
    expect(grown.size, 'checkpoints of both forks beyond the common prefix were cosigned').toBeLessThanOrEqual(1);
    expect(grown.size).toBe(1);
    // The stored state is on the winning fork and no smaller than anything cosigned.
    const winner = [...grown][0]!;
    const final = await fetch(`${w.url}/${witnessCheckpointPath(ORIGIN)}`).then((r) => r.text());
    const finalSize = BigInt(final.split('\n')[1]!);
    expect(final.startsWith(parseNote(forks[winner]!.checkpointNote(finalSize)).text)).toBe(true);
    expect(cosigned.every((c) => c.size <= finalSize)).toBe(true);
    await w.kill();
  });
});

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
