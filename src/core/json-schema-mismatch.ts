import type { ErrorObject } from 'ajv';

// Why a value does not match a JSON Schema, worded from ajv's errors (json-schema.ts checks it).

/** Where the first mismatch is, e.g. `endpoints[0].method` (`(root)` for the value itself), and what is wrong there. */
export interface SchemaMismatch {
  readonly ok: false;
  readonly path: string;
  readonly problem: string;
}

/** A path as a reader writes it: `endpoints[0].method`, `(root)` when empty. */
export function jsonPath(path: readonly PropertyKey[]): string {
  const text = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  return text === '' ? '(root)' : text;
}

/**
 * The first mismatch in ajv's errors, worded for whoever must fix the value. With `allErrors`
 * off, validation stops at the first failing keyword, whose error is the last; the errors before
 * it are from the branches of an `anyOf`/`oneOf`/`if` that failed on the way.
 */
export function mismatch(errors: readonly ErrorObject[], value: unknown): SchemaMismatch {
  let index = errors.length - 1;
  // `if` failed its `then`/`else`: the error inside says what is missing.
  while (index > 0 && errors[index]?.keyword === 'if') index--;
  const error = errors[index];
  if (error === undefined) return { ok: false, path: '(root)', problem: 'does not match' };
  const path = pointerSegments(error.instancePath, value);
  const params = error.params as Record<string, unknown>;
  const name = (key: string): string | undefined => (typeof params[key] === 'string' ? params[key] : undefined);
  const at = (extra?: string): string => jsonPath(extra === undefined ? path : [...path, extra]);
  switch (error.keyword) {
    case 'required':
      return { ok: false, path: at(name('missingProperty')), problem: 'is required' };
    case 'dependentRequired':
    case 'dependencies':
      return {
        ok: false,
        path: at(name('missingProperty')),
        problem: `is required when ${JSON.stringify(params['property'])} is present`,
      };
    case 'additionalProperties':
      return {
        ok: false,
        path: at(name('additionalProperty')),
        problem: 'is not allowed (additionalProperties: false)',
      };
    case 'unevaluatedProperties':
      return {
        ok: false,
        path: at(name('unevaluatedProperty')),
        problem: 'is not allowed (unevaluatedProperties: false)',
      };
    case 'false schema':
      return { ok: false, path: at(), problem: 'is not allowed (the schema here is false)' };
    case 'type':
      return {
        ok: false,
        path: at(),
        problem: `must be ${typesOf(params['type'])}, not ${kindOf(error.data)}`,
      };
    case 'enum':
      return { ok: false, path: at(), problem: `must be one of ${listOf(params['allowedValues'])}` };
    case 'const':
      return { ok: false, path: at(), problem: `must be ${short(params['allowedValue'])}` };
    case 'anyOf':
    case 'oneOf':
      return {
        ok: false,
        path: at(),
        problem: alternativesProblem(error),
      };
    case 'propertyNames': {
      const inner = errors[index - 1];
      return {
        ok: false,
        path: at(),
        problem: `has a property name ${JSON.stringify(params['propertyName'])} that ${inner?.message ?? 'is not allowed'}`,
      };
    }
    default:
      return { ok: false, path: at(), problem: error.message ?? `does not match ${error.keyword}` };
  }
}

/** Keywords that do not constrain a value. */
const ANNOTATIONS = new Set(['title', 'description', '$comment', 'examples', 'default', 'deprecated']);

/** An `anyOf`/`oneOf` that failed: the types it takes when its branches name only types. */
function alternativesProblem(error: ErrorObject): string {
  if (error.keyword === 'oneOf' && Array.isArray(error.params['passingSchemas']))
    return 'must match exactly one schema in oneOf, but matches more than one';
  const branches: unknown = error.schema;
  const onlyTypes = (b: unknown): b is Readonly<Record<string, unknown>> =>
    isMapping(b) && b['type'] !== undefined && Object.keys(b).every((k) => k === 'type' || ANNOTATIONS.has(k));
  if (Array.isArray(branches) && branches.every(onlyTypes))
    return `must be ${typesOf(branches.map((b) => b['type']))}, not ${kindOf(error.data)}`;
  return `must match a schema in ${error.keyword}`;
}

/** `string or null` from ajv's `type` params (`"string"`, `"string,null"`, or a list of them). */
function typesOf(types: unknown): string {
  const names = [types]
    .flat(2)
    .flatMap((t) => String(t).split(','))
    .filter((t, i, all) => t !== '' && all.indexOf(t) === i);
  return names.length <= 1 ? (names[0] ?? 'another type') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** What a JSON value is, in JSON Schema's type names. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** `"GET", "POST" or "DELETE"`: values as JSON, long ones cut, a long list too. */
function listOf(values: unknown): string {
  const list = Array.isArray(values) ? values.map(short) : [short(values)];
  if (list.length > 12) return `${list.slice(0, 10).join(', ')}, … (${list.length} values)`;
  return list.length <= 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** A JSON Pointer's steps (`/endpoints/0` → `endpoints`, 0): a step into an array is a number. */
export function pointerSegments(pointer: string, value: unknown): PropertyKey[] {
  if (pointer === '') return [];
  const steps: PropertyKey[] = [];
  let here = value;
  for (const raw of pointer.slice(1).split('/')) {
    const step = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(here) && /^\d+$/.test(step)) {
      steps.push(Number(step));
      here = here[Number(step)];
    } else {
      steps.push(step);
      here = isMapping(here) ? here[step] : undefined;
    }
  }
  return steps;
}

export const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
