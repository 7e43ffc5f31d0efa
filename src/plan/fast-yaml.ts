import { FAILSAFE_SCHEMA, load, Type } from 'js-yaml';

/**
 * The fast path for YAML plan files: js-yaml builds plain values (a 100,000-task file in well under
 * a second) where the `yaml` package builds a document with a position for every node (~30 s and
 * 2 GB). Positions are only needed for an error message; the caller re-parses with `yaml` when
 * there is one to report, and whenever this path is not sure to read the text the same way.
 */

// YAML 1.2's core schema, exactly as the `yaml` package resolves plain scalars (js-yaml's own
// CORE_SCHEMA also reads `0b11` as 3 and `-.5` as a string, where `yaml` does not). js-yaml resolves
// implicit types for plain scalars only, as YAML does: a quoted "12" stays a string.
// Each type's pattern is tried only on a scalar whose first character can start a match, as js-yaml's
// own types do: most plain scalars in a plan are keys and ids, and a regex each for 4 types was ~5%
// of the parse. An empty scalar passes every guard (`includes('')`): the patterns decide it.
const scalar = (tag: string, first: string, pattern: RegExp, construct: (data: string) => unknown): Type =>
  new Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: (data: string | null) => data !== null && first.includes(data.charAt(0)) && pattern.test(data),
    construct: (data: string) => construct(data),
  });
const NULL = /^(?:~|null|Null|NULL|)$/;
const FLOAT =
  /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const DIGITS = '0123456789';
const CORE_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type('tag:yaml.org,2002:null', {
      kind: 'scalar',
      resolve: (data: string | null) => data === null || ('~nN'.includes(data.charAt(0)) && NULL.test(data)),
      construct: () => null,
    }),
    scalar('bool', 'tTfF', /^(?:true|True|TRUE|false|False|FALSE)$/, (d) => d[0] === 't' || d[0] === 'T'),
    scalar('int', `-+${DIGITS}`, /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/, (d) =>
      d.startsWith('0o') ? parseInt(d.slice(2), 8) : d.startsWith('0x') ? parseInt(d.slice(2), 16) : parseInt(d, 10),
    ),
    scalar('float', `-+.${DIGITS}`, FLOAT, (d) => {
      const lower = d.toLowerCase();
      if (lower.endsWith('.nan')) return NaN;
      if (lower.endsWith('.inf')) return d.startsWith('-') ? -Infinity : Infinity;
      return parseFloat(d);
    }),
  ],
});

/**
 * The plain value of YAML `text`, or `undefined` when the caller should take the `yaml` path: the
 * text does not parse (that path reports where; `onError` hears the line js-yaml stopped at),
 * repeats a key, uses an alias (a node shared between places, which `yaml` bounds against alias
 * bombs), or nests deeper than `maxDepth`.
 */
export function parseYamlFast(text: string, maxDepth: number, onError?: (line: number) => void): unknown {
  let value: unknown;
  try {
    value = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    // Where js-yaml stopped (its mark's line is 0-based): a syntax error, a repeated key.
    const line = (error as { mark?: { line?: unknown } }).mark?.line;
    if (typeof line === 'number') onError?.(line + 1);
    return undefined;
  }
  // Without an `&` there is no anchor, so no alias (js-yaml refuses one that names no anchor): no
  // node can be reached twice, and the walk need not remember the 200k nodes of a 100k-task plan.
  return plainTree(value, maxDepth, text.includes('&')) ? value : undefined;
}

/** Whether `value` is a tree (no node reached twice, looked for when `shared`) no deeper than `maxDepth`. */
function plainTree(value: unknown, maxDepth: number, shared: boolean): boolean {
  const seen = shared ? new Set<object>() : undefined;
  const walk = (node: unknown, depth: number): boolean => {
    if (typeof node !== 'object' || node === null) return true;
    if (depth > maxDepth || seen?.has(node) === true) return false;
    seen?.add(node);
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) if (!walk(child, depth + 1)) return false;
    return true;
  };
  return walk(value, 1);
}
