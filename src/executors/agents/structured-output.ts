import { checkJson, parseJsonAnswer } from '../../core/json-schema.js';

export { parseJsonAnswer };

export type Checked = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** Validates `value` against the task's `outputSchema` (JSON Schema), with a message naming the first mismatch. */
export function checkOutput(schema: Readonly<Record<string, unknown>>, value: unknown): Checked {
  const checked = checkJson(schema, value);
  if (checked.ok) return checked;
  if (checked.path === '(schema)') return { ok: false, message: `outputSchema is ${checked.problem}` };
  return { ok: false, message: `the answer does not match outputSchema: ${checked.path} ${checked.problem}`.trim() };
}

/**
 * What a task whose answer missed its `outputSchema` is told when it goes back to fix it (the
 * work may be fine, only the answer is off).
 */
export function schemaFix(message: string, schema: Readonly<Record<string, unknown>>): string {
  return `${message}. Reply with only one JSON value — no prose, no code fence — that matches this JSON Schema:\n${JSON.stringify(schema)}`;
}

/** What an agent without a schema flag is told to end with (Gemini). */
export function outputInstruction(schema: Readonly<Record<string, unknown>>): string {
  return [
    '',
    'When you are done, reply with only one JSON value — no prose, no code fence — that matches this JSON Schema:',
    JSON.stringify(schema),
  ].join('\n');
}
