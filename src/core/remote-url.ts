/**
 * A git remote's URL as weft shows and sends it. A password or token in it (`https://user:token@host/…`)
 * is the coordinator's: it is masked in every message and never sent to workers, which reach the
 * remote with their own git credentials. A path (a bare repository on a shared disk) or an scp-like
 * `user@host:path` has none.
 */

/** `scheme://` `user` `:password` `@` `rest` (the authority's user part ends at the first `/`). */
const WITH_USER = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/@:]*)(?::([^/]*))?@(.*)$/s;

function split(url: string): { scheme: string; user: string; password: string; rest: string } | undefined {
  const m = WITH_USER.exec(url);
  if (m === null) return undefined;
  return { scheme: m[1] as string, user: m[2] as string, password: m[3] ?? '', rest: m[4] as string };
}

/**
 * The URL with its password masked, for messages.
 * @example shownRemote('https://ci:s3cret@git.example.com/app.git') // 'https://ci:***@git.example.com/app.git'
 */
export function shownRemote(url: string): string {
  const p = split(url);
  if (p === undefined || p.password === '') return url;
  return `${p.scheme}${p.user}:***@${p.rest}`;
}

/** The password or token in the URL, as written and decoded (for the run's redactor). */
export function remoteSecrets(url: string): string[] {
  const p = split(url);
  if (p === undefined || p.password === '') return [];
  let decoded = p.password;
  try {
    decoded = decodeURIComponent(p.password);
  } catch {
    // not %-encoded
  }
  return [...new Set([p.password, decoded])];
}

/**
 * The URL without its password, as a worker gets it.
 * @example withoutPassword('https://ci:s3cret@git.example.com/app.git') // 'https://ci@git.example.com/app.git'
 */
export function withoutPassword(url: string): string {
  const p = split(url);
  if (p === undefined || p.password === '') return url;
  return `${p.scheme}${p.user === '' ? '' : `${p.user}@`}${p.rest}`;
}

/** `text` with the URL's password masked wherever it appears. */
export function maskRemote(text: string, url: string): string {
  return remoteSecrets(url).reduce((t, s) => t.split(s).join('***'), text);
}

/**
 * How weft's own git commands reach the remote without its password on their command line (where
 * `ps` would show it): the URL without the password, and for http(s) the credentials as an
 * `Authorization` header given through git's `GIT_CONFIG_*` environment (git ≥ 2.31).
 * @example remoteAccess('https://ci:s3cret@git.example.com/app.git')
 * // { url: 'https://ci@git.example.com/app.git', env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: 'Authorization: Basic Y2k6czNjcmV0' } }
 */
export function remoteAccess(url: string): { url: string; env: Record<string, string> } {
  const p = split(url);
  if (p === undefined || p.password === '') return { url, env: {} };
  const bare = withoutPassword(url);
  if (!/^https?:\/\//i.test(p.scheme)) return { url: bare, env: {} };
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const basic = Buffer.from(`${decode(p.user)}:${decode(p.password)}`).toString('base64');
  const env = {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
  return { url: bare, env };
}
