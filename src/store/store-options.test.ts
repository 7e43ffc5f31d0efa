import { describe, expect, it } from 'vitest';
import { PostgresStore } from './postgres-store.js';

describe('PostgresStore options', () => {
  it('a bad maxConnections is refused on entry, before any connection, as WEFT_STORE naming the field', async () => {
    // Port 1: were it to connect, the error would be a connection error, not this one.
    const opening = PostgresStore.open({ url: 'postgres://weft@127.0.0.1:1/weft', maxConnections: 0 });
    await expect(opening).rejects.toMatchObject({
      name: 'WeftError',
      code: 'WEFT_STORE',
      message: 'PostgresStore: expected `maxConnections` to be a positive integer, got `0`',
    });
  });
});
