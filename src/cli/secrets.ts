import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { redactorOf, SECRET_MASK, SECRET_NAME, type Redactor } from '../core/redact.js';
import { structuredSecrets } from './structured-secrets.js';
import type { RunEvent } from '../core/run/events.js';
import { parseYamlDocument, readPlanText, YAML_OR_JSON_FILE } from '../plan/load-plan.js';
import type { PlanSpec } from '../core/plan/plan-schema.js';
import { telemetrySecrets } from '../telemetry/start-telemetry.js';

/** Values of the secret-looking names (API keys, tokens, passwords) in one set of variables. */
function secretValues(vars: Readonly<Record<string, string | number | boolean | undefined>>): string[] {
  return Object.entries(vars).flatMap(([name, value]) =>
    SECRET_NAME.test(name) && value !== undefined ? [String(value)] : [],
  );
}

/**
 * A run's redactor: the secrets of weft's environment and those the plan itself sets in an `env`
 * (`defaults.env` or a task's) or its `vars` under a secret-looking name, e.g. `env: { DB_PASSWORD: … }`, and
 * `more` (a token in the shared git remote's URL).
 */
export function runRedactor(env: NodeJS.ProcessEnv, spec: PlanSpec, more: readonly string[] = []): Redactor {
  // A collector's key in OTEL_EXPORTER_OTLP_HEADERS is a secret too, though its name does not say so.
  return redactorOf([...secretValues(env), ...telemetrySecrets(env), ...planSecrets(spec), ...more]);
}

/**
 * What masks an error weft prints (the CLI's error boundary, `weft validate --json`): the secrets of
 * this environment, those the plan files among `files` set (`env: { API_TOKEN: … }`, a secret-looking
 * var, quoted back in a `when` the message shows) and the values `sets` (`--set`) gives secret-looking
 * vars (`--set api_token=…` of the wrong type is quoted back). A file that is not YAML or JSON, or is
 * gone, holds none.
 *
 * @example
 * errorRedactor(process.env, ['plan.yaml'], { api_token: 'sk-live-1' })
 */
export function errorRedactor(
  env: NodeJS.ProcessEnv,
  files: Iterable<string>,
  sets: Readonly<Record<string, string>> = {},
): Redactor {
  const plans = new Set([...files].filter((f) => YAML_OR_JSON_FILE.test(f)));
  return redactorOf([...secretValues(env), ...[...plans].flatMap((f) => secretsOfPlanFile(f)), ...secretValues(sets)]);
}

/** The `--set name=value` pairs of a command line (before `--`), as the commands that take them read them. */
export function setsOf(argv: readonly string[]): Record<string, string> {
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  const sets: Record<string, string> = {};
  args.forEach((arg, i) => {
    const pair = arg === '--set' ? args[i + 1] : arg.startsWith('--set=') ? arg.slice('--set='.length) : undefined;
    const at = pair?.indexOf('=') ?? -1;
    if (pair !== undefined && at > 0) sets[pair.slice(0, at)] = pair.slice(at + 1);
  });
  return sets;
}

/** A dotenv line: `NAME=value`, `export NAME="value"`. */
const DOTENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][\w.-]*)\s*=\s*(.*)$/;
/** A `workspace.copy` file larger than this is not read for secrets: a `.env` is a few lines. */
const MAX_COPY_BYTES = 1 << 20;
/** Files read for secrets in one copied folder, at most. */
const MAX_COPY_FILES = 200;

/**
 * The values of a dotenv text's secret-looking names (`DB_PASSWORD=…`, `export API_TOKEN="…"`), as
 * dotenv reads them: without their quotes, an unquoted one without its ` # comment`; a quoted value
 * that spans lines as a whole and line by line (a PEM key printed one line at a time).
 *
 * @example
 * dotenvSecrets('DB_PASSWORD="hunter2!" # staging\nPORT=5432\n') // ['hunter2!']
 */
export function dotenvSecrets(text: string): string[] {
  const found: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = DOTENV_LINE.exec(lines[i] as string);
    if (m === null) continue;
    const name = m[1] as string;
    let raw = (m[2] as string).trim();
    const quote = raw[0];
    let value: string;
    if (quote === '"' || quote === "'" || quote === '`') {
      // A quoted value ends at its closing quote, on this line or a later one.
      while (raw.indexOf(quote, 1) < 0 && i + 1 < lines.length) raw += `\n${lines[++i] as string}`;
      const end = raw.indexOf(quote, 1);
      value = raw.slice(1, end < 0 ? undefined : end);
    } else value = raw.replace(/\s+#.*$/, '');
    if (!SECRET_NAME.test(name)) continue;
    // dotenv reads a backslash-n in a double-quoted value as a line break.
    const read = quote === '"' ? value.replaceAll('\\n', '\n') : value;
    found.push(value, read, ...(read.includes('\n') ? read.split('\n').map((l) => l.trim()) : []));
  }
  return [...new Set(found)];
}

/** The secrets a copied file holds, by file, while the file stays as it was read. */
const copiedFileSecrets = new Map<string, { readonly stamp: string; readonly values: readonly string[] }>();

/**
 * The secrets the files `workspace.copy` puts in every worktree hold (a `.env`'s `API_TOKEN=…`, a
 * JSON or YAML file's `api_key: …`),
 * read from `files` (in the checkout they are copied from) as they are now: what a task prints of
 * them is masked like weft's own. A folder's files are read too; a file that is gone, too large
 * or unreadable holds none.
 */
export function copiedSecrets(files: readonly string[]): string[] {
  const found: string[] = [];
  let count = 0;
  const read = (path: string): void => {
    const s = statSync(path, { throwIfNoEntry: false });
    if (s === undefined || count >= MAX_COPY_FILES) return;
    if (s.isDirectory()) {
      for (const name of readdirSync(path)) read(join(path, name));
      return;
    }
    if (!s.isFile() || s.size > MAX_COPY_BYTES) return;
    count++;
    const stamp = `${s.size}:${s.mtimeMs}`;
    const known = copiedFileSecrets.get(path);
    if (known?.stamp === stamp) {
      found.push(...known.values);
      return;
    }
    let values: string[] = [];
    try {
      const text = readFileSync(path, 'utf8');
      // A JSON or YAML file is read as such; any other as dotenv lines.
      values = YAML_OR_JSON_FILE.test(path) ? structuredSecrets(text) : dotenvSecrets(text);
    } catch {
      // Unreadable: nothing known to mask.
    }
    copiedFileSecrets.set(path, { stamp, values });
    found.push(...values);
  };
  for (const file of files) read(file);
  return found;
}

/**
 * The values a plan sets under a secret-looking name in an `env` (`defaults.env` or a task's) or in
 * `vars` (`api_token: …`); the plan as parsed or as a file holds them (an `env` that is not a map
 * holds none).
 */
function planSecrets(plan: {
  readonly vars?: unknown;
  readonly defaults?: { readonly env?: unknown };
  readonly tasks?: unknown;
}): string[] {
  const tasks = Array.isArray(plan.tasks) ? (plan.tasks as ({ readonly env?: unknown } | null)[]) : [];
  return [plan.vars, plan.defaults?.env, ...tasks.map((t) => t?.env)].flatMap((e) =>
    e !== null && typeof e === 'object' && !Array.isArray(e)
      ? secretValues(e as Record<string, string | number | boolean | undefined>)
      : [],
  );
}

/**
 * The values of a run's secret-looking `vars` (`--set api_token=…` or the plan's own): they decide
 * `when` conditions, and stay out of the journal, `plan.json` and the reasons a condition gives.
 */
export function varSecrets(vars: Readonly<Record<string, string | number | boolean>>): string[] {
  return secretValues(vars);
}

/**
 * One task's redactor on a remote worker: the worker's own secrets (its collector's key in
 * `OTEL_EXPORTER_OTLP_HEADERS` too, its `.env` for worktrees), and those the task's `env` sets.
 */
export function taskRedactor(
  env: NodeJS.ProcessEnv,
  taskEnv: Readonly<Record<string, string>>,
  /** The secrets of the worker's own `workspace.copy` files (see {@link copiedSecrets}). */
  copied: readonly string[] = [],
): Redactor {
  return redactorOf([...secretValues(env), ...telemetrySecrets(env), ...secretValues(taskEnv), ...copied]);
}

/** The secret values a plan file sets in `env`, by file, while the file stays as it was read. */
const planFileSecrets = new Map<string, { readonly stamp: string; readonly values: readonly string[] }>();

/**
 * The secrets a plan file sets in `env` (`defaults.env` or a task's, under a secret-looking name),
 * read from the file as it is now; none for a file that is gone or does not parse.
 */
function secretsOfPlanFile(file: string): readonly string[] {
  let stamp: string;
  try {
    const s = statSync(file);
    stamp = `${s.size}:${s.mtimeMs}`;
  } catch {
    return [];
  }
  const known = planFileSecrets.get(file);
  if (known?.stamp === stamp) return known.values;
  let values: string[] = [];
  try {
    const raw = parseYamlDocument(readPlanText(file), file).raw;
    if (raw !== null && typeof raw === 'object') values = planSecrets(raw);
  } catch {
    // Not a plan any more: its secrets cannot be known.
  }
  planFileSecrets.set(file, { stamp, values });
  return values;
}

/** Whether a run's journaled plan has secrets masked in it, by its `run.created` event. */
const maskedPlans = new WeakMap<RunEvent, boolean>();

/**
 * What masks a run's logs for someone reading them while the run goes on (`weft logs`, the API,
 * `weft mcp`): the secrets of this environment, those of the files `workspace.copy` put in its
 * worktrees, and those the run's plan sets in `env` — kept
 * masked in the journal, so taken from the plan file its `run.created` names. A log file holds
 * what a task printed as it printed it until its attempt ends.
 */
export function runViewRedactor(env: NodeJS.ProcessEnv, created: RunEvent | undefined): Redactor {
  const o = (created?.type === 'run.created' ? created.options : undefined) as
    { spec?: unknown; planFile?: unknown; copied?: unknown } | undefined;
  let masked = false;
  if (created !== undefined && o !== undefined) {
    // Asked at every poll of a follower: a large plan is serialised once.
    masked = maskedPlans.get(created) ?? JSON.stringify(o.spec ?? null).includes(SECRET_MASK);
    maskedPlans.set(created, masked);
  }
  const fromPlan = masked && typeof o?.planFile === 'string' ? secretsOfPlanFile(o.planFile) : [];
  // The files `workspace.copy` put in the run's worktrees (a `.env`): named in the journal, read here.
  const copied = Array.isArray(o?.copied) ? copiedSecrets(o.copied.filter((f) => typeof f === 'string')) : [];
  return redactorOf([...secretValues(env), ...fromPlan, ...copied]);
}
