import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PlanValidationError, formatPlanIssue } from '../core/errors.js';
import {
  complexitiesFor,
  complexityRanges,
  plannerOutputSchema,
  plannerJsonSchema,
  plannerOutputToPlan,
  type PlannerOutput,
} from '../core/plan/planner-schema.js';
import type { PlanSpec } from '../core/plan/plan-schema.js';
import { compilePlan, type CompileOptions, type CompiledPlan } from '../core/plan/compile.js';
import { writeScopesOverlap } from '../core/plan/glob-overlap.js';
import { jsonText } from '../core/plan/expansion.js';

export interface PlanRequest {
  readonly goal: string;
  /** The worker budget M. */
  readonly workers: number;
  /** Executor the planned tasks run on by default (e.g. claude). */
  readonly executor: string;
  /** Short listing of the repository, so the plan fits the code that is there. */
  readonly layout: string;
  /** A template the planner may follow, as YAML. */
  readonly skeleton?: string;
  /** `executor` only answers (an LLM API): its tasks write no files, so the planner is offered no `writes` or `outputs`. */
  readonly answersOnly?: boolean;
}

/** What the planner is told: the goal, the budget, the repository, the rules, the output schema. */
export function plannerPrompt(req: PlanRequest): string {
  return [
    'You are the planner of weft, which runs coding agents in parallel. Turn the goal into a plan of tasks.',
    '',
    `Goal: ${req.goal}`,
    `Budget: ${req.workers} agents can work at the same time. The number of tasks N may exceed ${req.workers}: workers take tasks from a queue as dependencies allow.`,
    '',
    `First size the goal: ${sizes()}, with the reasons, and choose N.`,
    'Then write the tasks. Each task: a short kebab-case id, a title, a prompt that lets an agent do it alone, `needs` (ids it must wait for),',
    ...(req.answersOnly === true
      ? [
          `and an \`estimate\` such as 20m. The tasks run on ${req.executor}, which only answers: a task's answer is its result, and it changes no file.`,
          'Rules: no dependency cycles; every id in needs must exist;',
        ]
      : [
          'an `estimate` such as 20m, `writes` (globs of the only files it may change), and `outputs` (what it must produce).',
          'Rules: no dependency cycles; every id in needs must exist; two tasks whose `writes` can touch the same file must be ordered by needs;',
        ]),
    "maximise parallelism: only add a dependency when a task really uses the other's result. Where tasks must agree (e.g. an API's",
    'request/response shape shared by backend and frontend), write a `contracts` entry: a `name`, a one-sentence `description`, the',
    '`provider` (the task whose final answer is the agreement as JSON — often a contract-first task), the `consumers` (tasks that build',
    "against it; they wait for the provider) and the agreement itself as a JSON Schema in `schema` (weft checks the provider's answer",
    'against it and gives it to both sides). A provider must not wait for its consumers.',
    ...(req.skeleton === undefined ? [] : ['', 'A plan skeleton you may adapt:', req.skeleton]),
    '',
    'Repository layout:',
    req.layout || '(empty repository)',
    '',
    `Answer only with JSON matching this schema: ${JSON.stringify(plannerJsonSchema(req))}`,
  ].join('\n');
}

/** Up to `max` paths of the project (git's list when it is a repository), for the prompt. */
export function repoLayout(dir: string, max = 200): string {
  let files: string[];
  try {
    files = execFileSync('git', ['ls-files'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean);
  } catch {
    files = [];
    const walk = (d: string, rel: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (files.length >= max * 2 || e.name.startsWith('.') || e.name === 'node_modules') continue;
        if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
        else files.push(`${rel}${e.name}`);
      }
    };
    walk(dir, '');
  }
  const shown = files.slice(0, max);
  return [...shown, ...(files.length > max ? [`… and ${files.length - max} more files`] : [])].join('\n');
}

export interface CheckedPlan {
  readonly output: PlannerOutput;
  readonly spec: PlanSpec;
  readonly compiled: CompiledPlan;
}

/**
 * Checks the planner's answer as strictly as a hand-written plan, plus what only matters for a
 * generated one (writes that overlap with no order between them). Returns the plan, or the
 * feedback that tells the planner exactly what to fix.
 */
export function checkPlannerAnswer(
  raw: unknown,
  req: Pick<PlanRequest, 'goal' | 'workers' | 'executor' | 'answersOnly'>,
  options: Omit<CompileOptions, 'file'>,
): { plan: CheckedPlan } | { feedback: string } {
  const parsed = plannerOutputSchema(req).safeParse(typeof raw === 'string' ? (jsonText(raw) ?? raw) : raw);
  if (!parsed.success) {
    return {
      feedback: `Your answer does not match the schema:\n${parsed.error.issues
        .slice(0, 20)
        .map((i) => `- ${i.path.join('.') || '(top)'}: ${i.message}`)
        .join('\n')}`,
    };
  }
  const output = parsed.data;
  const spec = plannerOutputToPlan(output, {
    name: slug(req.goal),
    workers: req.workers,
    executor: req.executor,
    goal: req.goal,
  });
  let compiled: CompiledPlan;
  try {
    compiled = compilePlan(spec, { ...options, file: 'plan' });
  } catch (error) {
    if (!(error instanceof PlanValidationError)) throw error;
    return {
      feedback: `The plan is not valid:\n${error.issues.map((i) => `- ${formatPlanIssue(i)}`).join('\n')}\nReturn the whole corrected plan.`,
    };
  }
  const problems = unorderedWriters(compiled);
  if (output.analysis.taskCount !== output.tasks.length)
    problems.push(`analysis.taskCount is ${output.analysis.taskCount} but you wrote ${output.tasks.length} tasks`);
  const sizes = complexitiesFor(output.tasks.length);
  if (!sizes.includes(output.analysis.complexity))
    problems.push(
      `${output.tasks.length} tasks is ${sizes.map((c) => `"${c}"`).join(' or ')}, not "${output.analysis.complexity}"`,
    );
  if (problems.length > 0)
    return {
      feedback: `The plan is not valid:\n${problems.map((p) => `- ${p}`).join('\n')}\nReturn the whole corrected plan.`,
    };
  return { plan: { output, spec, compiled } };
}

/** Pairs of tasks that may write the same files while nothing orders them. */
function unorderedWriters(plan: CompiledPlan): string[] {
  const { graph } = plan;
  const reach = graph.tasks.map(() => new Set<number>());
  for (const i of graph.topo)
    for (const d of [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])])
      for (const x of [d, ...(reach[d] ?? [])]) reach[i]?.add(x);
  const out: string[] = [];
  graph.tasks.forEach((a, i) =>
    graph.tasks.forEach((b, j) => {
      if (j <= i || a.writes.length === 0 || b.writes.length === 0) return;
      if (
        !writeScopesOverlap(a.writes, b.writes, a.cwd, b.cwd) ||
        reach[i]?.has(j) === true ||
        reach[j]?.has(i) === true
      )
        return;
      out.push(
        `tasks "${a.id}" and "${b.id}" both write ${[...a.writes, ...b.writes].filter((w, k, all) => all.indexOf(w) === k).join(', ')} with no order between them: make one need the other, or split the files`,
      );
    }),
  );
  return out;
}

export function slug(goal: string): string {
  return (
    goal
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'plan'
  );
}

/** The sizes as the prompt says them: `simple (1–3 tasks), moderate (3–8), complex (8–15) or larger (15+)`. */
function sizes(): string {
  const each = complexityRanges((name, range) => `${name} (${range})`);
  return `${each.slice(0, -1).join(', ')} or ${each.at(-1) as string}`;
}
