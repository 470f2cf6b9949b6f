// Helpers for the log's witnessing tests (log/witness-client.test.ts, log/publisher.test.ts): real
// witness nodes (witness/main.ts startWitness), each with its own key, its own database and its own
// loopback server that can be stopped and started again on the same port (with its state, or with
// a fresh store as after a lost disk); scripted HTTP servers that answer like broken or lying
// witnesses, or sit in front of a real one and rewrite its answers; and an independent check of a
// published checkpoint with nothing but the policy text and the log's vkey.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from '../platform/db.ts';
import { manualClock } from '../platform/clock.ts';
import type { Listening } from '../platform/http.ts';
import { silentLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { parseCheckpoint } from '../tlog/checkpoint.ts';
import { newCosignatureSigner, parseCosignerKey, verifyCosignature, type CosignatureSigner } from '../tlog/cosignature.ts';
import { parseNote, verifyNote } from '../tlog/note.ts';
import { generateEd25519Seed } from '../tlog/note-ed25519.ts';
import { parseVerifierKey } from '../tlog/note-key.ts';
import { isQuorumSatisfied, parsePolicy } from '../tlog/policy.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PULL_TIMEOUT_MS } from '../witness/config.ts';
import { formatWitnessVkey } from '../witness/key.ts';
import { listen } from '../platform/http.ts';
import { startWitness, type StartedWitness } from '../witness/main.ts';
import { openTestPg, openTestPglite } from './db.ts';
import { TEST_WITNESS_START_MS } from './witness-log.ts';

/** FreshDb opens a fresh database: a new PostgreSQL schema when PostgreSQL answers, else PGlite. */
export type FreshDb = () => Promise<{ db: Db; drop: () => Promise<void> }>;

/** freshDb returns the FreshDb of this machine for a test file. */
export function freshDb(hasPostgres: boolean, prefix: string): FreshDb {
  return hasPostgres ? () => openTestPg(prefix) : openTestPglite;
}

/** TestWitnessNode is a real witness node on its own loopback port and database. */
export interface TestWitnessNode {
  readonly signer: CosignatureSigner;
  /** vkey is the node's cosignature/v1 (type 0x04) vkey. */
  readonly vkey: string;
  /** url is the submission prefix, http://127.0.0.1:<port>. */
  readonly url: string;
  /** stop closes the server (the state stays in the database). */
  stop(): Promise<void>;
  /** restart serves again on the same port; with freshStore, on a new empty database. */
  restart(opts?: { freshStore?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** startWitnessNode starts a witness following one log (origin and vkey), on a fresh database. */
export async function startWitnessNode(name: string, log: { origin: string; vkey: string }, open: FreshDb): Promise<TestWitnessNode> {
  const signer = newCosignatureSigner(name, generateEd25519Seed());
  const dbs: { db: Db; drop: () => Promise<void> }[] = [];
  let witness: StartedWitness | undefined;
  let server: Listening | undefined;
  let port = 0;
  const serve = async (freshStore: boolean) => {
    if (freshStore || dbs.length === 0) dbs.push(await open());
    const config = {
      logs: [{ origin: log.origin, vkeys: [log.vkey], qpd: undefined, pull: undefined }],
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      maxInFlight: DEFAULT_MAX_IN_FLIGHT,
      pullTimeoutMs: DEFAULT_PULL_TIMEOUT_MS,
    };
    const deps = { db: dbs.at(-1)!.db, signer, logger: silentLogger(), registry: createMetricsRegistry({}, false), clock: manualClock(TEST_WITNESS_START_MS) };
    witness = await startWitness(config, deps);
    server = await listen(witness.app, '127.0.0.1', port);
    port = (server.server.address() as AddressInfo).port;
  };
  const stop = async () => {
    await server?.close();
    await witness?.stop();
    server = undefined;
    witness = undefined;
  };
  await serve(false);
  return {
    signer,
    vkey: formatWitnessVkey(signer),
    url: `http://127.0.0.1:${port}`,
    stop,
    restart: async (opts = {}) => {
      await stop();
      await serve(opts.freshStore ?? false);
    },
    close: async () => {
      await stop();
      for (const d of dbs) await d.drop();
    },
  };
}

/** ScriptedReply is what a scripted witness answers. */
export interface ScriptedReply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** ScriptedHandler answers the n-th request (from 1) with its body; 'hang' never answers. */
export type ScriptedHandler = (body: string, n: number) => Promise<ScriptedReply | 'hang'> | ScriptedReply | 'hang';

/** ScriptedWitness is a listening scripted server and the request bodies it received. */
export interface ScriptedWitness {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** serveScript serves POST /add-checkpoint on loopback with `handler`. */
export async function serveScript(handler: ScriptedHandler): Promise<ScriptedWitness> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      requests.push(body);
      const reply = await handler(body, requests.length);
      if (reply === 'hang') return;
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** forward posts a body to a real witness and returns its answer as a ScriptedReply (for proxies). */
export async function forward(witnessUrl: string, body: string): Promise<ScriptedReply> {
  const res = await fetch(`${witnessUrl}/add-checkpoint`, { method: 'POST', body });
  const headers: Record<string, string> = {};
  const ct = res.headers.get('content-type');
  if (ct !== null) headers['content-type'] = ct;
  return { status: res.status, headers, body: new Uint8Array(await res.arrayBuffer()) };
}

/** corruptCosignatures flips a bit of the Ed25519 signature in each signature line of an answer. */
export function corruptCosignatures(reply: ScriptedReply): ScriptedReply {
  const text = typeof reply.body === 'string' ? reply.body : new TextDecoder().decode(reply.body);
  const lines = text.split('\n').filter((l) => l !== '').map((line) => {
    const [dash, name, b64] = line.split(' ');
    const blob = Buffer.from(b64 ?? '', 'base64');
    blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 1;
    return `${dash} ${name} ${blob.toString('base64')}\n`;
  });
  return { status: reply.status, body: lines.join('') };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** CheckedPublication is what checkPublished found. */
export interface CheckedPublication {
  size: bigint;
  /** cosigners are the policy names of the witnesses whose cosignature lines verified. */
  cosigners: string[];
  quorum: boolean;
}

/**
 * checkPublished verifies a published note as a client would, independently of the publisher: the
 * log's signature with `logVkey`, then each policy witness's lines with its key from the policy
 * text (parseCosignerKey: 0x01 or 0x04), then the quorum. Throws if any line of a known key fails.
 */
export function checkPublished(note: string, policyText: string, logVkey: string): CheckedPublication {
  const text = verifyNote(note, [parseVerifierKey(logVkey)]).text;
  const checkpoint = parseCheckpoint(text);
  const policy = parsePolicy(policyText);
  const { signatures } = parseNote(note);
  const cosigners: string[] = [];
  for (const w of policy.witnesses) {
    const v = parseCosignerKey(w.keyText);
    const lines = signatures.filter((s) => s.name === v.name && s.keyId === v.keyId);
    for (const line of lines) verifyCosignature(v, text, line);
    if (lines.length > 0) cosigners.push(w.name);
  }
  return { size: checkpoint.size, cosigners, quorum: isQuorumSatisfied(policy, cosigners) };
}
