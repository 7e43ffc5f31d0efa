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
