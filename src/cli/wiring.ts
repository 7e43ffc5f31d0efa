import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { WeftError } from '../core/errors.js';
import type { Executor } from '../core/ports/executor.js';
import { defaultExecutors } from '../executors/index.js';
import { loadConfig, type WeftConfig } from './config.js';
import { DEFAULT_PRICES } from '../core/run/pricing.js';

export interface Wiring {
  readonly projectDir: string;
  readonly config: WeftConfig;
  readonly executors: Map<string, Executor>;
}

/** Chooses the executors: config file + environment → one Executor per name (stores: journal.ts; workspace: workspace-wiring.ts). */
export function wire(dir: string | undefined, options: { readonly newFolder?: boolean } = {}): Wiring {
  const projectDir = resolve(dir ?? process.cwd());
  // `weft init -o new/plan.yaml` makes its folder; everything else works in one that is there.
  if (dir !== undefined && options.newFolder !== true) refuseMissingFolder(dir, projectDir);
  const config = loadConfig(projectDir);
  const executors = defaultExecutors({
    ...(config.executors === undefined ? {} : { settings: config.executors }),
    // A project's `pricing:` adds to (and overrides) the list prices; it does not unprice every other model.
    ...(config.pricing === undefined ? {} : { prices: { ...DEFAULT_PRICES, ...config.pricing } }),
  });
  return { projectDir, config, executors };
}

/**
 * A project folder given (`-C`) must be there: a mistyped one would otherwise get a new, empty
 * journal, and a server would serve it.
 */
function refuseMissingFolder(given: string, projectDir: string): void {
  const stat = statSync(projectDir, { throwIfNoEntry: false });
  if (stat?.isDirectory() === true) return;
  throw new WeftError('WEFT_USAGE', `-C ${given}: ${stat === undefined ? 'no such folder' : 'not a folder'}`, {
    hint: '-C names the project folder, the one that holds (or will hold) .weft/',
  });
}
