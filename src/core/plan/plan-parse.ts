import type { z } from 'zod';
import { PlanSchema, TaskSchema, type PlanSpec } from './plan-schema.js';
import { schemaPredicate, type Predicate } from './schema-predicate.js';

type Shape = Readonly<Record<string, z.ZodType>>;

const TASK_FIELDS: Shape = TaskSchema.shape;
/** The fields a task must set (those whose schema refuses `undefined`): just `id` today. */
const REQUIRED = Object.keys(TASK_FIELDS).filter((k) => !(TASK_FIELDS[k] as z.ZodType).safeParse(undefined).success);
const own = Object.prototype.hasOwnProperty;

/**
 * Each field's check: its schema read into a plain predicate where it is simple enough (see
 * {@link schemaPredicate}), else zod's own parse.
 */
const FIELD_VALID: Readonly<Record<string, Predicate>> = Object.fromEntries(
  Object.entries(TASK_FIELDS).map(([key, schema]) => [
    key,
    schemaPredicate(schema) ?? ((value: unknown) => schema.safeParse(value).success),
  ]),
);

/**
 * Whether `task` is a valid task: a plain object whose every key is a task field, each value
 * valid for its field, every required field present. Only the keys it sets are checked, where
 * zod's object parse walks all ~60 fields of every task and copies it: for 100k tasks that was
 * ~0.5 s of a 2.4 s `weft validate`. Most fields are checked without zod at all (`FIELD_VALID`).
 */
function validTask(task: unknown): boolean {
  if (typeof task !== 'object' || task === null || Array.isArray(task)) return false;
  const fields = task as Record<string, unknown>;
  for (const key in fields) {
    if (!own.call(fields, key) || !own.call(TASK_FIELDS, key)) return false;
    if (!(FIELD_VALID[key] as Predicate)(fields[key])) return false;
  }
  for (const key of REQUIRED) if (fields[key] === undefined) return false;
  return true;
}

/**
 * `PlanSchema.safeParse(raw)`, sparing the per-task walk when every task is valid: the plan
 * without its tasks goes through the schema (with the first task, so `tasks` is checked as an
 * array), and the other tasks are checked field by field and kept as they are. That is what the
 * schema's parse would give: no task field transforms, defaults or strips a value (the schema
 * test checks it of every field). Any problem, and the whole plan goes through the schema, for
 * its messages.
 */
export function parsePlan(raw: unknown): ReturnType<typeof PlanSchema.safeParse> {
  const tasks = (raw as { tasks?: unknown } | null)?.tasks;
  if (typeof raw === 'object' && raw !== null && Array.isArray(tasks) && tasks.length > 1) {
    const head = PlanSchema.safeParse({ ...raw, tasks: tasks.slice(0, 1) });
    if (head.success && tasks.every((t, i) => i === 0 || validTask(t)))
      return { ...head, data: { ...head.data, tasks: [...head.data.tasks, ...(tasks.slice(1) as PlanSpec['tasks'])] } };
  }
  return PlanSchema.safeParse(raw);
}
