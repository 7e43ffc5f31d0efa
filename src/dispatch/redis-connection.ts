import { Redis } from 'ioredis';
import { WeftError } from '../core/errors.js';
import { checkRedisUrl, shownUrl } from './redis-url.js';

/**
 * Connects to Redis, failing at once (not retrying forever) when it does not answer; once
 * connected, a dropped connection is retried as BullMQ expects (`maxRetriesPerRequest: null`).
 * @throws WeftError (`WEFT_USAGE`) for a URL that is not one, (`WEFT_DISPATCH`) when Redis does not answer
 */
export async function connectRedis(url: string, flag: string): Promise<Redis> {
  checkRedisUrl(url, flag);
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
    retryStrategy: () => null,
  });
  // The first socket error says why (ECONNREFUSED, …); connect() itself only says the connection closed.
  let first: Error | undefined;
  const onError = (error: Error): void => void (first ??= error);
  client.on('error', onError);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    const why = (first ?? (error instanceof Error ? error : new Error(String(error)))).message;
    throw new WeftError('WEFT_DISPATCH', `${flag}: cannot reach Redis at ${shownUrl(url)} (${why})`, {
      hint: 'start Redis there (redis-server) or fix the URL',
      cause: error,
    });
  }
  client.off('error', onError);
  client.on('error', () => undefined); // a dropped connection is retried; commands wait for it
  client.options.retryStrategy = (times: number) => Math.min(times * 200, 2_000);
  return client;
}
