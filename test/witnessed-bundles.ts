// Forged bundles for the witness-enforcement tests (log/bundle/witnessed.test.ts,
// test/e2e/up-verify.test.ts): what a log that holds its own key could hand one victim.
import { randomBytes } from 'node:crypto';
import type { BundleJson } from '../log/bundle/bundle-json.ts';
import { decodeBase64, encodeBase64 } from '../tlog/base64.ts';
import { formatCheckpoint } from '../tlog/checkpoint.ts';
import { hashLeaf } from '../tlog/merkle.ts';
import { MemoryHashStore } from '../tlog/memory-hash-store.ts';
import { signNote, type NoteSigner } from '../tlog/note.ts';
import { proveInclusion, treeRoot } from '../tlog/proof.ts';

/**
 * forkedBundle replaces the bundle's proof with one into a private fork: a tree of its own, one leaf
 * larger than the entry's index, holding the entry at its index, checkpointed under the log's
 * origin and signed with the log's key `logSigner`, with `extraLines` (e.g. cosignature lines
 * copied from elsewhere) appended. verifyBundle alone accepts it; witnessing must not.
 */
export async function forkedBundle(bundle: BundleJson, logSigner: NoteSigner, extraLines: readonly string[] = []): Promise<BundleJson> {
  const entry = bundle.verificationMaterial.tlogEntries[0]!;
  const index = BigInt(entry.logIndex);
  const store = new MemoryHashStore();
  for (let i = 0n; i < index; i++) store.append(hashLeaf(randomBytes(16)));
  store.append(hashLeaf(decodeBase64(entry.canonicalizedBody)));
  store.append(hashLeaf(randomBytes(16)));
  const hashes = await proveInclusion(index, store.size, store);
  const root = await treeRoot(store.size, store);
  const note = signNote(formatCheckpoint({ origin: logSigner.name, size: store.size, root }), [logSigner]) + extraLines.join('');
  const proof = { logIndex: entry.logIndex, rootHash: encodeBase64(root), treeSize: String(store.size), hashes: hashes.map(encodeBase64), checkpoint: { envelope: note } };
  return { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: [{ ...entry, inclusionProof: proof }] } };
}
