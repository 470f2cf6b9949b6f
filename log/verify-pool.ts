// Parsing a write request and verifying its signatures is the write path's CPU cost (key parsing
// and ECDSA verification, about 0.6 ms of the ~1.1 ms an entry costs the server; bench/log.ts). An
// EntryVerifier does it either inline, on the event loop, or on a pool of worker threads, so that
// the event loop keeps serving HTTP and sequencing while other cores verify.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LogError, type LogErrorCode } from './errors.ts';
import { loadCertificateTrust, type CertificateTrust, type CertificateTrustConfig } from './kinds/certificate-chain.ts';
import { parseCreateEntryRequest, parseProposedEntry } from './kinds/entry.ts';
import type { VerifiedEntry } from './kinds/verified-entry.ts';

/** CheckedEntry is what the HTTP layer needs of a verified entry. */
export type CheckedEntry = Pick<VerifiedEntry, 'kind' | 'apiVersion' | 'canonicalBody'>;

/** WriteApi names the request format: v1 ProposedEntry or v2 CreateEntryRequest. */
export type WriteApi = 'v1' | 'v2';

/**
 * EntryVerifier parses and verifies one write request body (attacker-controlled) at an integration
 * time. It rejects with the LogError of entry.ts for a refused request, and with another Error only
 * when verification itself broke (a worker died). Safe for any number of concurrent calls.
 */
export interface EntryVerifier {
  verify(api: WriteApi, body: Uint8Array, integrationTime: Date): Promise<CheckedEntry>;
  close(): Promise<void>;
}

/** EntryVerifierOptions are the entry options that do not change per request. */
export interface EntryVerifierOptions {
  /** trust is the CA material, DER (workers load their own copy); null: public-key entries only. */
  readonly trust: CertificateTrustConfig | null;
  readonly maxRequestBytes: number;
}

/** verifyEntry is the verification itself, shared by the inline verifier and the workers. */
export function verifyEntry(api: WriteApi, body: Uint8Array, integrationTime: Date, trust: CertificateTrust | null, maxRequestBytes: number): CheckedEntry {
  const options = { trust, integrationTime, maxRequestBytes };
  const e = api === 'v1' ? parseProposedEntry(body, options) : parseCreateEntryRequest(body, options);
  return { kind: e.kind, apiVersion: e.apiVersion, canonicalBody: e.canonicalBody };
}

/** inlineEntryVerifier verifies on the calling thread. */
export function inlineEntryVerifier(trust: CertificateTrust | null, maxRequestBytes: number): EntryVerifier {
  return {
    verify: async (api, body, at) => verifyEntry(api, body, at, trust, maxRequestBytes),
    close: async () => {},
  };
}

/** defaultVerifyWorkers is one worker per core, none on a single core (the event loop does it). */
export function defaultVerifyWorkers(): number {
  const cores = availableParallelism();
  return cores > 1 ? cores : 0;
}

/** WorkerReply is a worker's answer to one task. */
export type WorkerReply =
  | { id: number; ok: true; entry: CheckedEntry }
  | { id: number; ok: false; code: LogErrorCode | 'internal'; message: string };

interface Task {
  resolve(e: CheckedEntry): void;
  reject(err: unknown): void;
}

interface PoolWorker {
  worker: Worker;
  tasks: Map<number, Task>;
}

/**
 * startEntryVerifierPool starts `size` worker threads, each loading the trust material once. Tasks
 * go to the worker with the fewest in flight. A worker that dies fails its tasks (an Error, so
 * 500) and is replaced.
 */
export async function startEntryVerifierPool(size: number, options: EntryVerifierOptions): Promise<EntryVerifier> {
  if (options.trust !== null) loadCertificateTrust(options.trust); // refuse bad material here, once
  let nextId = 0;
  let closed = false;
  const spawnWorker = (): PoolWorker => {
    const worker = new Worker(new URL('./verify-worker-boot.mjs', import.meta.url), { workerData: options });
    const w: PoolWorker = { worker, tasks: new Map() };
    worker.on('message', (reply: WorkerReply) => {
      const task = w.tasks.get(reply.id);
      if (task === undefined) return;
      w.tasks.delete(reply.id);
      if (reply.ok) task.resolve(reply.entry);
      else if (reply.code === 'internal') task.reject(new Error(`entry verification failed: ${reply.message}`));
      else task.reject(new LogError(reply.code, reply.message));
    });
    const fail = (err: unknown) => {
      for (const t of w.tasks.values()) t.reject(err instanceof Error ? err : new Error(String(err)));
      w.tasks.clear();
      if (closed) return;
      const i = workers.indexOf(w);
      if (i >= 0) workers[i] = spawnWorker();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`an entry verification worker exited with code ${code}`)));
    return w;
  };
  const workers = Array.from({ length: size }, spawnWorker);
  return {
    verify(api, body, at) {
      if (closed) return Promise.reject(new LogError('closed', 'the log is shutting down'));
      const w = workers.reduce((a, b) => (b.tasks.size < a.tasks.size ? b : a));
      const id = nextId++;
      return new Promise<CheckedEntry>((resolve, reject) => {
        w.tasks.set(id, { resolve, reject });
        w.worker.postMessage({ id, api, body, timeMs: at.getTime() });
      });
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}
