import { statSync } from 'node:fs';
import { redactorOf, SECRET_MASK, type Redactor } from '../core/redact.js';
import type { RunEvent } from '../core/run/events.js';
import { parseYamlDocument, readPlanText } from '../plan/load-plan.js';
import type { PlanSpec } from '../core/plan/plan-schema.js';
import { telemetrySecrets } from '../telemetry/start-telemetry.js';

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i;

/** Values of the secret-looking names (API keys, tokens, passwords) in one set of variables. */
function secretValues(vars: Readonly<Record<string, string | number | boolean | undefined>>): string[] {
  return Object.entries(vars).flatMap(([name, value]) =>
    SECRET_NAME.test(name) && value !== undefined ? [String(value)] : [],
  );
}

/**
 * Masks the values of secret-looking environment variables (API keys, tokens) wherever they
 * appear in text bound for the journal, logs or reports.
 */
export function secretRedactor(env: NodeJS.ProcessEnv): Redactor {
  return redactorOf(secretValues(env));
}

/**
 * A run's redactor: the secrets of weft's environment and those the plan itself sets in an `env`
 * (`defaults.env` or a task's) under a secret-looking name, e.g. `env: { DB_PASSWORD: … }`, and
 * `more` (a token in the shared git remote's URL).
 */
export function runRedactor(env: NodeJS.ProcessEnv, spec: PlanSpec, more: readonly string[] = []): Redactor {
  // A collector's key in OTEL_EXPORTER_OTLP_HEADERS is a secret too, though its name does not say so.
  return redactorOf([...secretValues(env), ...telemetrySecrets(env), ...planEnvSecrets(spec), ...more]);
}

/**
 * The values a plan sets in an `env` (`defaults.env` or a task's) under a secret-looking name; the
 * plan as parsed or as a file holds it (an `env` that is not a map holds none).
 */
function planEnvSecrets(plan: { readonly defaults?: { readonly env?: unknown }; readonly tasks?: unknown }): string[] {
  const tasks = Array.isArray(plan.tasks) ? (plan.tasks as ({ readonly env?: unknown } | null)[]) : [];
  return [plan.defaults?.env, ...tasks.map((t) => t?.env)].flatMap((e) =>
    e !== null && typeof e === 'object' && !Array.isArray(e)
      ? secretValues(e as Record<string, string | number | boolean | undefined>)
      : [],
  );
}

/**
 * One task's redactor on a remote worker: the worker's own secrets (its collector's key in
 * `OTEL_EXPORTER_OTLP_HEADERS` too) and those the task's `env` sets.
 */
export function taskRedactor(env: NodeJS.ProcessEnv, taskEnv: Readonly<Record<string, string>>): Redactor {
  return redactorOf([...secretValues(env), ...telemetrySecrets(env), ...secretValues(taskEnv)]);
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
    if (raw !== null && typeof raw === 'object') values = planEnvSecrets(raw);
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
 * `weft mcp`): the secrets of this environment, and those the run's plan sets in `env` — kept
 * masked in the journal, so taken from the plan file its `run.created` names. A log file holds
 * what a task printed as it printed it until its attempt ends.
 */
export function runViewRedactor(env: NodeJS.ProcessEnv, created: RunEvent | undefined): Redactor {
  const o = (created?.type === 'run.created' ? created.options : undefined) as
    { spec?: unknown; planFile?: unknown } | undefined;
  let masked = false;
  if (created !== undefined && o !== undefined) {
    // Asked at every poll of a follower: a large plan is serialised once.
    masked = maskedPlans.get(created) ?? JSON.stringify(o.spec ?? null).includes(SECRET_MASK);
    maskedPlans.set(created, masked);
  }
  const fromPlan = masked && typeof o?.planFile === 'string' ? secretsOfPlanFile(o.planFile) : [];
  return redactorOf([...secretValues(env), ...fromPlan]);
}
