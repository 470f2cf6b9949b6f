// A batch's tree extension: the root computed two ways, bundles cut at 256, and the consistency
// check that reads through the integration transaction (on PGlite a read outside it would wait for
// the transaction forever).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db.ts';
import { parseEntryBundle } from '../tlog/entry-bundle.ts';
import { hashLeaf, rootFromLeafHashes } from '../tlog/merkle.ts';
import { flipBit } from '../test/bytes.ts';
import { openTestPglite } from '../test/db.ts';
import { addAll, fulfilled, newSigner, openTestLog, TEST_ORIGIN, testEntry } from '../test/log-fixtures.ts';
import { isLogError } from './errors.ts';
import { distinctEntries, extendTree, verifyExtension } from './batch.ts';
import { loadLog } from './log-state.ts';
import { TileCache } from './tile-cache.ts';


const entry = (i: number) => {
  const body = testEntry('batch', i);
  return { leafHash: hashLeaf(body), body };
};

describe('extendTree and verifyExtension', () => {
  let db: Db;
  let drop: () => Promise<void>;
  const signer = newSigner();
  beforeAll(async () => {
    ({ db, drop } = await openTestPglite());
    const { log } = await openTestLog(db, { signer });
    fulfilled(await addAll(log, Array.from({ length: 600 }, (_, i) => testEntry('batch', i))));
    await log.close();
  });
  afterAll(async () => drop());

  it('extends the tree: tiles, root and bundles agree with the definition', async () => {
    const old = await loadLog(db, { origin: TEST_ORIGIN, signer });
    const ext = extendTree(old, Array.from({ length: 300 }, (_, i) => entry(600 + i)));
    expect(ext.state.size).toBe(900n);
    const leaves = Array.from({ length: 900 }, (_, i) => hashLeaf(testEntry('batch', i)));
    expect(ext.state.root).toEqual(rootFromLeafHashes(leaves));
    // Bundle 2 completes (88 old + 168 new entries), bundle 3 starts with 132.
    expect(ext.bundles.map((b) => [b.index, b.width])).toEqual([[2n, 256], [3n, 132]]);
    expect(parseEntryBundle(ext.bundles[0]!.data, 256)[0]).toEqual(testEntry('batch', 512));
    expect(ext.state.bundle.length).toBe(132);
  });

  it('checks consistency through the transaction, with nothing cached, and refuses a forged history', async () => {
    const old = await loadLog(db, { origin: TEST_ORIGIN, signer });
    const ext = extendTree(old, Array.from({ length: 100 }, (_, i) => entry(1000 + i)));
    const empty = () => new TileCache(async () => {
      throw new Error('read outside the transaction');
    });
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('verifyExtension is stuck')), 10_000).unref());
    await Promise.race([db.transaction((tx) => verifyExtension(tx, old, ext, empty())), timeout]);
    const forged = { ...old, root: flipBit(old.root, 0) };
    const err = await db.transaction((tx) => verifyExtension(tx, forged, ext, empty())).then(() => undefined, (e: unknown) => e);
    expect(isLogError(err, 'root_mismatch')).toBe(true);
  });

  it('lists each leaf hash once, pool entries first, recomputing pending leaf hashes', () => {
    const [a, b, c] = [entry(1), entry(2), entry(3)];
    const lying = { leafHash: a!.leafHash, body: c!.body }; // a pending row whose stored hash lies
    const out = distinctEntries([a!, b!, a!], [b!, lying]);
    expect(out.map((e) => e.body)).toEqual([a!.body, b!.body, c!.body]);
    expect(out[2]!.leafHash).toEqual(c!.leafHash);
  });
});
