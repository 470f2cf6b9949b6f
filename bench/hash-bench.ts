// hash-bench.ts times SHA-256 and the RFC 6962 tree hashes: node:crypto (createHash, and the
// one-shot crypto.hash of Node ≥ 20.12) against @noble/hashes, on the sizes the tree hashes.
import { createHash, hash as nodeHash, randomBytes } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { equalBytes, hashChildren, hashLeaf } from '../tlog/merkle.ts';
import { sha256 as tlogSha256 } from '../tlog/sha256.ts';
import { measure, printTable, repeat, type BenchResult, type Comparison, type SectionReport } from './harness.ts';

const BATCH = 256;
const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

function bytes(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

function hashLeafNoble(entry: Uint8Array): Uint8Array {
  return nobleSha256.create().update(LEAF_PREFIX).update(entry).digest();
}

function hashChildrenNoble(left: Uint8Array, right: Uint8Array): Uint8Array {
  return nobleSha256.create().update(NODE_PREFIX).update(left).update(right).digest();
}

// hashChildrenOneShot hashes 0x01 || left || right with crypto.hash, which takes one input: the
// children are copied into a reused buffer (safe: crypto.hash is synchronous and returns a new one).
const CHILDREN_SCRATCH = new Uint8Array(65);
CHILDREN_SCRATCH[0] = 0x01;
function hashChildrenOneShot(left: Uint8Array, right: Uint8Array): Uint8Array {
  CHILDREN_SCRATCH.set(left, 1);
  CHILDREN_SCRATCH.set(right, 33);
  return nodeHash('sha256', CHILDREN_SCRATCH, 'buffer');
}

// hashLeafOneShot copies 0x00 || entry into a buffer for crypto.hash (entries vary in size). It is
// taken from Node's shared pool (allocUnsafe): a fresh ArrayBuffer per leaf costs more than it saves.
function hashLeafOneShot(entry: Uint8Array): Uint8Array {
  const buf = Buffer.allocUnsafe(1 + entry.length);
  buf[0] = 0x00;
  buf.set(entry, 1);
  return nodeHash('sha256', buf, 'buffer');
}

async function rate(name: string, op: () => unknown): Promise<BenchResult> {
  return measure(name, repeat(BATCH, op), { batch: BATCH });
}

/** benchHashes prints the SHA-256 tables and returns node:crypto vs @noble comparisons. */
export async function benchHashes(): Promise<SectionReport> {
  const comparisons: Comparison[] = [];
  const results: BenchResult[] = [];
  const baselines: Record<string, string> = {};
  for (const size of [33, 65, 1024]) {
    const data = bytes(size);
    const label = size === 1024 ? '1 KiB' : `${size} B`;
    const create = await rate(`node:crypto createHash, ${label}`, () => createHash('sha256').update(data).digest());
    const oneShot = await rate(`node:crypto crypto.hash one-shot, ${label}`, () => nodeHash('sha256', data, 'buffer'));
    const tlog = await rate(`tlog sha256() (createHash), ${label}`, () => tlogSha256(data));
    const noble = await rate(`@noble/hashes sha256, ${label}`, () => nobleSha256(data));
    results.push(create, oneShot, tlog, noble);
    baselines[oneShot.name] = create.name;
    baselines[tlog.name] = create.name;
    baselines[noble.name] = create.name;
    comparisons.push(
      { primitive: `SHA-256, ${label}`, a: { label: 'node:crypto createHash', result: create }, b: { label: '@noble/hashes', result: noble } },
      { primitive: `SHA-256 node API, ${label}`, a: { label: 'crypto.hash one-shot', result: oneShot }, b: { label: 'createHash', result: create } },
    );
  }
  printTable('SHA-256 (hashes/s; ratio vs node:crypto createHash)', results, baselines);

  const entry = bytes(1024);
  const left = bytes(32);
  const right = bytes(32);
  // The alternatives must compute the same hashes, or the race means nothing.
  if (
    !equalBytes(hashLeafNoble(entry), hashLeaf(entry)) ||
    !equalBytes(hashLeafOneShot(entry), hashLeaf(entry)) ||
    !equalBytes(hashChildrenNoble(left, right), hashChildren(left, right)) ||
    !equalBytes(hashChildrenOneShot(left, right), hashChildren(left, right))
  ) {
    throw new Error('hash implementations disagree');
  }
  const leafTlog = await rate('hashLeaf, 1 KiB entry (tlog, node:crypto)', () => hashLeaf(entry));
  const leafOneShot = await rate('hashLeaf, 1 KiB entry (crypto.hash on a pooled copy)', () => hashLeafOneShot(entry));
  const leafNoble = await rate('hashLeaf, 1 KiB entry (@noble/hashes)', () => hashLeafNoble(entry));
  const childTlog = await rate('hashChildren (tlog, node:crypto)', () => hashChildren(left, right));
  const childOneShot = await rate('hashChildren (crypto.hash, reused 65 B buffer)', () => hashChildrenOneShot(left, right));
  const childNoble = await rate('hashChildren (@noble/hashes)', () => hashChildrenNoble(left, right));
  printTable('RFC 6962 tree hashes (hashes/s; ratio vs tlog)', [leafTlog, leafOneShot, leafNoble, childTlog, childOneShot, childNoble], {
    [leafOneShot.name]: leafTlog.name,
    [leafNoble.name]: leafTlog.name,
    [childOneShot.name]: childTlog.name,
    [childNoble.name]: childTlog.name,
  });
  comparisons.push(
    { primitive: 'hashLeaf, 1 KiB entry', a: { label: 'tlog (node:crypto)', result: leafTlog }, b: { label: '@noble/hashes', result: leafNoble } },
    { primitive: 'hashLeaf node API', a: { label: 'crypto.hash one-shot', result: leafOneShot }, b: { label: 'tlog createHash', result: leafTlog } },
    { primitive: 'hashChildren', a: { label: 'tlog (node:crypto)', result: childTlog }, b: { label: '@noble/hashes', result: childNoble } },
    { primitive: 'hashChildren node API', a: { label: 'crypto.hash one-shot', result: childOneShot }, b: { label: 'tlog createHash', result: childTlog } },
  );
  return { comparisons, notes: [] };
}
