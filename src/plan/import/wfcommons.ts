import { WeftError } from '../../core/errors.js';
import { TASK_ID_PATTERN, type PlanSpec, type TaskSpec } from '../../core/plan/plan-schema.js';

const MAX_ID = 100;

/**
 * Reads a WfCommons workflow trace (WfFormat 1.5, https://github.com/wfcommons/WfFormat) into a
 * plan: one task per `workflow.specification.tasks[]` entry, its `parents` (and the `children`
 * of others) as `needs`, and its measured `runtimeInSeconds` from `workflow.execution.tasks[]`
 * (joined by `id`) as `estimate`. Each task runs `true`, a harmless stand-in command.
 *
 * Ids that are not valid weft ids (other characters, or longer than 100) are rewritten — bad
 * characters become `_`, long ids keep their last 100 characters — and the original id becomes
 * the task's `title`.
 *
 * @throws {WeftError} `WEFT_IMPORT` with `file: field: what was wrong` for malformed input.
 */
export function parseWfCommons(text: string, file: string): PlanSpec {
  function fail(field: string, message: string, cause?: unknown): never {
    throw new WeftError('WEFT_IMPORT', `${file}: ${field}: ${message}`, {
      hint: 'expected a WfCommons WfFormat 1.5 trace (workflow.specification.tasks and workflow.execution.tasks)',
      ...(cause === undefined ? {} : { cause }),
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    fail('(file)', `not valid JSON (${(error as Error).message})`, error);
  }
  const workflow = field(doc, 'workflow');
  const specTasks = field(field(workflow, 'specification'), 'tasks');
  const execTasks = field(field(workflow, 'execution'), 'tasks');
  if (!Array.isArray(specTasks))
    fail('workflow.specification.tasks', `expected a list of tasks, got ${describe(specTasks)}`);
  if (!Array.isArray(execTasks))
    fail('workflow.execution.tasks', `expected a list of tasks, got ${describe(execTasks)}`);
  if (specTasks.length === 0) fail('workflow.specification.tasks', 'the workflow has no tasks');

  const runtime = new Map<string, number>();
  execTasks.forEach((t, i) => {
    const at = `workflow.execution.tasks[${i}]`;
    const id = field(t, 'id');
    if (typeof id !== 'string' || id === '') fail(`${at}.id`, `expected a task id, got ${describe(id)}`);
    const seconds = field(t, 'runtimeInSeconds');
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)
      fail(`${at}.runtimeInSeconds`, `expected a non-negative number of seconds, got ${describe(seconds)}`);
    if (runtime.has(id)) fail(`${at}.id`, `duplicate task id "${id}"`);
    runtime.set(id, seconds);
  });

  const ids: string[] = [];
  const position = new Map<string, number>();
  specTasks.forEach((t, i) => {
    const id = field(t, 'id');
    if (typeof id !== 'string' || id === '')
      fail(`workflow.specification.tasks[${i}].id`, `expected a task id, got ${describe(id)}`);
    if (position.has(id))
      fail(`workflow.specification.tasks[${i}].id`, `duplicate task id "${id}" (first at tasks[${position.get(id)}])`);
    position.set(id, i);
    ids.push(id);
  });

  const needs: Set<string>[] = ids.map(() => new Set());
  const link = (i: number, key: 'parents' | 'children'): void => {
    const list = field(specTasks[i], key) ?? [];
    const at = `workflow.specification.tasks[${i}].${key}`;
    if (!Array.isArray(list)) fail(at, `expected a list of task ids, got ${describe(list)}`);
    list.forEach((other, k) => {
      const j = typeof other === 'string' ? position.get(other) : undefined;
      if (j === undefined) fail(`${at}[${k}]`, `unknown task ${describe(other)}`);
      if (j === i) fail(`${at}[${k}]`, `task "${ids[i]}" lists itself`);
      if (key === 'parents') needs[i]?.add(other as string);
      else needs[j]?.add(ids[i] as string);
    });
  };
  for (let i = 0; i < ids.length; i++) {
    link(i, 'parents');
    link(i, 'children');
  }

  const weftIds = toWeftIds(ids);
  const tasks: TaskSpec[] = ids.map((id, i) => {
    const seconds = runtime.get(id);
    if (seconds === undefined)
      fail(
        `workflow.specification.tasks[${i}].id`,
        `task "${id}" has no entry in workflow.execution.tasks, so no runtime`,
      );
    const name = field(specTasks[i], 'name');
    const title = weftIds[i] !== id ? id : typeof name === 'string' && name !== id ? name : undefined;
    const deps = [...(needs[i] ?? [])].map((d) => weftIds[position.get(d) as number] as string);
    return {
      id: weftIds[i] as string,
      ...(title === undefined ? {} : { title }),
      run: 'true',
      ...(deps.length > 0 ? { needs: deps } : {}),
      estimate: seconds,
    };
  });
  const name = field(doc, 'name');
  const description = field(doc, 'description');
  return {
    name: typeof name === 'string' && name !== '' ? name : file.replace(/^.*[\\/]/, '').replace(/\.json$/i, ''),
    ...(typeof description === 'string' && description !== '' ? { description } : {}),
    tasks,
  };
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 57)}...` : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Valid, unique weft ids for trace ids, keeping the ones that already are. */
function toWeftIds(ids: readonly string[]): string[] {
  const taken = new Set(ids.filter((id) => id.length <= MAX_ID && TASK_ID_PATTERN.test(id)));
  return ids.map((id) => {
    if (id.length <= MAX_ID && TASK_ID_PATTERN.test(id)) return id;
    // Long trace ids are dotted paths whose tail (step name and number) is what tells them apart.
    const base =
      id
        .replace(/[^A-Za-z0-9_.-]/g, '_')
        .replace(/\.{2,}/g, '.')
        .slice(-MAX_ID)
        .replace(/^[^A-Za-z0-9]+/, '') || 'task';
    let candidate = base;
    for (let k = 2; taken.has(candidate); k++) candidate = `${base.slice(0, MAX_ID - String(k).length - 1)}-${k}`;
    taken.add(candidate);
    return candidate;
  });
}
