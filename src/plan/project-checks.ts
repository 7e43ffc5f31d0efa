import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../core/errors.js';
import type { TaskSpec } from '../core/plan/plan-schema.js';

/** What the test-runner template needs to know of a project folder. */
export interface ProjectFacts {
  /** `scripts` of its package.json; `undefined` when it has no package.json. */
  readonly scripts: Readonly<Record<string, string>> | undefined;
  /** Names of the entries in the folder (tsconfig.json, eslint.config.js, …). */
  readonly files: ReadonlySet<string>;
}

export interface CheckTasksOptions {
  /** How many parallel tasks a vitest or jest `test` script is split into. @default 3 */
  readonly shards?: number;
}

export interface DetectedChecks {
  readonly tasks: TaskSpec[];
  /** One line per check: where it came from. */
  readonly found: readonly string[];
}

interface CheckKind {
  readonly id: string;
  readonly title: string;
  /** Script names that run this check, in order of preference. */
  readonly scripts: readonly string[];
  readonly estimate: string;
  /** Estimate per shard when the check is split. */
  readonly shardEstimate?: string;
  /** A command when no script runs the check but the project has the tool's config. */
  readonly fallback?: { readonly files: readonly string[]; readonly run: string; readonly what: string };
}

const ESLINT_CONFIGS = [
  'eslint.config.js',
  'eslint.config.mjs',
  'eslint.config.cjs',
  'eslint.config.ts',
  '.eslintrc',
  '.eslintrc.js',
  '.eslintrc.cjs',
  '.eslintrc.json',
  '.eslintrc.yml',
  '.eslintrc.yaml',
];

/** The checks the test-runner template looks for, in the order they are written. */
const KINDS: readonly CheckKind[] = [
  {
    id: 'lint',
    title: 'Lint',
    scripts: ['lint'],
    estimate: '30s',
    fallback: { files: ESLINT_CONFIGS, run: 'npx --no-install eslint .', what: 'ESLint config' },
  },
  {
    id: 'format',
    title: 'Formatting',
    scripts: ['format:check', 'fmt:check', 'prettier:check', 'check:format'],
    estimate: '10s',
  },
  {
    id: 'typecheck',
    title: 'Type check',
    scripts: ['typecheck', 'type-check', 'check-types', 'types:check', 'check:types'],
    estimate: '30s',
    fallback: { files: ['tsconfig.json'], run: 'npx --no-install tsc --noEmit', what: 'tsconfig.json' },
  },
  { id: 'unit', title: 'Unit tests', scripts: ['test', 'test:unit', 'unit'], estimate: '2m', shardEstimate: '40s' },
  { id: 'e2e', title: 'End-to-end tests', scripts: ['test:e2e', 'e2e', 'test:integration'], estimate: '2m' },
  { id: 'build', title: 'Build', scripts: ['build'], estimate: '45s' },
];

/** The script names the detection looks for, for messages. */
export const CHECK_SCRIPTS: readonly string[] = KINDS.flatMap((k) => k.scripts);

/** The placeholder `npm init` writes: a "test" that only fails. */
const NO_TEST = /no test specified/i;
/** Runners that split a run with `--shard=i/n`; not in watch mode, where a shard never ends. */
const SHARDABLE = /\b(vitest|jest)\b/;
const WATCH = /--watch\b|\bvitest\s+watch\b/;

/** Reads what {@link checkTasks} needs from a folder: package.json's scripts and the file names. */
export function readProjectFacts(dir: string): ProjectFacts {
  let files: Set<string>;
  try {
    files = new Set(readdirSync(dir));
  } catch {
    files = new Set();
  }
  if (!files.has('package.json')) return { scripts: undefined, files };
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch (error) {
    throw new WeftError(
      'WEFT_USAGE',
      `${join(dir, 'package.json')}: cannot read it as JSON (${(error as Error).message})`,
      { cause: error, hint: 'fix package.json, or write the plan to another folder with -o' },
    );
  }
  const raw = (pkg as { scripts?: unknown } | null)?.scripts;
  const scripts =
    typeof raw === 'object' && raw !== null
      ? Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : {};
  return { scripts, files };
}

/**
 * One shell task per check the project has, from its package.json scripts (with fallbacks to the
 * tools' own commands), a vitest or jest `test` split into shards. `undefined` when nothing was found.
 *
 * @example
 * checkTasks({ scripts: { lint: 'eslint .', test: 'vitest run' }, files: new Set() }, { shards: 2 })
 * // tasks lint, unit-1, unit-2: `npm run --silent lint`, `npm run --silent test -- --shard=1/2`, …
 */
export function checkTasks(facts: ProjectFacts, options: CheckTasksOptions = {}): DetectedChecks | undefined {
  const shards = options.shards ?? 3;
  if (!Number.isInteger(shards) || shards < 1 || shards > 64)
    throw new WeftError('WEFT_USAGE', `shards expects a whole number from 1 to 64, got "${shards}"`);
  const scripts = facts.scripts ?? {};
  const tasks: TaskSpec[] = [];
  const found: string[] = [];
  for (const kind of KINDS) {
    const script = kind.scripts.find(
      (s) => scripts[s] !== undefined && scripts[s].trim() !== '' && !NO_TEST.test(scripts[s]),
    );
    if (script !== undefined) {
      const body = scripts[script] ?? '';
      const run = `npm run --silent ${script}`;
      if (kind.shardEstimate !== undefined && shards > 1 && SHARDABLE.test(body) && !WATCH.test(body)) {
        for (let k = 1; k <= shards; k++)
          tasks.push({
            id: `${kind.id}-${k}`,
            title: `${kind.title} (shard ${k}/${shards})`,
            run: `${run} -- --shard=${k}/${shards}`,
            estimate: kind.shardEstimate,
          });
        found.push(`${kind.id}: script "${script}" in ${shards} shards (${SHARDABLE.exec(body)?.[1]})`);
      } else {
        tasks.push({ id: kind.id, title: kind.title, run, estimate: kind.estimate });
        found.push(`${kind.id}: script "${script}"`);
      }
      continue;
    }
    const config = kind.fallback?.files.find((f) => facts.files.has(f));
    if (kind.fallback !== undefined && config !== undefined) {
      tasks.push({ id: kind.id, title: kind.title, run: kind.fallback.run, estimate: kind.estimate });
      found.push(`${kind.id}: no script, ${config} → ${kind.fallback.run.replace('npx --no-install ', '')}`);
    }
  }
  return tasks.length === 0 ? undefined : { tasks, found };
}
