// The WitnessStore contract as a reusable suite: witness/store-memory.test.ts runs it against the
// memory store, and the PostgreSQL store's test runs the same suite against a fresh schema.
import { expect, it } from 'vitest';
import { EMPTY_ROOT, hashLeaf } from '../tlog/merkle.ts';
import { isWitnessError } from '../witness/errors.ts';
import type { CosignedCheckpoint, WitnessStore } from '../witness/store.ts';

const ROOT_A = hashLeaf(new TextEncoder().encode('a'));
const ROOT_B = hashLeaf(new TextEncoder().encode('b'));

function state(size: bigint, root: Uint8Array, note = `note ${size}\n`): CosignedCheckpoint {
  return { size, root, note };
}

/**
 * itSatisfiesWitnessStoreContract declares the contract tests of WitnessStore (witness/store.ts)
 * inside the caller's describe block. `newStore` returns an empty store, fresh for each test.
 */
export function itSatisfiesWitnessStoreContract(newStore: () => Promise<WitnessStore> | WitnessStore): void {
  it('starts empty', async () => {
    const store = await newStore();
    expect(await store.getLatest('example.com/log')).toBeUndefined();
  });

  it('creates the first state only from "no state"', async () => {
    const store = await newStore();
    expect(await store.compareAndSwap('o', { size: 0n, root: EMPTY_ROOT }, state(1n, ROOT_A))).toBe(false);
    expect(await store.getLatest('o')).toBeUndefined();
    expect(await store.compareAndSwap('o', undefined, state(1n, ROOT_A))).toBe(true);
    expect(await store.getLatest('o')).toEqual(state(1n, ROOT_A));
    expect(await store.compareAndSwap('o', undefined, state(2n, ROOT_B))).toBe(false);
    expect(await store.getLatest('o')).toEqual(state(1n, ROOT_A));
  });

  it('swaps only from the expected size AND root', async () => {
    const store = await newStore();
    await store.compareAndSwap('o', undefined, state(5n, ROOT_A));
    expect(await store.compareAndSwap('o', { size: 4n, root: ROOT_A }, state(9n, ROOT_B))).toBe(false);
    expect(await store.compareAndSwap('o', { size: 5n, root: ROOT_B }, state(9n, ROOT_B))).toBe(false);
    expect(await store.getLatest('o')).toEqual(state(5n, ROOT_A));
    expect(await store.compareAndSwap('o', { size: 5n, root: ROOT_A }, state(9n, ROOT_B))).toBe(true);
    expect(await store.getLatest('o')).toEqual(state(9n, ROOT_B));
  });

  it('compares the tree, not the note: a re-cosigned note replaces the old one', async () => {
    const store = await newStore();
    await store.compareAndSwap('o', undefined, state(5n, ROOT_A, 'first\n'));
    expect(await store.compareAndSwap('o', { size: 5n, root: ROOT_A }, state(5n, ROOT_A, 'second\n'))).toBe(true);
    expect((await store.getLatest('o'))?.note).toBe('second\n');
  });

  it('keeps origins apart', async () => {
    const store = await newStore();
    await store.compareAndSwap('a.example/log', undefined, state(1n, ROOT_A));
    expect(await store.getLatest('b.example/log')).toBeUndefined();
    expect(await store.compareAndSwap('b.example/log', undefined, state(7n, ROOT_B))).toBe(true);
    expect((await store.getLatest('a.example/log'))?.size).toBe(1n);
  });

  it('stores sizes up to 2^64 - 1 and notes byte for byte', async () => {
    const store = await newStore();
    const note = 'example.com/log\n18446744073709551615\nroot\n\n\u2014 example.com/log AAAA\n';
    const max = state((1n << 64n) - 1n, ROOT_A, note);
    expect(await store.compareAndSwap('o', undefined, max)).toBe(true);
    expect(await store.getLatest('o')).toEqual(max);
  });

  it('lets exactly one of many concurrent swaps from one state win', async () => {
    const store = await newStore();
    await store.compareAndSwap('o', undefined, state(1n, ROOT_A));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.compareAndSwap('o', { size: 1n, root: ROOT_A }, state(BigInt(2 + i), ROOT_B))),
    );
    expect(results.filter((r) => r)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await store.getLatest('o'))?.size).toBe(BigInt(2 + winner));
  });

  it('returns copies: changing a result or an argument does not change the stored state', async () => {
    const store = await newStore();
    const next = state(3n, ROOT_A.slice());
    await store.compareAndSwap('o', undefined, next);
    next.root.fill(0);
    const got = await store.getLatest('o');
    got?.root.fill(1);
    expect((await store.getLatest('o'))?.root).toEqual(ROOT_A);
  });

  it('refuses to store an invalid state', async () => {
    const store = await newStore();
    const bad = [state(-1n, ROOT_A), state(1n << 64n, ROOT_A), state(1n, new Uint8Array(31)), state(1n, ROOT_A, '')];
    for (const s of bad) {
      await expect(store.compareAndSwap('o', undefined, s)).rejects.toSatisfy((e: unknown) => isWitnessError(e, 'internal_error'));
    }
    expect(await store.getLatest('o')).toBeUndefined();
  });
}
