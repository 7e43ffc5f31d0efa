import { resolve } from 'node:path';
import type { Executor } from '../core/ports/executor.js';
import { defaultExecutors } from '../executors/index.js';
import { loadConfig, type WeftConfig } from './config.js';

export interface Wiring {
  readonly projectDir: string;
  readonly config: WeftConfig;
  readonly executors: Map<string, Executor>;
}

/** Chooses the executors: config file + environment → one Executor per name (stores: journal.ts; workspace: workspace-wiring.ts). */
export function wire(dir: string | undefined): Wiring {
  const projectDir = resolve(dir ?? process.cwd());
  const config = loadConfig(projectDir);
  const executors = defaultExecutors({
    ...(config.executors === undefined ? {} : { settings: config.executors }),
    ...(config.pricing === undefined ? {} : { prices: config.pricing }),
  });
  return { projectDir, config, executors };
}
