// A witnessed log as operators run it (issue 4, "Done when", bullet 4): the real CLI in child
// processes, three witness nodes (`vigil witness init` + `vigil witness serve`, each its own key and
// PGlite data folder) and a log (`vigil log init` + `vigil log serve`) whose config names a 2-of-3
// witness policy. Entries are written over HTTP. Every published checkpoint is checked as a client
// would (test/log-witnesses.ts checkPublished: log signature, each witness's cosignature/v1 line,
// the quorum). One witness SIGKILLed: publishing goes on. Two: the published checkpoint stops
// (fail-closed) while writes are still accepted and sequenced. Both restarted: publishing catches
// up, and every checkpoint ever published is consistent with the last one (a consistency proof
// from the log, and an independent C2SP client over the tiles).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBase64 } from '../../tlog/base64.ts';
import { openCheckpoint } from '../../tlog/checkpoint.ts';
import { hashLeaf } from '../../tlog/merkle.ts';
import { parseVerifierKey } from '../../tlog/note-key.ts';
import { verifyConsistency } from '../../tlog/proof.ts';
import { dsseV2Request, newTestKey, randomPayload, verifyLogOverHttp, type AckedEntry } from '../log-http.ts';
import { checkPublished, type CheckedPublication } from '../log-witnesses.ts';
import { freePort, killVigilProcesses, runVigil, startVigil, type VigilProcess } from '../vigil-process.ts';

const ORIGIN = 'log.vigil.test/witnessed';
const ENV = { VIGIL_DATABASE_URL: '', VIGIL_LOG_LEVEL: 'warn' };
const dirs: string[] = [];

afterAll(() => {
  killVigilProcesses();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const vigil = (args: string[]) => runVigil(args, ENV);
const serve = (args: string[]) => startVigil(args, ENV);

/** until polls `probe` until it returns a value (no timing is asserted: the test timeout bounds it). */
async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Witness {
  name: string;
  vkey: string;
  url: string;
  configFile: string;
  served?: VigilProcess;
}

describe('a log with three witnesses and policy 2-of-3 (real processes, PGlite)', () => {
  it('publishes with one witness down, stops with two down while writes go on, and catches up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-witnessed-'));
    dirs.push(dir);
    const logVkey = (await vigil(['log', 'init', '--origin', ORIGIN, '--data', join(dir, 'log')])).trim();
    const witnesses: Witness[] = [];
    for (const n of ['w1', 'w2', 'w3']) {
      const name = `${n}.vigil.test/witness`;
      const wdir = join(dir, n);
      mkdirSync(wdir);
      const vkey = (await vigil(['witness', 'init', '--name', name, '--data', join(wdir, 'data')])).trim();
      const port = await freePort();
      const configFile = join(wdir, 'witness.json');
      writeFileSync(configFile, JSON.stringify({ name, listen: `127.0.0.1:${port}`, dataDir: 'data', logs: [{ origin: ORIGIN, vkeys: [logVkey] }] }));
      witnesses.push({ name: n, vkey, url: `http://127.0.0.1:${port}`, configFile });
    }
    for (const w of witnesses) w.served = await serve(['witness', 'serve', '--config', w.configFile]);
    const policyText = `${witnesses.map((w) => `witness ${w.name} ${w.vkey} ${w.url}\n`).join('')}group two-of-three 2 w1 w2 w3\nquorum two-of-three\n`;
    writeFileSync(join(dir, 'witnesses.policy'), policyText);
    writeFileSync(join(dir, 'log.json'), JSON.stringify({ dataDir: 'log', witnessPolicy: 'witnesses.policy', publishIntervalMs: 100, witnessBackoffMaxMs: 300, maxBatchDelayMs: 20, verifyWorkers: 0 }));
    const log = await serve(['log', 'serve', '--config', join(dir, 'log.json'), '--listen', '127.0.0.1:0']);

    // The policy is served as trusted-root material; clients check publications against it alone.
    const served = await (await fetch(`${log.url}/api/v2/witness-policy`)).text();
    expect(served).toBe(`log ${logVkey}\n${policyText}`);
    const verifier = parseVerifierKey(logVkey);
    const publishedNotes = new Set<string>();
    const acked: AckedEntry[] = [];
    const key = newTestKey('P-256');
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${log.url}/api/v2/log/entries`, { method: 'POST', body: JSON.stringify(dsseV2Request(key, randomPayload('witnessed'))) });
        expect(res.status).toBe(201);
        const tle = (await res.json()) as { logIndex: string; canonicalizedBody: string };
        acked.push({ index: BigInt(tle.logIndex), leafHash: hashLeaf(decodeBase64(tle.canonicalizedBody)) });
      }
    };
    const published = async (): Promise<CheckedPublication> => {
      const note = await (await fetch(`${log.url}/api/v2/checkpoint`)).text();
      const checked = checkPublished(note, served, logVkey);
      // Every published checkpoint meets the quorum (fail-closed): nothing else is ever served.
      if (checked.size > 0n) expect(checked.quorum, `published ${checked.size} without quorum`).toBe(true);
      publishedNotes.add(note);
      return checked;
    };
    const logSize = async () => BigInt(((await (await fetch(`${log.url}/api/v1/log`)).json()) as { treeSize: number }).treeSize);
    // metric reads one sample of the log's /metrics, by name and one label (0 when absent).
    const metric = async (name: string, label: string) => {
      const m = new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\d+)$`, 'm').exec(await (await fetch(`${log.url}/metrics`)).text());
      return m === null ? 0 : Number(m[1]);
    };
    const failedRounds = () => metric('vigil_log_witness_quorum_total', 'result="failed"');
    const publishedAtLeast = (size: bigint) => until(async () => {
      const p = await published();
      return p.size >= size ? p : undefined;
    });

    // All three up: the published checkpoint grows and carries at least two valid cosignatures.
    await write(5);
    let p = await publishedAtLeast(await logSize());
    expect(p.cosigners.length).toBeGreaterThanOrEqual(2);
    await write(5);
    p = await publishedAtLeast(await logSize());
    expect(p.size).toBe(10n);

    // One witness down: publishing goes on with the other two.
    await witnesses[2]!.served!.kill();
    await write(5);
    p = await publishedAtLeast(await logSize());
    expect(p.cosigners).toEqual(['w1', 'w2']);

    // Two down: writes are still accepted and sequenced, the published checkpoint stays where it was.
    const failedBefore = await failedRounds();
    await witnesses[1]!.served!.kill();
    await write(3);
    await until(async () => ((await failedRounds()) > failedBefore ? true : undefined));
    const stuck = await published();
    const failedMid = await failedRounds();
    await write(4);
    const sequenced = await logSize();
    expect(sequenced).toBeGreaterThan(stuck.size);
    // Wait until the publisher has had the log's latest checkpoint cosigned by w1, the one witness
    // left, and has counted a round without quorum since: it saw the new size and did not publish it.
    await until(async () => ((await metric('vigil_log_witness_cosigned_size', 'witness="w1"')) >= sequenced && (await failedRounds()) > failedMid ? true : undefined));
    const still = await published();
    expect(still.size).toBe(stuck.size);
    expect(still.size).toBeLessThan(sequenced);
    expect(still.quorum).toBe(true);

    // Both back (same keys, same state): it catches up to the log's latest checkpoint.
    for (const w of witnesses.slice(1)) w.served = await serve(['witness', 'serve', '--config', w.configFile]);
    await write(2);
    p = await publishedAtLeast(await logSize());
    expect(p.size).toBe(BigInt(acked.length));
    expect(p.cosigners.length).toBeGreaterThanOrEqual(2);

    // Every published checkpoint is consistent with the last: the log's own proof, and an
    // independent client rebuilding the tree from the tiles (verifyLogOverHttp).
    const last = openCheckpoint([...publishedNotes].at(-1)!, [verifier], { origin: ORIGIN }).checkpoint;
    for (const note of publishedNotes) {
      const cp = openCheckpoint(note, [verifier], { origin: ORIGIN }).checkpoint;
      if (cp.size === 0n || cp.size === last.size) continue;
      const proof = (await (await fetch(`${log.url}/api/v1/log/proof?firstSize=${cp.size}&lastSize=${last.size}`)).json()) as { hashes: string[] };
      verifyConsistency(cp.size, last.size, cp.root, last.root, proof.hashes.map((h) => Uint8Array.from(Buffer.from(h, 'hex'))));
    }
    expect(await verifyLogOverHttp(`${log.url}/api/v2`, verifier, ORIGIN, acked, publishedNotes)).toBe(last.size);
    console.log(`witnessed: ${publishedNotes.size} distinct published checkpoints up to size ${last.size}; stuck at ${stuck.size} while the log reached ${sequenced}`);
    await log.kill();
    for (const w of witnesses) await w.served?.kill();
  }, 300_000);
});
