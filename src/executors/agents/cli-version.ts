import { execFile } from 'node:child_process';

/** What `<bin> --version` said, or why it could not be run. */
export type CliCheck =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly missing: boolean; readonly message: string };

const checks = new Map<string, Promise<CliCheck>>();

/**
 * Runs `<bin> --version` once per binary and process (executors share it; a failure is not
 * remembered, so installing the CLI mid-run helps the next attempt).
 */
export function checkCli(bin: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliCheck> {
  let check = checks.get(bin);
  if (check === undefined) {
    check = runVersion(bin, env, timeoutMs);
    checks.set(bin, check);
    void check.then((c) => {
      if (!c.ok) checks.delete(bin);
    });
  }
  return check;
}

function runVersion(bin: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliCheck> {
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      ['--version'],
      { env, timeout: timeoutMs, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error !== null) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'EACCES')
            resolve({
              ok: false,
              missing: true,
              message: `${bin}: ${code === 'ENOENT' ? 'not found' : 'not executable'}`,
            });
          else {
            // A slow machine is not a broken CLI: say which it was.
            const why = error.killed
              ? `did not answer in ${timeoutMs / 1000} s`
              : `failed: ${(stderr || error.message).trim().split('\n')[0]}`;
            resolve({ ok: false, missing: false, message: `\`${bin} --version\` ${why}` });
          }
          return;
        }
        const text = `${stdout}\n${stderr}`;
        resolve({ ok: true, version: /\d+\.\d+\.\d+[\w.+-]*/.exec(text)?.[0] ?? text.trim().split('\n')[0] ?? '' });
      },
    );
    child.stdin?.end();
  });
}
