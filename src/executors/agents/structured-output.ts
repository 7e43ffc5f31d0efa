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

/** What an agent without a schema flag is told to end with (Gemini). */
export function outputInstruction(schema: Readonly<Record<string, unknown>>): string {
  return [
    '',
    'When you are done, reply with only one JSON value — no prose, no code fence — that matches this JSON Schema:',
    JSON.stringify(schema),
  ].join('\n');
}
