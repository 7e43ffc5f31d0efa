import { z } from 'zod';

export type Checked = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/**
 * The JSON value in an agent's final text: the whole text, else its last fenced block, else the
 * span from the first `{`/`[` to the last `}`/`]` (agents like to add a sentence around it).
 */
export function parseJsonAnswer(text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } {
  const candidates = [text.trim()];
  const fences = [...text.matchAll(/```(?:json)?\s*\n?([\s\S]*?)```/g)];
  const lastFence = fences.at(-1)?.[1];
  if (lastFence !== undefined) candidates.push(lastFence.trim());
  const start = text.search(/[{[]/);
  const end = Math.max(text.lastIndexOf('}'), text.lastIndexOf(']'));
  if (start >= 0 && end > start) candidates.push(text.slice(start, end + 1));
  for (const candidate of candidates) {
    try {
      return { ok: true, value: JSON.parse(candidate) as unknown };
    } catch {
      // Try the next way of finding it.
    }
  }
  return { ok: false };
}

/** Validates `value` against the task's `outputSchema` (JSON Schema), with a message naming the first mismatch. */
export function checkOutput(schema: Readonly<Record<string, unknown>>, value: unknown): Checked {
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    return {
      ok: false,
      message: `outputSchema is not a JSON Schema weft can check: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const checked = validator.safeParse(value);
  if (checked.success) return { ok: true, value: checked.data };
  const first = checked.error.issues[0];
  return {
    ok: false,
    message:
      `the answer does not match outputSchema: ${first?.path.join('.') || '(root)'} ${first?.message ?? ''}`.trim(),
  };
}

/** What an agent without a schema flag is told to end with (Gemini). */
export function outputInstruction(schema: Readonly<Record<string, unknown>>): string {
  return [
    '',
    'When you are done, reply with only one JSON value — no prose, no code fence — that matches this JSON Schema:',
    JSON.stringify(schema),
  ].join('\n');
}
