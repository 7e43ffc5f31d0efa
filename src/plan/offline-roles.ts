import picomatch from 'picomatch';
import type { PlanSpec, TaskSpec } from '../core/plan/plan-schema.js';

/**
 * What an offline stand-in does besides sleeping and writing its outputs, so that an offline run
 * shows weft's routing at work: a contract's provider writes output made from the contract's
 * schema (`WEFT_OUTPUT`), a check fails while a task it verifies has left a marker file, and —
 * on their first attempt only — the provider writes output that breaks its contract and the first
 * task each check verifies leaves that marker. Given the failure back (`WEFT_FEEDBACK`), they fix it.
 * A loop's feedback tasks (reviewers) object in the first iteration and approve from the second
 * (`WEFT_ITERATION`), so the loop runs twice and passes.
 */
export interface OfflineRoles {
  /** Provider id → the schemas of the contracts it provides. */
  readonly provides: ReadonlyMap<string, readonly Readonly<Record<string, unknown>>[]>;
  /** Tasks that break their check on the first attempt (the first each check verifies). */
  readonly breakers: ReadonlySet<string>;
  /** Where each breaker leaves its marker, from its folder: inside its `writes`, or it would not be merged. */
  readonly markers: ReadonlyMap<string, string>;
  /** Checks (tasks with `verifies`). */
  readonly checks: ReadonlySet<string>;
  /** A loop's feedback tasks with an `outputSchema`: what each outputs in iteration 1, and from iteration 2 on. */
  readonly reviewers: ReadonlyMap<string, { readonly objects: unknown; readonly approves: unknown }>;
}

/** The marker a breaker leaves in the tree until it is given the check's failure back. */
export const BROKEN_MARKER = 'OFFLINE-BROKEN';

/** The roles of a plan's tasks offline (see {@link OfflineRoles}). */
export function offlineRoles(spec: Pick<PlanSpec, 'contracts' | 'tasks' | 'loop'>): OfflineRoles {
  const provides = new Map<string, Readonly<Record<string, unknown>>[]>();
  for (const c of spec.contracts ?? [])
    if (c.schema !== undefined) provides.set(c.provider, [...(provides.get(c.provider) ?? []), c.schema]);
  const checks = new Set(spec.tasks.filter((t) => (t.verifies ?? []).length > 0).map((t) => t.id));
  const breakers = new Set(spec.tasks.flatMap((t) => (t.verifies ?? []).slice(0, 1)));
  const markers = new Map(spec.tasks.filter((t) => breakers.has(t.id)).map((t) => [t.id, markerPath(t)] as const));
  const reviewers = new Map<string, { objects: unknown; approves: unknown }>();
  for (const id of spec.loop?.feedback ?? []) {
    const schema = spec.tasks.find((t) => t.id === id)?.outputSchema;
    if (schema !== undefined)
      reviewers.set(id, { objects: verdictOf(schema, false, id), approves: verdictOf(schema, true, id) });
  }
  return { provides, breakers, markers, checks, reviewers };
}

/**
 * Where a breaker leaves its marker: in the first folder its `writes` name (`server/**` → `server/`),
 * as a task's work that changes anything else is not merged; in its own folder when it has none.
 */
function markerPath(t: Pick<TaskSpec, 'id' | 'writes'>): string {
  const name = `${BROKEN_MARKER}-${t.id}`;
  for (const glob of t.writes ?? []) {
    if (glob.trim().startsWith('!')) continue;
    const { base, isGlob } = picomatch.scan(glob.trim().replace(/^\.\//, ''));
    // A plain path is a folder unless it names a file (`report.md`).
    const dir = isGlob ? base : /\.[^/]*$/.test(base) ? undefined : base.replace(/\/+$/, '');
    if (dir !== undefined) return dir === '' ? name : `${dir}/${name}`;
  }
  return name;
}

/**
 * A reviewer's answer made from its output schema: approving, every number at its `maximum`, every
 * string empty, every boolean false; objecting, numbers at their `minimum`, strings saying so, booleans true.
 */
function verdictOf(schema: unknown, approves: boolean, id: string): unknown {
  const props = isObject(schema) && isObject(schema['properties']) ? schema['properties'] : {};
  return Object.fromEntries(
    Object.entries(props).map(([key, p]) => {
      const type = isObject(p) ? p['type'] : undefined;
      if (type === 'number' || type === 'integer') {
        const bound = isObject(p) ? p[approves ? 'maximum' : 'minimum'] : undefined;
        return [key, typeof bound === 'number' ? bound : approves ? 1 : 0];
      }
      if (type === 'string') return [key, approves ? '' : `offline stand-in: ${id} objects in iteration 1`];
      if (type === 'boolean') return [key, !approves];
      return [key, sampleOf(p)];
    }),
  );
}

/** The shell steps of task `id`'s role, after its sleep; empty when it has none. */
export function roleSteps(id: string, roles: OfflineRoles): string[] {
  const steps: string[] = [];
  const schemas = roles.provides.get(id);
  if (schemas !== undefined) {
    const good = JSON.stringify(Object.assign({}, ...schemas.map((s) => sampleOf(s)).filter(isObject)));
    steps.push(
      `if [ -n "$WEFT_FEEDBACK" ]; then printf '%s\\n' ${quote(good)} > "$WEFT_OUTPUT"; else printf '%s\\n' '{}' > "$WEFT_OUTPUT"; fi`,
    );
  }
  if (roles.breakers.has(id)) {
    const marker = roles.markers.get(id) ?? `${BROKEN_MARKER}-${id}`;
    const dir = marker.includes('/') ? `mkdir -p ${quote(marker.slice(0, marker.lastIndexOf('/')))}; ` : '';
    steps.push(
      `if [ -n "$WEFT_FEEDBACK" ]; then rm -f ${quote(marker)}; else ${dir}printf '%s\\n' ${quote(`${id} left a failing test (offline stand-in)`)} > ${quote(marker)}; fi`,
    );
  }
  const review = roles.reviewers.get(id);
  if (review !== undefined)
    steps.push(
      `if [ "\${WEFT_ITERATION:-1}" -gt 1 ]; then printf '%s\\n' ${quote(JSON.stringify(review.approves))} > "$WEFT_OUTPUT"; else printf '%s\\n' ${quote(JSON.stringify(review.objects))} > "$WEFT_OUTPUT"; fi`,
    );
  if (roles.checks.has(id))
    steps.push(
      `for f in $(find . -name .git -prune -o -type f -name '${BROKEN_MARKER}-*' -print); do echo "check failed: $(cat "$f")" >&2; exit 1; done; echo 'check passed'`,
    );
  return steps;
}

/**
 * A value that satisfies a (simple) JSON Schema: `const`, the first `enum` value, an object with
 * every property, one-item arrays (or `minItems`), strings of `minLength`, numbers at `minimum`.
 */
export function sampleOf(schema: unknown): unknown {
  if (!isObject(schema)) return {};
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum'])) return schema['enum'][0];
  const type = Array.isArray(schema['type']) ? (schema['type'][0] as unknown) : schema['type'];
  if (type === 'object' || (type === undefined && isObject(schema['properties']))) {
    const props = isObject(schema['properties']) ? schema['properties'] : {};
    return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sampleOf(v)]));
  }
  if (type === 'array') {
    const n = typeof schema['minItems'] === 'number' ? Math.max(1, schema['minItems']) : 1;
    return Array.from({ length: n }, () => sampleOf(schema['items']));
  }
  if (type === 'string')
    return 'x'.repeat(typeof schema['minLength'] === 'number' ? Math.max(1, schema['minLength']) : 1);
  if (type === 'integer' || type === 'number') return typeof schema['minimum'] === 'number' ? schema['minimum'] : 1;
  if (type === 'boolean') return true;
  if (type === 'null') return null;
  return {};
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Single-quotes a word for /bin/sh. */
function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
