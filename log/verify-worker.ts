// A worker thread of the entry verifier pool (verify-pool.ts): it loads the trust material once,
// then answers each task with the checked entry or the LogError that refused it.
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage, isLogError } from './errors.ts';
import { loadCertificateTrust } from './kinds/certificate-chain.ts';
import { verifyEntry, type EntryVerifierOptions, type WorkerReply, type WriteApi } from './verify-pool.ts';

const options = workerData as EntryVerifierOptions;
const trust = options.trust === null ? null : loadCertificateTrust(options.trust);

parentPort!.on('message', (task: { id: number; api: WriteApi; body: Uint8Array; timeMs: number }) => {
  let reply: WorkerReply;
  try {
    const entry = verifyEntry(task.api, task.body, new Date(task.timeMs), trust, options.maxRequestBytes);
    reply = { id: task.id, ok: true, entry };
  } catch (err) {
    reply = isLogError(err) ? { id: task.id, ok: false, code: err.code, message: err.message } : { id: task.id, ok: false, code: 'internal', message: errorMessage(err) };
  }
  parentPort!.postMessage(reply);
});
