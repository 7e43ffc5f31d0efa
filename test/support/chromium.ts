import { accessSync, constants, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser } from 'playwright-core';

/**
 * The one place browser tests get their headless Chromium from, first found wins:
 * 1. `WEFT_CHROMIUM=<path>`: that binary; `WEFT_CHROMIUM=npm` skips straight to 3;
 * 2. a Chromium installed on the machine (`chromium`, `chromium-browser`, `google-chrome` on PATH);
 * 3. the one inside the `@sparticuz/chromium` devDependency, unpacked on first use to
 *    `<tmpdir>/chromium` from the npm package itself — nothing is downloaded.
 */
export type ChromiumSource = 'WEFT_CHROMIUM' | 'system' | 'npm';

export interface FoundChromium {
  readonly path: string;
  readonly source: ChromiumSource;
}

export interface FindChromiumOptions {
  /** Where `WEFT_CHROMIUM` and `PATH` are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

/** Flags for a container without a GPU, a sandbox or the network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the browser without starting it.
 * @throws Error with one line when `WEFT_CHROMIUM` names a file that is not an executable.
 * @example const { path, source } = await findChromium({ env: { WEFT_CHROMIUM: 'npm' } });
 */
export async function findChromium(options: FindChromiumOptions = {}): Promise<FoundChromium> {
  const env = options.env ?? process.env;
  const wanted = env.WEFT_CHROMIUM?.trim();
  if (wanted !== undefined && wanted !== '' && wanted !== 'npm') {
    if (!executable(wanted)) {
      throw new Error(
        `WEFT_CHROMIUM=${wanted} is not an executable file — fix: point it at a Chromium binary, ` +
          'or set WEFT_CHROMIUM=npm to use the one from the @sparticuz/chromium package',
      );
    }
    return { path: wanted, source: 'WEFT_CHROMIUM' };
  }
  if (wanted !== 'npm') {
    for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
      for (const name of SYSTEM_NAMES) {
        if (executable(join(dir, name))) return { path: join(dir, name), source: 'system' };
      }
    }
  }
  return { path: await unpackNpmChromium(), source: 'npm' };
}

function lockAge(lock: string): number {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * `executablePath()` writes straight to `<tmpdir>/chromium` and reuses whatever is there, so two test
 * files unpacking at once would interleave their writes: a lock directory lets one unpack at a time.
 */
async function unpackNpmChromium(): Promise<string> {
  const { default: sparticuz } = await import('@sparticuz/chromium');
  const lock = join(tmpdir(), 'weft-chromium.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the longest unpack is left by a killed process.
      if (lockAge(lock) > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) {
        throw new Error(`Chromium is still being unpacked by another process after 180 s (lock ${lock})`);
      }
      await sleep(200);
    }
  }
  try {
    return await sparticuz.executablePath();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Starts a browser {@link findChromium} found, headless; the error names the binary that failed and the fix.
 * @example const browser = await launchChromium(await findChromium());
 */
export async function launchChromium(found: FoundChromium): Promise<Browser> {
  const launched = chromium.launch({ executablePath: found.path, args: CHROMIUM_ARGS, headless: true });
  return launched.catch((error: unknown) => {
    const fix =
      found.source === 'npm'
        ? `delete ${found.path} (a half-unpacked copy?) and run again`
        : 'set WEFT_CHROMIUM to a working Chromium, or WEFT_CHROMIUM=npm';
    throw new Error(`cannot start Chromium at ${found.path} (${found.source}) — fix: ${fix}`, { cause: error });
  });
}
