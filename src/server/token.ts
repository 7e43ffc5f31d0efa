import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { WeftError } from '../core/errors.js';

/** Where `weft serve` keeps its token: `$XDG_STATE_HOME/weft/token`, else `~/.local/state/weft/token`. */
export function tokenPath(env: NodeJS.ProcessEnv = process.env): string {
  const state =
    env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== ''
      ? env.XDG_STATE_HOME
      : join(homedir(), '.local', 'state');
  return join(state, 'weft', 'token');
}

/** What the server's token is, and where it came from (never the token itself in a message). */
export interface ServerToken {
  readonly token: string;
  /** `WEFT_TOKEN`, or the file it was read from (or created in). */
  readonly source: 'WEFT_TOKEN' | string;
}

const TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]{16,512}$/;

/**
 * The token every API call must present: `WEFT_TOKEN` when set, else the one stored under the
 * user's state folder — created at random (256 bits) on first use, mode 0600 in a 0700 folder.
 *
 * @throws WeftError `WEFT_USAGE` when `WEFT_TOKEN` or the file holds something that is not a token.
 */
export function loadToken(env: NodeJS.ProcessEnv = process.env): ServerToken {
  const given = env.WEFT_TOKEN;
  if (given !== undefined && given !== '') {
    if (!TOKEN_PATTERN.test(given))
      throw new WeftError('WEFT_USAGE', 'WEFT_TOKEN must be 16 to 512 characters of A-Z a-z 0-9 . _ ~ + / -', {
        hint: 'e.g. export WEFT_TOKEN=$(openssl rand -hex 32)',
      });
    return { token: given, source: 'WEFT_TOKEN' };
  }
  const file = tokenPath(env);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (!TOKEN_PATTERN.test(token))
      throw new WeftError('WEFT_USAGE', `${file} does not hold a token`, { hint: 'delete it: a new one is made' });
    // A token file others can read is no secret: tighten it.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { token, source: file };
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, source: file };
}
