import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT } from '../tlog/merkle.ts';
import { itSatisfiesWitnessStoreContract } from '../test/witness-store-contract.ts';
import { MemoryWitnessStore } from './store-memory.ts';

describe('MemoryWitnessStore', () => {
  itSatisfiesWitnessStoreContract(() => new MemoryWitnessStore());

  it('lists the origins it holds, sorted', async () => {
    const store = new MemoryWitnessStore();
    await store.compareAndSwap('b.example/log', undefined, { size: 0n, root: EMPTY_ROOT, note: 'n\n' });
    await store.compareAndSwap('a.example/log', undefined, { size: 0n, root: EMPTY_ROOT, note: 'n\n' });
    expect(store.origins()).toEqual(['a.example/log', 'b.example/log']);
  });
});
