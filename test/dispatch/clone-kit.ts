import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempProject } from '../support/weft-cli.js';
import { startWorker, type Proc } from './dispatch-kit.js';

/** Helpers of the clone-mode tests (`weft worker --clone`, `--git-remote`). */
export const sh = (script: string): string[] => ['sh', '-c', script];

export function gitIn(dir: string) {
  return (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
}

/** A repository with one commit holding the plan and `files`. */
export function project(
  plan: unknown,
  files: Readonly<Record<string, string>> = {},
): { dir: string; plan: string; git: ReturnType<typeof gitIn> } {
  const dir = tempProject('weft-clone-project-');
  const git = gitIn(dir);
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README'), 'hello\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const file = join(dir, 'plan.json');
  writeFileSync(file, JSON.stringify(plan));
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init');
  return { dir, plan: file, git };
}

/** An empty bare repository. */
export function bareRemote(): string {
  const path = join(realpathSync(tempProject('weft-clone-remote-')), 'shared.git');
  spawnSync('git', ['init', '-q', '--bare', path]);
  return path;
}

/** One ref a push to a bare repository changed: `to` is all zeros when the push deleted it. */
export interface RefUpdate {
  readonly ref: string;
  readonly from: string;
  readonly to: string;
}

const DELETED = /^0+$/;

/**
 * Logs every ref a push changes in the bare repository `path` (git's `update` hook), for tests that
 * look at what went through the remote after weft deleted the run's refs. `sent(ref)`: the commits
 * pushed to `ref`, in order, deletions left out; `deleted(ref)`: whether a push deleted it.
 */
export function logRefUpdates(path: string): {
  updates(): RefUpdate[];
  sent(ref: string): string[];
  deleted(ref: string): boolean;
} {
  const log = join(path, 'ref-updates.log');
  const hook = join(path, 'hooks', 'update');
  writeFileSync(hook, `#!/bin/sh\necho "$1 $2 $3" >> '${log}'\n`);
  chmodSync(hook, 0o755);
  const updates = (): RefUpdate[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((line) => {
            const [ref = '', from = '', to = ''] = line.split(' ');
            return { ref, from, to };
          })
      : [];
  return {
    updates,
    sent: (ref) => updates().flatMap((u) => (u.ref === ref && !DELETED.test(u.to) ? [u.to] : [])),
    deleted: (ref) => updates().some((u) => u.ref === ref && DELETED.test(u.to)),
  };
}

/** A worker that cannot see the coordinator's folders: started elsewhere, `--root` elsewhere. */
export function farWorker(
  prefix: string,
  clone: string,
  who = 'far',
  args: readonly string[] = [],
  /** The worker's own `weft.config.yaml` (its executors), if any. */
  config?: string,
): Promise<Proc> {
  const home = tempProject('weft-clone-worker-home-');
  if (config !== undefined) writeFileSync(join(home, 'weft.config.yaml'), config);
  return startWorker(home, who, prefix, ['--concurrency', '2', '--root', home, '--clone', clone, ...args]);
}

/** The run id in a `--json` run's summary. */
export function runIdOf(all: readonly Record<string, unknown>[]): string {
  return (all.find((e) => e.type === 'run.summary') as unknown as { summary: { runId: string } }).summary.runId;
}
