import AjvModule from 'ajv';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { closest } from './suggest.js';
import { isMapping, jsonPath, mismatch, pointerSegments, type SchemaMismatch } from './json-schema-mismatch.js';

export { jsonPath } from './json-schema-mismatch.js';

/** A value checked against a JSON Schema: the value as parsed, or where and why it does not match. */
export type SchemaCheck = { readonly ok: true; readonly value: unknown } | SchemaMismatch;

type Schema = Readonly<Record<string, unknown>>;

/**
 * Why `schema` is not a JSON Schema weft can check values against, or `undefined` when it is. The
 * checker is ajv (JSON Schema 2020-12, or draft-07 when `$schema` names it), the one JSON Schema
 * validator weft has: `outputSchema` and contracts both use it. Refused besides what the
 * meta-schema refuses: a keyword or `format` ajv does not know (a typo like `minimun` would check
 * nothing), and a `required` name that `additionalProperties: false` forbids (no value could match).
 *
 * @example
 * jsonSchemaProblem({ type: 'strng' }); // → 'type "strng" is not a JSON Schema type: did you mean "string"?'
 */
export function jsonSchemaProblem(schema: Schema): string | undefined {
  const compiled = compiledOf(schema);
  return 'problem' in compiled ? compiled.problem : undefined;
}

/**
 * Checks `value` against `schema` and names the first mismatch by its path. The value is not
 * changed (a `default` is an annotation, never filled in).
 *
 * @example
 * checkJson({ type: 'object', required: ['id'] }, {}); // → { ok: false, path: 'id', problem: 'is required' }
 */
export function checkJson(schema: Schema, value: unknown): SchemaCheck {
  const compiled = compiledOf(schema);
  if ('problem' in compiled)
    return { ok: false, path: '(schema)', problem: `not a JSON Schema weft can check: ${compiled.problem}` };
  if (compiled.validate(value)) return { ok: true, value };
  return mismatch(compiled.validate.errors ?? [], value);
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

// ---------------------------------------------------------------------------------------------
// Compiling

type Compiled = { readonly validate: ValidateFunction } | { readonly problem: string };

/** Each schema object compiled once: a task's schema is checked at every attempt. */
const compiledSchemas = new WeakMap<object, Compiled>();

function compiledOf(schema: Schema): Compiled {
  if (!isMapping(schema)) return { problem: 'the schema must be a mapping' };
  let compiled = compiledSchemas.get(schema);
  if (compiled === undefined) {
    compiled = compile(schema);
    compiledSchemas.set(schema, compiled);
  }
  return compiled;
}

type Draft = '2020-12' | 'draft-07';

/** The `$schema` values weft checks, without a trailing `#`. */
const DRAFTS: ReadonlyMap<string, Draft> = new Map([
  ['https://json-schema.org/draft/2020-12/schema', '2020-12'],
  ['http://json-schema.org/draft-07/schema', 'draft-07'],
]);

const OPTIONS: Options = {
  allErrors: false,
  // Refused, not ignored: an unknown keyword (`minimun`) or format would check nothing.
  strictSchema: true,
  strictNumbers: true,
  // JSON Schema's meaning: `{minimum: 5}` holds for numbers and lets anything else through.
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  // The meta-schema check is made by hand first, to word its errors ("schema is invalid: data/…" otherwise).
  validateSchema: false,
  // A schema's `$id` is not kept between schemas (two plans may use the same one).
  addUsedSchema: false,
  // `multipleOf: 0.01` holds for 0.3 (0.3 / 0.01 is 29.999999999999996).
  multipleOfPrecision: 9,
  // An error carries the schema and the value where it failed (read only when a value does not match).
  verbose: true,
  logger: false,
};

/** One ajv per draft, made when first needed: building one and its meta-schema takes tens of ms. */
const checkers = new Map<Draft, Checker>();
type Checker = InstanceType<typeof Ajv2020Module.default>;

function checkerFor(draft: Draft): Checker {
  let checker = checkers.get(draft);
  if (checker === undefined) {
    checker = draft === '2020-12' ? new Ajv2020Module.default(OPTIONS) : new AjvModule.default(OPTIONS);
    addFormatsModule.default(checker);
    checkers.set(draft, checker);
  }
  return checker;
}

function compile(schema: Schema): Compiled {
  const declared = schema['$schema'];
  const draft = declared === undefined ? '2020-12' : DRAFTS.get(String(declared).replace(/#$/, ''));
  if (draft === undefined)
    return {
      problem: `$schema ${JSON.stringify(declared)} is not a draft weft checks: leave it out (JSON Schema 2020-12), or use ${[...DRAFTS.keys()].join(' or ')}`,
    };
  const before = slipBeforeMeta(schema, draft);
  if (before !== undefined) return { problem: before };
  const checker = checkerFor(draft);
  const id = schema['$id'];
  if (typeof id === 'string' && isTaken(checker, id))
    return {
      problem: `$id ${JSON.stringify(id)} is the id of a JSON Schema meta-schema: give the schema an id of its own`,
    };
  if (checker.validateSchema(schema) !== true) return { problem: metaProblem(checker.errors ?? [], schema) };
  const after = slipAfterMeta(schema, draft);
  if (after !== undefined) return { problem: after };
  try {
    return { validate: checker.compile(schema) };
  } catch (error) {
    return { problem: compileProblem(error instanceof Error ? error.message : String(error), schema, draft, checker) };
  } finally {
    // ajv keeps every schema it compiled (a Map): a long-lived server checks many plans.
    checker.removeSchema(schema);
  }
}

/** An id the checker already holds (a meta-schema's): compiling over it would lose that schema. */
function isTaken(checker: Checker, id: string): boolean {
  const key = id.replace(/#$/, '');
  return checker.schemas[key] !== undefined || checker.refs[key] !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Where a schema has sub-schemas

/** Keywords whose value is a schema. */
const SCHEMA_KEYWORDS = [
  'additionalProperties',
  'unevaluatedProperties',
  'propertyNames',
  'additionalItems',
  'unevaluatedItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'contentSchema',
];
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/**
 * Each sub-schema of `schema` with the path to it (`properties`, `a`), not the schemas in them.
 * Values that are data (`const`, `enum`, `default`, `examples`) are never read as schemas.
 */
function* subSchemas(schema: Schema, draft: Draft): Generator<readonly [readonly PropertyKey[], unknown]> {
  for (const key of SCHEMA_KEYWORDS) if (schema[key] !== undefined) yield [[key], schema[key]];
  const items = schema['items'];
  if (Array.isArray(items) && draft === 'draft-07') for (const [i, sub] of items.entries()) yield [['items', i], sub];
  else if (items !== undefined) yield [['items'], items];
  for (const key of SCHEMA_LIST_KEYWORDS) {
    const list = schema[key];
    if (Array.isArray(list)) for (const [i, sub] of list.entries()) yield [[key, i], sub];
  }
  for (const key of [...SCHEMA_MAP_KEYWORDS, 'dependencies']) {
    const map = schema[key];
    if (!isMapping(map)) continue;
    for (const [name, sub] of Object.entries(map))
      if (key !== 'dependencies' || !Array.isArray(sub)) yield [[key, name], sub];
  }
}

/** The first (depth first) of `found` in `schema` or its sub-schemas, with where it is. */
function findInSchema<T>(
  schema: unknown,
  draft: Draft,
  found: (schema: Schema, at: readonly PropertyKey[]) => T | undefined,
  at: readonly PropertyKey[] = [],
): T | undefined {
  if (!isMapping(schema)) return undefined;
  const here = found(schema, at);
  if (here !== undefined) return here;
  for (const [path, sub] of subSchemas(schema, draft)) {
    const inside = findInSchema(sub, draft, found, [...at, ...path]);
    if (inside !== undefined) return inside;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Why a schema is refused

const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];

/** Common slips, worded for a plan's author before the meta-schema's terser words. */
function slipBeforeMeta(schema: Schema, draft: Draft): string | undefined {
  return findInSchema(schema, draft, (s, at) => {
    const where = (key: string): string => jsonPath([...at, key]);
    for (const [path, sub] of subSchemas(s, draft))
      if (!isMapping(sub) && typeof sub !== 'boolean') {
        const key = String(path[0]);
        if (key === 'items' && Array.isArray(sub))
          return `${where(key)} must be a schema: a list of schemas, one per position, is prefixItems in JSON Schema 2020-12`;
        return `${jsonPath([...at, ...path])} must be a schema (a mapping, or true/false)`;
      }
    for (const key of SCHEMA_MAP_KEYWORDS)
      if (s[key] !== undefined && !isMapping(s[key])) return `${where(key)} must be a mapping of names to schemas`;
    const types = s['type'];
    for (const type of Array.isArray(types) ? types : types === undefined ? [] : [types]) {
      if (typeof type === 'string' && JSON_TYPES.includes(type)) continue;
      const near = typeof type === 'string' ? closest(type, JSON_TYPES) : undefined;
      return `${where('type')} ${JSON.stringify(type)} is not a JSON Schema type: ${near === undefined ? `use ${JSON_TYPES.join(', ')}` : `did you mean "${near}"?`}`;
    }
    const required = s['required'];
    if (required !== undefined && (!Array.isArray(required) || required.some((r) => typeof r !== 'string')))
      return `${where('required')} must be a list of property names`;
    if (s['enum'] !== undefined && !Array.isArray(s['enum'])) return `${where('enum')} must be a list of values`;
    return undefined;
  });
}

/** What the meta-schema accepts and still no value could match. */
function slipAfterMeta(schema: Schema, draft: Draft): string | undefined {
  return findInSchema(schema, draft, (s, at) => {
    const forbidden = forbiddenRequired(s);
    if (forbidden === undefined) return undefined;
    return `${jsonPath([...at, 'required'])} names "${forbidden}", which \`additionalProperties: false\` forbids: list it under ${jsonPath([...at, 'properties'])}`;
  });
}

/** A required name no value can have: not under `properties` while `additionalProperties: false` (and no `patternProperties`) forbids every other name. */
function forbiddenRequired(schema: Schema): string | undefined {
  if (schema['additionalProperties'] !== false || schema['patternProperties'] !== undefined) return undefined;
  const required = schema['required'];
  const listed = isMapping(schema['properties']) ? schema['properties'] : {};
  if (!Array.isArray(required)) return undefined;
  return required.find((name): name is string => typeof name === 'string' && !Object.hasOwn(listed, name));
}

/** The meta-schema's first complaint, at its place in the schema (`properties.a.minItems must be >= 0`). */
function metaProblem(errors: readonly ErrorObject[], schema: Schema): string {
  const found = mismatch(errors, schema);
  return found.path === '(root)' ? `the schema ${found.problem}` : `${found.path} ${found.problem}`;
}

/** Some of the formats ajv-formats checks, for a message. */
const COMMON_FORMATS = 'date-time, date, time, duration, email, hostname, ipv4, ipv6, uri, url, uuid, regex';

/** ajv's compile error, located and with "did you mean" for an unknown keyword or format. */
function compileProblem(message: string, schema: Schema, draft: Draft, checker: Checker): string {
  const keyword = /^strict mode: unknown keyword: "(.*)"$/.exec(message)?.[1];
  if (keyword !== undefined) {
    const at = findInSchema(schema, draft, (s, path) => (Object.hasOwn(s, keyword) ? path : undefined));
    const known = Object.keys(checker.RULES.keywords);
    const near = closest(keyword, known);
    return [
      `${at === undefined || at.length === 0 ? '' : `${jsonPath(at)} has `}unknown keyword "${keyword}": `,
      near === undefined ? `JSON Schema ${draft} has no such keyword` : `did you mean "${near}"?`,
    ].join('');
  }
  const format = /^unknown format "(.*)" ignored in schema at path "#(.*)"$/.exec(message);
  if (format !== null) {
    const [, name = '', pointer = ''] = format;
    const near = closest(name, Object.keys(checker.formats));
    const at = jsonPath(pointerSegments(pointer, schema));
    return [
      `${at === '(root)' ? '' : `${at} has `}unknown format "${name}": `,
      near === undefined
        ? `weft checks ${COMMON_FORMATS}, … (leave it out, or give a pattern)`
        : `did you mean "${near}"?`,
    ].join('');
  }
  return message.replace(/^strict mode: /, '');
}
