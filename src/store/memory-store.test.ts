import { describe, expect, it } from 'vitest';
import { requireLease } from '../core/ports/store.js';
import { MemoryStore } from './memory-store.js';
import { storeSpec } from './store-spec.js';

storeSpec('MemoryStore', async () => ({ store: new MemoryStore() }));

describe('MemoryStore', () => {
  it('measures lease expiry with the clock it is given', async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    expect(await store.acquireLease('r1', 'alice', 1000)).toBe(true);
    now = 999;
    expect(await store.acquireLease('r1', 'bob', 1000)).toBe(false);
    now = 1000;
    expect(await store.acquireLease('r1', 'bob', 1000)).toBe(true);
  });

  it('requireLease fails with WEFT_RUN_LOCKED while another coordinator holds the run', async () => {
    const store = new MemoryStore();
    await requireLease(store, 'r1', 'alice', 30_000);
    await expect(requireLease(store, 'r1', 'bob', 30_000)).rejects.toMatchObject({
      code: 'WEFT_RUN_LOCKED',
      message: expect.stringContaining('r1'),
      hint: expect.stringContaining('30s'),
    });
  });
});
