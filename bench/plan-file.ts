/**
 * Plan files of N tasks for the CLI benches (issue #16 item 1): the overhead bench's seeded random
 * DAG (`bench/random-dag.ts`, ~3 needs per task) written as a plan file a user would bring, in YAML
 * or JSON, each task a shell command with a title, an estimate and a priority (~290 bytes a task:
 * 100k tasks ≈ 29 MB of JSON).
 *
 *   node --import tsx bench/plan-file.ts <tasks> <out.yaml|out.json> [--bad <index>]
 *
 * `--bad <index>` gives that task an unknown field, for the error path.
 */
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { dagDeps, taskId } from './random-dag.js';

/** The plan file's text: JSON when `format` is `json`, else YAML (block style, one task per few lines). */
export function planFileText(tasks: number, format: 'yaml' | 'json', bad?: number): string {
  const deps = dagDeps('random', tasks);
  const task = (i: number): Record<string, unknown> => ({
    id: taskId(i),
    title: `Build module ${i} of the generated project and check its unit tests`,
    run: `echo building module number ${i} of the plan into the shared output folder`,
    needs: (deps[i] ?? []).map(taskId),
    estimate: `${1 + (i % 37)}m`,
    priority: i % 5,
    retries: 1,
    timeout: '2h',
    ...(i === bad ? { colour: 'red' } : {}),
  });
  if (format === 'json') {
    const lines = Array.from({ length: tasks }, (_, i) => `    ${JSON.stringify(task(i))}`);
    return `{\n  "name": "large-${tasks}",\n  "workers": 8,\n  "tasks": [\n${lines.join(',\n')}\n  ]\n}\n`;
  }
  const out: string[] = [`name: large-${tasks}`, 'workers: 8', 'tasks:'];
  for (let i = 0; i < tasks; i++) {
    const t = task(i);
    out.push(`  - id: ${String(t.id)}`);
    for (const [k, v] of Object.entries(t)) {
      if (k === 'id') continue;
      out.push(
        `    ${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v)}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * The same DAG as a plan of gates (JSON): each task passes once the first task it needs succeeded
 * (a root: once \`1 == 1\`). Gates run nothing, so \`weft run\` of it times the CLI and its journal,
 * not processes: the CLI's counterpart of the overhead bench's no-op executor.
 */
export function gatePlanText(tasks: number): string {
  const deps = dagDeps('random', tasks);
  const lines = deps.map((ds, i) => {
    const first = ds[0];
    const gate = first === undefined ? '1 == 1' : `tasks.${taskId(first)}.succeeded`;
    return `    ${JSON.stringify({ id: taskId(i), needs: ds.map(taskId), gate })}`;
  });
  return `{\n  "name": "gates-${tasks}",\n  "workers": 8,\n  "tasks": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [n, out] = process.argv.slice(2);
  const badAt = process.argv.indexOf('--bad');
  if (n === undefined || out === undefined)
    throw new Error('usage: plan-file.ts <tasks> <out.yaml|out.json> [--bad <index>]');
  const bad = badAt > 0 ? Number(process.argv[badAt + 1]) : undefined;
  writeFileSync(out, planFileText(Number(n), extname(out) === '.json' ? 'json' : 'yaml', bad));
}
