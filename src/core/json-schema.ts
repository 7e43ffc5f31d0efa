import { z } from 'zod';

/** A value checked against a JSON Schema: the value as parsed, or where and why it does not match. */
export type SchemaCheck =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      /** Where the first mismatch is, e.g. `endpoints[0].method`; `(root)` for the value itself. */
      readonly path: string;
      /** What is wrong there. */
      readonly problem: string;
    };

/**
 * Why `schema` is not a JSON Schema weft can check values against, or `undefined` when it is. The
 * checker is zod's `fromJSONSchema` (weft's one JSON Schema validator, also used for `outputSchema`);
 * the common slips it lets through (`properties` not a mapping, `required` not a list of names) are
 * refused here.
 *
 * @example
 * jsonSchemaProblem({ type: 'strin' }); // → 'Unsupported type: strin'
 */
export function jsonSchemaProblem(schema: Readonly<Record<string, unknown>>): string | undefined {
  const slip = structuralSlip(schema, '');
  if (slip !== undefined) return slip;
  try {
    validatorOf(schema);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Checks `value` against `schema` and names the first mismatch by its path.
 *
 * @example
 * checkJson({ type: 'object', required: ['id'] }, {}); // → { ok: false, path: 'id', problem: 'Invalid input: expected nonoptional, received undefined' }
 */
export function checkJson(schema: Readonly<Record<string, unknown>>, value: unknown): SchemaCheck {
  let validator: z.ZodType;
  try {
    validator = validatorOf(schema);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { ok: false, path: '(schema)', problem: `not a JSON Schema weft can check: ${why}` };
  }
  const checked = validator.safeParse(value);
  if (checked.success) return { ok: true, value: checked.data };
  const first = checked.error.issues[0];
  return { ok: false, path: jsonPath(first?.path ?? []), problem: first?.message ?? 'does not match' };
}

/** zod's validator for a JSON Schema, with the gaps of its converter filled ({@link withGapsFilled}). */
function validatorOf(schema: Readonly<Record<string, unknown>>): z.ZodType {
  return z.fromJSONSchema(withGapsFilled(schema) as Parameters<typeof z.fromJSONSchema>[0]);
}

/** Keywords whose values are data (a value to compare with), not schemas: never rewritten. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples']);

/**
 * A copy of `schema` that means what JSON Schema says the original means, where zod's converter
 * would ignore part of it:
 * - Every name in a `required` list is also under `properties`: the converter enforces `required`
 *   only for the names `properties` lists (`{type: object, required: [b]}` alone accepted `{}`). A
 *   name added this way takes any value, or the `additionalProperties` schema when there is one (a
 *   name that `additionalProperties: false` forbids is refused before: {@link structuralSlip}).
 * - An array with `minItems`/`maxItems` and no `items` gets `items: {}` (any item): without it the
 *   converter dropped the limits, so `{type: array, minItems: 1}` accepted `[]`.
 */
function withGapsFilled(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withGapsFilled);
  if (!isMapping(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = DATA_KEYWORDS.has(key) ? value : withGapsFilled(value);
  const counted = out['minItems'] !== undefined || out['maxItems'] !== undefined;
  if (counted && out['items'] === undefined && out['prefixItems'] === undefined) out['items'] = {};
  const missing = unlistedRequired(out);
  if (missing.length === 0) return out;
  const extra = out['additionalProperties'];
  const anyValue = isMapping(extra) ? extra : {};
  out['properties'] = { ...listedProperties(out), ...Object.fromEntries(missing.map((name) => [name, anyValue])) };
  return out;
}

const listedProperties = (schema: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> =>
  isMapping(schema['properties']) ? schema['properties'] : {};

/** The names in `schema`'s `required` list that its `properties` does not list. */
function unlistedRequired(schema: Readonly<Record<string, unknown>>): string[] {
  const required = schema['required'];
  if (!Array.isArray(required)) return [];
  const listed = listedProperties(schema);
  return required.filter((name): name is string => typeof name === 'string' && !Object.hasOwn(listed, name));
}

/** A zod issue path as a reader writes it: `endpoints[0].method`, `(root)` when empty. */
export function jsonPath(path: readonly PropertyKey[]): string {
  const text = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  return text === '' ? '(root)' : text;
}

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

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Slips zod's converter accepts silently, found by walking the schema (`at` is where, for the message). */
function structuralSlip(schema: unknown, at: string): string | undefined {
  if (typeof schema === 'boolean') return undefined;
  if (!isMapping(schema)) return `${at || 'the schema'} must be a mapping (or true/false)`;
  const where = (key: string): string => (at === '' ? key : `${at}.${key}`);
  const props = schema['properties'];
  if (props !== undefined) {
    if (!isMapping(props)) return `${where('properties')} must be a mapping of property names to schemas`;
    for (const [name, sub] of Object.entries(props)) {
      const slip = structuralSlip(sub, `${where('properties')}.${name}`);
      if (slip !== undefined) return slip;
    }
  }
  const required = schema['required'];
  if (required !== undefined && (!Array.isArray(required) || required.some((r) => typeof r !== 'string')))
    return `${where('required')} must be a list of property names`;
  const forbidden = forbiddenRequired(schema);
  if (forbidden !== undefined)
    return `${where('required')} names "${forbidden}", which \`additionalProperties: false\` forbids: list it under ${where('properties')}`;
  const items = schema['items'];
  if (items !== undefined) {
    const slip = structuralSlip(items, where('items'));
    if (slip !== undefined) return slip;
  }
  const enumValues = schema['enum'];
  if (enumValues !== undefined && !Array.isArray(enumValues)) return `${where('enum')} must be a list of values`;
  return undefined;
}

/** A required name no value can have: not under `properties` while `additionalProperties: false` (and no `patternProperties`) forbids every other name. */
function forbiddenRequired(schema: Readonly<Record<string, unknown>>): string | undefined {
  if (schema['additionalProperties'] !== false || schema['patternProperties'] !== undefined) return undefined;
  return unlistedRequired(schema)[0];
}
