import { redactorOf, type Redactor } from '../core/redact.js';

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i;

/**
 * Masks the values of secret-looking environment variables (API keys, tokens) wherever they
 * appear in text bound for the journal, logs or reports.
 */
export function secretRedactor(env: NodeJS.ProcessEnv): Redactor {
  return redactorOf(Object.entries(env).flatMap(([name, value]) => (SECRET_NAME.test(name) && value !== undefined ? [value] : [])));
}
