import type { z } from 'zod';
import type { PlanIssue } from '../errors.js';
import { PlanSchema } from './plan-schema.js';
import { closest } from '../suggest.js';

// Schema problems in a YAML writer's words: each zod issue becomes one RawIssue that names the
// field, says what came and how to fix it ("did you mean" for an unknown field).

/** An issue before it is given a file and a line: `path` is where in the document it sits. */
export type RawIssue = Omit<PlanIssue, 'file'> & { readonly path: readonly (string | number)[] };

/** A zod schema as its definition shows it (zod 4's `_zod.def`, the introspection it offers libraries). */
interface SchemaDef {
  readonly type: string;
  readonly shape?: Readonly<Record<string, unknown>>;
  readonly element?: unknown;
  readonly valueType?: unknown;
  readonly innerType?: unknown;
  readonly options?: readonly unknown[];
  readonly in?: unknown;
  readonly getter?: () => unknown;
}
const defOf = (schema: unknown): SchemaDef | undefined =>
  (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;

/** The schemas a value may match, wrappers (optional, default, union, …) looked through. */
function alternatives(schema: unknown): unknown[] {
  const def = defOf(schema);
  if (def === undefined) return [];
  if (def.type === 'union') return (def.options ?? []).flatMap(alternatives);
  if (def.innerType !== undefined) return alternatives(def.innerType);
  if (def.type === 'pipe') return alternatives(def.in);
  if (def.type === 'lazy' && def.getter !== undefined) return alternatives(def.getter());
  return [schema];
}

/**
 * The fields an object at `path` in a plan may have, read off the plan schema itself: a task's,
 * `backoff`'s, a profile's, `workspace.setup`'s… Empty when the path leads to no object schema.
 */
export function knownFieldsAt(path: readonly (string | number)[]): string[] {
  let at = alternatives(PlanSchema);
  for (const key of path)
    at = at.flatMap((schema) => {
      const def = defOf(schema) as SchemaDef;
      if (def.type === 'object' && typeof key === 'string') return alternatives(def.shape?.[key]);
      if (def.type === 'array' && typeof key === 'number') return alternatives(def.element);
      if (def.type === 'record') return alternatives(def.valueType);
      return [];
    });
  const fields = new Set<string>();
  for (const schema of at) for (const key of Object.keys(defOf(schema)?.shape ?? {})) fields.add(key);
  return [...fields];
}

function taskAt(raw: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'tasks' || typeof path[1] !== 'number') return undefined;
  const tasks = (raw as { tasks?: unknown } | null)?.tasks;
  const t = Array.isArray(tasks) ? (tasks[path[1]] as { id?: unknown } | undefined) : undefined;
  return typeof t?.id === 'string' ? t.id : undefined;
}

/** How a message names the field at `path`: `needs[0]` inside a task, `defaults.env.X` outside. */
function fieldName(path: readonly PropertyKey[]): string {
  const rel = path[0] === 'tasks' && typeof path[1] === 'number' ? path.slice(2) : path;
  return (
    rel.reduce<string>(
      (s, p) => (typeof p === 'number' ? `${s}[${p}]` : s === '' ? String(p) : `${s}.${String(p)}`),
      '',
    ) || '(plan)'
  );
}

/** One issue per schema problem in `raw`, several for an issue listing unknown fields. */
export function schemaIssues(error: z.ZodError, raw: unknown): RawIssue[] {
  const issues: RawIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const task = taskAt(raw, path);
    const base = { path, ...(task === undefined ? {} : { task }) };
    if (issue.code === 'unrecognized_keys') {
      const known = knownFieldsAt(path);
      for (const key of issue.keys) {
        const hint = closest(key, known);
        issues.push({
          ...base,
          path: [...path, key],
          field: fieldName([...path, key]),
          message: `unknown field "${key}"`,
          fix:
            hint !== undefined
              ? `did you mean "${hint}"?`
              : known.length === 0
                ? 'remove it'
                : `remove it (known fields: ${known.join(', ')})`,
        });
      }
      continue;
    }
    issues.push({
      ...base,
      field: fieldName(path),
      message: describeZodIssue(issue, raw, path),
      fix: fixFor(issue, path, raw),
    });
  }
  return issues;
}

/** zod's name for a type, as a YAML writer would say it. */
function typeWord(expected: string): string {
  return (
    (
      {
        record: 'a mapping',
        object: 'a mapping',
        array: 'a list',
        number: 'a number',
        int: 'a whole number',
        string: 'a string',
        boolean: 'true or false',
      } as Record<string, string>
    )[expected] ?? expected
  );
}

/** The value at `path` in the document as written (zod's issues do not carry it). */
export function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>(
    (v, key) => (typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[key] : undefined),
    raw,
  );
}

/** What a schema issue means, in a YAML writer's words, for the value at `path` in `raw`. */
export function describeZodIssue(issue: z.core.$ZodIssue, raw: unknown, path: readonly (string | number)[]): string {
  if (path.length === 0 && (raw === null || raw === undefined)) return 'is empty (or holds only comments)';
  if (issue.code === 'invalid_type') return `expected ${typeWord(issue.expected)}, got ${received(raw, path)}`;
  if (issue.code === 'invalid_union') {
    const types = unionTypes(issue);
    return types === undefined ? 'has the wrong type' : `expected ${types}, got ${received(raw, path)}`;
  }
  if (issue.code === 'invalid_value')
    return issue.values.length > 1
      ? `${JSON.stringify(valueAt(raw, path)) ?? 'nothing'} is not one of ${issue.values.map(String).join(', ')}`
      : `expected ${JSON.stringify(issue.values[0]) ?? String(issue.values[0])}, got ${received(raw, path)}`;
  return outOfBounds(issue, raw, path)?.message ?? issue.message;
}

/**
 * A number, text or list past a bound of the schema, in a YAML writer's words, with the fix (zod
 * says "Too small: expected number to be >=0"); undefined for another issue, or for a bound whose
 * message the schema words itself ("a loop runs at least 1 iteration").
 */
function outOfBounds(
  issue: z.core.$ZodIssue,
  raw: unknown,
  path: readonly (string | number)[],
): { readonly message: string; readonly fix: string } | undefined {
  if (issue.code !== 'too_small' && issue.code !== 'too_big') return undefined;
  if (!/^Too (?:small|big):/.test(issue.message)) return undefined;
  const small = issue.code === 'too_small';
  const limit = String(small ? issue.minimum : issue.maximum);
  if (issue.origin === 'number') {
    const exclusive = issue.inclusive === false;
    const [words, fix] = small
      ? exclusive
        ? ['more than', `a number above ${limit}`]
        : ['at least', `${limit} or more`]
      : exclusive
        ? ['less than', `a number below ${limit}`]
        : ['at most', `${limit} or less`];
    return { message: `must be ${words} ${limit}, got ${received(raw, path)}`, fix: `write ${fix}` };
  }
  if (small && limit === '1' && issue.origin === 'string')
    return { message: 'is empty', fix: 'write a value, or remove it' };
  if (small && limit === '1' && issue.origin === 'array')
    return { message: 'is an empty list', fix: 'list at least one item, or remove it' };
  return undefined;
}

/** What the document holds at `path`, as an issue says what came: `a list`, `string "x"`, `nothing`. */
function received(raw: unknown, path: readonly (string | number)[]): string {
  const got = valueAt(raw, path);
  const shown = JSON.stringify(got) ?? '';
  return got === undefined
    ? 'nothing'
    : Array.isArray(got)
      ? 'a list'
      : got === null
        ? 'null'
        : typeof got === 'object'
          ? 'a mapping'
          : `${typeof got} ${shown.length > 40 ? `${shown.slice(0, 37)}…` : shown}`;
}

/**
 * The types a union of plain types takes, in a YAML writer's words (`a string, a number or true or
 * false`), when each of its alternatives failed only on the value's type; else undefined.
 */
function unionTypes(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== 'invalid_union') return undefined;
  const words: string[] = [];
  for (const branch of issue.errors) {
    const only = branch.length === 1 ? branch[0] : undefined;
    if (only?.code !== 'invalid_type' || only.path.length > 0) return undefined;
    words.push(typeWord(only.expected));
  }
  if (words.length === 0) return undefined;
  return words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} or ${words.at(-1) as string}`;
}

/** How the fields that hold a mapping of their own keys are written, for a value of another type (`budget: 5`). */
const MAPPING_EXAMPLES: Readonly<Record<string, string>> = {
  backoff: '{initial: 5s, max: 5m}',
  limits: '{memory: 2GB, cpus: 1.5}',
  budget: '{usd: 5}',
};

function fixFor(issue: z.core.$ZodIssue, path: readonly (string | number)[], raw: unknown): string {
  const last = path.at(-1);
  const given = valueAt(raw, path);
  if (issue.code === 'invalid_value' && typeof given === 'string') {
    const near = closest(given, issue.values.map(String));
    if (near !== undefined) return `did you mean "${near}"?`;
  }
  if (path[0] === 'loop' && path.length === 2 && last === 'max') return 'use a whole number from 1 to 100, e.g. max: 5';
  if (last === 'estimate' || last === 'timeout' || last === 'stallAfter' || last === 'initial' || last === 'max')
    return 'write a duration like 45m, 1h30m, 90s or 250ms';
  if (path[0] === 'workspace' && path[1] === 'setup' && path.length === 3 && last === 'run')
    return 'write the command as an argv list (no shell), e.g. run: [npm, ci]';
  if (path[0] === 'workspace' && issue.code === 'custom') {
    const list = path.at(-2);
    const eg = list === 'key' ? 'package-lock.json' : list === 'share' ? 'node_modules' : '.env or config/local.json';
    return `write the path from the repository top, e.g. ${eg}`;
  }
  if (last === 'id')
    return issue.code === 'too_big'
      ? `shorten it to at most ${String(issue.maximum)} characters`
      : 'use letters, digits, ".", "_" and "-" (e.g. build-api)';
  if (last === 'run') return 'write a command string or an argv list, e.g. run: ["npm", "test"]';
  if (last === 'needs' || last === 'after' || last === 'writes') return 'write a list, e.g. [a, b]';
  const parent = path.at(-2);
  if (typeof last === 'number' && (parent === 'needs' || parent === 'after')) return 'write a task id, e.g. "build"';
  if (last === 'workers') return 'use a whole number from 1 to 1024';
  if (typeof last === 'number' && path.at(-2) === 'labels') return 'name the label like gpu or linux-x64';
  if (last === 'memory' && path.at(-2) === 'limits') return 'write a size like 2GB, 512MB or 100M (a number is bytes)';
  if (path[0] === 'loop' && path.length === 2 && last === 'repeat')
    return 'list the tasks each iteration runs again, e.g. repeat: [code, review]';
  if (path[0] === 'contracts' && path.length === 3 && last === 'consumers')
    return 'list the tasks that build against it, e.g. consumers: [frontend]';
  if (path[0] === 'contracts' && path.length === 3 && last === 'name') return 'name it like todo-api';
  // `tasks: {build: {run: …}}`, a mapping by id as other tools write it: weft's is a list with ids.
  if (path.length === 1 && last === 'tasks' && typeof given === 'object' && given !== null && !Array.isArray(given))
    return 'write tasks as a list, each with its id: `- id: build` and its fields under it';
  if (path.length === 0 && (given === null || given === undefined))
    return 'write a plan: `tasks:` with at least one task (`weft init` writes one from a template)';
  if (path.length === 0 || last === 'tasks') return 'a plan needs `tasks:` with at least one task';
  const bounds = outOfBounds(issue, raw, path);
  if (bounds !== undefined) return bounds.fix;
  const example = typeof last === 'string' ? MAPPING_EXAMPLES[last] : undefined;
  if (issue.code === 'invalid_type' && issue.expected === 'object' && example !== undefined)
    return `write a mapping, e.g. ${last as string}: ${example}`;
  if (issue.code === 'invalid_type')
    return `write ${typeWord(issue.expected)}${issue.expected === 'record' || issue.expected === 'object' ? ', e.g. {NAME: value}' : ''}`;
  const types = unionTypes(issue);
  if (types !== undefined) return `write ${types}`;
  if (issue.code === 'invalid_value' && issue.values.length > 0) {
    const values = issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    return values.length === 1 && typeof last === 'string'
      ? `write ${last}: ${values[0]}`
      : `use ${values.join(' or ')}`;
  }
  return 'see `weft schema` for the expected shape';
}

/** Where an issue about `tasks[i].<field>…` sits: its document path, its task and its field name. */
export function issueAt(
  i: number,
  task: string,
  field: string,
  rest: readonly (string | number)[],
): Pick<RawIssue, 'path' | 'task' | 'field'> {
  const path = ['tasks', i, field, ...rest];
  return { path, task, field: fieldName(path) };
}
