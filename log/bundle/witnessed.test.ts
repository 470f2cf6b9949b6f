// Witness enforcement in `vigil verify`, against the realistic topology of `vigil up`: a front end
// (CA, dev issuer, log) whose log publishes only checkpoints that 2 of its 3 witnesses cosigned,
// each witness a real node with its own key, database and loopback server. Bundles are made by the
// real CLI (`vigil sign`, a child process) and verified by the CLI and by verifyBundleWitnessed.
// Forgeries are made with the log's own key (the test holds it): a fork of the tree that contains
// the entry, cosignature lines moved onto another checkpoint, a policy naming other witnesses, and
// a lying front end (tampered tiles, stripped cosignatures, a checkpoint under another key).
// `vigil sign --witnessed` bundles verify offline, and stock @sigstore/verify still accepts them.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPglite } from '../../test/db.ts';
import { startWitnessNode, type TestWitnessNode } from '../../test/log-witnesses.ts';
import { REPO_ROOT } from '../../test/vectors.ts';
import { forkedBundle } from '../../test/witnessed-bundles.ts';
import { newCosignatureSigner } from '../../tlog/cosignature.ts';
import { formatSignatureLine, parseNote, signNote } from '../../tlog/note.ts';
import { generateEd25519Seed } from '../../tlog/note-ed25519.ts';
import { generateSignerKey } from '../../tlog/note-key.ts';
import { formatWitnessVkey } from '../../witness/key.ts';
import { startCaTestServer, type CaTestServer } from '../ca/ca-test-server.ts';
import type { BundleJson } from './bundle-json.ts';
import { isBundleError, type BundleErrorCode } from './errors.ts';
import { parseTrustedRoot } from './trusted-root.ts';
import { verifyBundle } from './verify.ts';
import { attachWitnessedCheckpoint, verifyBundleWitnessed, type WitnessOptions } from './witnessed.ts';

interface Run { code: number; stdout: string; stderr: string }

function vigil(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', ...args], { cwd: REPO_ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

const EMAIL = 'alice@example.com';
const logKey = generateSignerKey('log.vigil.test/witnessed');
let tmp: string;
let witnesses: TestWitnessNode[] = [];
let server: CaTestServer;
let policyText: string;
let files: { root: string; policy: string };

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'vigil-witnessed-'));
  const log = { origin: logKey.signer.name, vkey: logKey.vkey };
  for (const name of ['w1', 'w2', 'w3']) witnesses.push(await startWitnessNode(`${name}.witness.test`, log, openTestPglite));
  const lines = witnesses.map((w, i) => `witness w${i + 1} ${w.vkey} ${w.url}\n`).join('');
  server = await startCaTestServer({ signer: logKey.signer, witnessPolicy: `${lines}group up 2 w1 w2 w3\nquorum up\n` });
  policyText = await (await fetch(`${server.url}/api/v2/witness-policy`)).text();
  files = { root: join(tmp, 'trusted_root.json'), policy: join(tmp, 'witnesses.policy') };
  writeFileSync(files.root, JSON.stringify(server.trustedRoot()));
  writeFileSync(files.policy, policyText);
}, 120_000);

afterAll(async () => {
  await server?.close();
  for (const w of witnesses) await w.close();
  witnesses = [];
  rmSync(tmp, { recursive: true, force: true });
});

async function sign(name: string, ...extra: string[]): Promise<{ file: string; bundle: string; artifact: Uint8Array; stdout: string }> {
  const file = join(tmp, name);
  const artifact = new TextEncoder().encode(`${name} ${randomBytes(8).toString('hex')}\n`);
  writeFileSync(file, artifact);
  const run = await vigil(['sign', file, '--url', server.url, '--email', EMAIL, ...extra]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return { file, bundle: `${file}.sigstore.json`, artifact, stdout: run.stdout };
}

function verifyArgs(s: { file: string; bundle: string }, ...extra: string[]): string[] {
  return ['verify', s.file, '--bundle', s.bundle, '--identity', 'alice@example\\.com', '--issuer', server.issuerUrl, ...extra];
}

async function verifyLib(artifact: Uint8Array, bundle: BundleJson, opts: Partial<WitnessOptions>) {
  const verified = verifyBundle(artifact, bundle, parseTrustedRoot(server.trustedRoot()), { identityRegex: 'alice@example\\.com', issuer: server.issuerUrl });
  return verifyBundleWitnessed(verified, { policyText, waitMs: 0, ...opts });
}

async function expectCode(p: Promise<unknown>, code: BundleErrorCode): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isBundleError(err) ? err.code : err).toBe(code);
}

function witnessedBundle(bundle: BundleJson): Promise<BundleJson> {
  return attachWitnessedCheckpoint(bundle, { url: server.url, waitMs: 30_000, pollIntervalMs: 100 });
}

function readBundle(file: string): BundleJson {
  return JSON.parse(readFileSync(file, 'utf8')) as BundleJson;
}

function cosignatureLinesOf(note: string): string[] {
  return parseNote(note).signatures.filter((s) => s.name !== logKey.signer.name).map(formatSignatureLine);
}

// lyingFront serves the log's read API through `change`, as a compromised front end or mirror would.
async function lyingFront(change: (path: string, body: Uint8Array) => Uint8Array): Promise<{ url: string; close(): Promise<void> }> {
  const front = createServer((req, res) => {
    void (async () => {
      const answer = await fetch(`${server.url}${req.url ?? '/'}`);
      const body = new Uint8Array(await answer.arrayBuffer());
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' });
      res.end(change(req.url ?? '/', body));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const { port } = front.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => front.close(() => r())) };
}

describe('vigil verify enforces the witness policy (2 of 3 witnesses, real nodes)', () => {
  let first: { file: string; bundle: string; artifact: Uint8Array };

  it('pinned policy, online: the bundle is proven into the published cosigned checkpoint over the tiles', async () => {
    first = await sign('first.txt');
    const second = await sign('second.txt');
    // The second verification waits until the published checkpoint covers the second bundle, so
    // the first one's checkpoint is then strictly smaller: its consistency is proven from tiles.
    const v2 = await vigil(verifyArgs(second, '--trusted-root', files.root, '--witness-policy', files.policy, '--url', server.url));
    expect(v2.stderr).toBe('');
    expect(v2.code).toBe(0);
    const v1 = await vigil(verifyArgs(first, '--trusted-root', files.root, '--witness-policy', files.policy, '--url', server.url));
    expect(v1.stderr).toBe('');
    expect(v1.code).toBe(0);
    expect(v1.stdout).toMatch(/witnessed: checkpoint size \d+ cosigned by (w[123], w[123](, w[123])?) \(published by the log\); policy from .*witnesses\.policy\n$/);
    const size1 = BigInt(readBundle(first.bundle).verificationMaterial.tlogEntries[0]!.inclusionProof.treeSize);
    const shown = BigInt(/checkpoint size (\d+)/.exec(v1.stdout)![1]!);
    expect(shown > size1).toBe(true);
  });

  it('policy fetched from --url is trust on first use, and says so', async () => {
    const run = await vigil(verifyArgs(first, '--url', server.url));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`policy from ${server.url}/api/v2/witness-policy, trust on first use`);
  });

  it('offline: refused unless the bundle carries a cosigned checkpoint; --no-witness skips with a warning', async () => {
    const offline = await vigil(verifyArgs(first, '--trusted-root', files.root, '--witness-policy', files.policy));
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('(not_witnessed)');
    expect(offline.stderr).toContain('--url');
    const noPolicy = await vigil(verifyArgs(first, '--trusted-root', files.root));
    expect(noPolicy.code).toBe(1);
    expect(noPolicy.stderr).toContain('no witness policy');
    const skipped = await vigil(verifyArgs(first, '--trusted-root', files.root, '--no-witness'));
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain('warning: --no-witness');
    expect(skipped.stdout).toContain('witnessing NOT checked');

  });

  it('vigil sign --witnessed: the bundle carries the cosigned checkpoint, verifies offline, and stock @sigstore/verify accepts it', async () => {
    const signed = await sign('witnessed.txt', '--witnessed', '--witness-wait', '60');
    expect(signed.stdout).toMatch(/; witnessed in checkpoint size \d+; bundle written to /);
    const note = readBundle(signed.bundle).verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint.envelope;
    expect(parseNote(note).signatures.length).toBeGreaterThanOrEqual(3); // the log and two witnesses
    const ok = await vigil(verifyArgs(signed, '--trusted-root', files.root, '--witness-policy', files.policy));
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/cosigned by w[123], w[123].* \(in the bundle\)/);
    const trust = toTrustMaterial(ProtoTrustedRoot.fromJSON(server.trustedRoot()));
    const entity = toSignedEntity(bundleFromJSON(readBundle(signed.bundle)), Buffer.from(signed.artifact));
    new Verifier(trust).verify(entity, { subjectAlternativeName: '^alice@example\\.com$', extensions: { issuer: server.issuerUrl } });
  });

  it('a policy naming other witness keys is refused, online and offline', async () => {
    const others = ['w1', 'w2', 'w3'].map((n) => newCosignatureSigner(`${n}.witness.test`, generateEd25519Seed()));
    const wrong = `${others.map((o, i) => `witness w${i + 1} ${formatWitnessVkey(o)}\n`).join('')}group up 2 w1 w2 w3\nquorum up\n`;
    const bundle = readBundle(first.bundle);
    await expectCode(verifyLib(first.artifact, bundle, { policyText: wrong, url: server.url }), 'not_witnessed');
    await expectCode(verifyLib(first.artifact, await witnessedBundle(bundle), { policyText: wrong }), 'not_witnessed');
    // The right policy accepts the same two bundles.
    expect((await verifyLib(first.artifact, bundle, { url: server.url }))[0]!.source).toBe('published');
    expect((await verifyLib(first.artifact, await witnessedBundle(bundle), {}))[0]!.source).toBe('bundle');
    const otherLog = generateSignerKey('log.vigil.test/other').vkey;
    await expectCode(verifyLib(first.artifact, bundle, { policyText: `log ${otherLog}\n${policyText.replace(/^log .*\n/m, '')}` }), 'malformed_witness_policy');
  });

  it('a fork signed by the log key is refused: inconsistent with the published checkpoint; moved cosignatures count for nothing', async () => {
    const bundle = readBundle(first.bundle);
    const fork = await forkedBundle(bundle, logKey.signer);
    // verifyBundle alone accepts it: the log key signed it and the entry is in its tree.
    expect(verifyBundle(first.artifact, fork, parseTrustedRoot(server.trustedRoot()), { identityRegex: 'alice@example\\.com', issuer: server.issuerUrl }).identity).toBe(EMAIL);
    await expectCode(verifyLib(first.artifact, fork, { url: server.url }), 'inconsistent_checkpoint');
    const published = await (await fetch(`${server.url}/api/v2/checkpoint`)).text();
    const moved = await forkedBundle(bundle, logKey.signer, cosignatureLinesOf(published));
    expect(parseNote(moved.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint.envelope).signatures.length).toBeGreaterThanOrEqual(3);
    await expectCode(verifyLib(first.artifact, moved, {}), 'not_witnessed');
    const cli = join(tmp, 'fork.sigstore.json');
    writeFileSync(cli, JSON.stringify(fork));
    const run = await vigil(verifyArgs({ file: first.file, bundle: cli }, '--trusted-root', files.root, '--witness-policy', files.policy, '--url', server.url));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('(inconsistent_checkpoint)');
  });

  it('a lying front end: tampered tiles, stripped cosignatures or another key\'s checkpoint are refused', async () => {
    const bundle = readBundle(first.bundle);
    // Make sure the published checkpoint is larger than the bundle's, so tiles are read.
    const third = await sign('third.txt');
    expect((await verifyLib(third.artifact, readBundle(third.bundle), { url: server.url, waitMs: 30_000, pollIntervalMs: 100 }))[0]!.source).toBe('published');
    expect((await verifyLib(first.artifact, bundle, { url: server.url }))[0]!.size > BigInt(bundle.verificationMaterial.tlogEntries[0]!.inclusionProof.treeSize)).toBe(true);
    const flip = (path: string, body: Uint8Array) => {
      if (!path.startsWith('/api/v2/tile/') || body.length === 0) return body;
      const out = body.slice();
      out[out.length - 1]! ^= 1;
      return out;
    };
    const strip = (path: string, body: Uint8Array) => {
      if (path !== '/api/v2/checkpoint') return body;
      const note = new TextDecoder().decode(body);
      return new TextEncoder().encode(note.split('\n').filter((l) => !l.startsWith('\u2014 ') || l.startsWith(`\u2014 ${logKey.signer.name} `)).join('\n'));
    };
    const other = generateSignerKey(logKey.signer.name).signer;
    const resign = (path: string, body: Uint8Array) => {
      if (path !== '/api/v2/checkpoint') return body;
      return new TextEncoder().encode(signNote(parseNote(new TextDecoder().decode(body)).text, [other]));
    };
    const cases: [typeof flip, BundleErrorCode][] = [[flip, 'invalid_response'], [strip, 'not_witnessed'], [resign, 'invalid_response']];
    for (const [change, code] of cases) {
      const front = await lyingFront(change);
      try {
        await expectCode(verifyLib(first.artifact, bundle, { url: front.url }), code);
      } finally {
        await front.close();
      }
    }
  });

  it('not yet witnessed while two witnesses are down, then witnessed once one returns', async () => {
    await witnesses[1]!.stop();
    await witnesses[2]!.stop();
    try {
      const late = await sign('late.txt');
      const bundle = readBundle(late.bundle);
      await expectCode(verifyLib(late.artifact, bundle, { url: server.url, waitMs: 0 }), 'not_yet_witnessed');
      const run = await vigil(verifyArgs(late, '--url', server.url, '--witness-wait', '0'));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('(not_yet_witnessed)');
      await witnesses[1]!.restart();
      const [w] = await verifyLib(late.artifact, bundle, { url: server.url, waitMs: 60_000, pollIntervalMs: 100 });
      expect(w!.source).toBe('published');
      expect(w!.cosigners).toContain('w2');
    } finally {
      await witnesses[2]!.restart();
    }
  });
});
