import { WeftError } from '../core/errors.js';

/** A Redis URL with its password masked, for messages. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Checks that `url` is a Redis URL (`redis://host:port[/db]`, `rediss://` for TLS).
 * @param flag what the user set it with, for the message (`--dispatch`, `--redis`, `dispatch.redis`)
 * @throws WeftError (`WEFT_USAGE`) naming the flag and an example of what it expects
 */
export function checkRedisUrl(url: string, flag: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '')
    throw new WeftError('WEFT_USAGE', `${flag}: "${shownUrl(url)}" is not a Redis URL`, {
      hint: 'expected redis://host:port[/db], e.g. redis://127.0.0.1:6379',
    });
  // The client would ignore a db that is not a number (its keys then land in db 0).
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,5}$/.test(db))
    throw new WeftError('WEFT_USAGE', `${flag}: "${db}" in "${shownUrl(url)}" is not a database number`, {
      hint: 'give the db as a number, e.g. redis://127.0.0.1:6379/1, or leave it out for db 0',
    });
  return u;
}
