import { redactorOf, type Redactor } from '../core/redact.js';
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
  const planEnvs = [spec.defaults?.env ?? {}, ...spec.tasks.map((t) => t.env ?? {})];
  // A collector's key in OTEL_EXPORTER_OTLP_HEADERS is a secret too, though its name does not say so.
  return redactorOf([...secretValues(env), ...telemetrySecrets(env), ...planEnvs.flatMap(secretValues), ...more]);
}

/**
 * One task's redactor on a remote worker: the worker's own secrets (its collector's key in
 * `OTEL_EXPORTER_OTLP_HEADERS` too) and those the task's `env` sets.
 */
export function taskRedactor(env: NodeJS.ProcessEnv, taskEnv: Readonly<Record<string, string>>): Redactor {
  return redactorOf([...secretValues(env), ...telemetrySecrets(env), ...secretValues(taskEnv)]);
}
