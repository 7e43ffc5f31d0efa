import { TASK_ID_PATTERN } from '../core/plan/plan-schema.js';
import { z } from 'zod';
import { WeftError } from '../core/errors.js';
import type { PlanRef } from '../core/ports/run-control.js';

/*
 * The tools' input fields, as zod shapes the MCP SDK both advertises (as JSON Schema) and checks
 * each call against. A field a caller gets wrong comes back as a tool error naming the field; an
 * inline plan is checked by the plan compiler itself, so its problems read as a plan file's do.
 */

/** A run id as weft makes them (`20261205-101500-a1b2`), or a unique prefix of one. */
const RUN_ID = /^[\w.-]+$/;

const workingDirectory = z
  .string()
  .min(1)
  .optional()
  .describe(
    "The project folder (holding .weft/), absolute or relative to the server's folder; it must be inside that folder. Default: the server's folder.",
  );

const runId = z
  .string({ error: 'runId is required: the id the `run` tool answered (a unique prefix is enough)' })
  .regex(RUN_ID, 'runId: letters, digits, ".", "_" and "-" only, e.g. 20261205-101500-a1b2')
  .max(100)
  .describe('The id the `run` tool answered (a unique prefix is enough).');

/** Plan variables as JSON values; typed by the plan's own `vars`, as `--set` values are. */
const vars = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional();

const workers = z
  .number()
  .int()
  .min(1)
  .max(1024)
  .optional()
  .describe("Workers M: how many tasks run at once. Default: the plan's `workers`.");

/** `plan` and `planFile`: exactly one of them (checked by {@link planRefOf}). */
const planFields = {
  plan: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      'An inline plan in the plan file schema (what `weft schema` prints): {name, workers?, vars?, tasks: [{id, run: [argv…] | prompt + executor, needs?, estimate?, writes?, …}]}. Give `plan` or `planFile`, not both.',
    ),
  planFile: z
    .string()
    .min(1)
    .optional()
    .describe('A plan file (YAML or JSON) inside the project folder, relative to it. Give `plan` or `planFile`.'),
};

/** Input of each tool, by tool name. */
export const TOOL_INPUTS = {
  plan: {
    goal: z
      .string({ error: 'goal is required: what you want built, in words' })
      .min(1)
      .max(20_000)
      .describe('What you want built, in words.'),
    workers: workers.describe('The worker budget M the plan is made for. Default 4.'),
    planner: z
      .string()
      .optional()
      .describe(
        'Who plans: claude, codex, gemini, anthropic, openai. Default: config `planner`, else the first agent CLI installed.',
      ),
    executor: z
      .string()
      .optional()
      .describe('Who runs the planned tasks. Default: the planner when it is an agent CLI.'),
    working_directory: workingDirectory,
  },
  estimate: { ...planFields, workers, working_directory: workingDirectory },
  run: {
    ...planFields,
    workers,
    sequential: z.boolean().optional().describe('One task at a time, in declaration order. Default false.'),
    failFast: z.boolean().optional().describe('Stop at the first failed task. Default false.'),
    vars: vars.describe(
      'Plan variables for `when` conditions, as `--set name=value` sets them (true, 3 and "true", "3" alike).',
    ),
    working_directory: workingDirectory,
  },
  runs: {
    limit: z.number().int().min(1).max(1000).optional().describe('The most runs to answer, newest first. Default 20.'),
    working_directory: workingDirectory,
  },
  status: { runId, working_directory: workingDirectory },
  logs: {
    runId,
    task: z.string({ error: 'task is required: a task id of the run (`status` lists them)' }).min(1).max(200),
    attempt: z.number().int().min(1).optional().describe('Which attempt. Default: the latest.'),
    stream: z.enum(['stdout', 'stderr']).optional().describe('Default stdout.'),
    maxBytes: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .optional()
      .describe("The most bytes of the log's end to answer. Default 65536."),
    working_directory: workingDirectory,
  },
  result: { runId, working_directory: workingDirectory },
  cancel: { runId, working_directory: workingDirectory },
  resume: {
    runId,
    retry: z
      .array(z.string().regex(TASK_ID_PATTERN, 'retry: task ids of the run'))
      .optional()
      .describe(
        'Tasks with `resume: never` that were cut off mid-run, to run again (`weft resume --retry`). Default: none.',
      ),
    vars: vars.describe(
      'The secret-named vars the run was started with (the journal keeps them masked), given again, as `weft resume --set` does.',
    ),
    working_directory: workingDirectory,
  },
  approve: {
    runId,
    task: z
      .string()
      .regex(TASK_ID_PATTERN, 'task must be a task id of the run')
      .describe('The task that waits for approval.'),
    decision: z
      .enum(['approve', 'reject'])
      .default('approve')
      .describe('approve lets it start; reject ends it blocked.'),
    reason: z.string().max(2000).optional().describe('Why (required to reject): it becomes the blocked reason.'),
    working_directory: workingDirectory,
  },
  build_and_deploy: {
    task: z
      .string({ error: 'task is required: what to build, in words' })
      .min(1)
      .max(20_000)
      .describe('What to build, in words.'),
    working_directory: workingDirectory,
    use_parallel: z
      .boolean()
      .default(true)
      .describe('true: the planned tasks run in parallel; false: the same plan, one task at a time (workers 1).'),
    github_repo_name: z
      .string()
      .regex(/^[\w.-]+(\/[\w.-]+)?$/, 'github_repo_name: a repository name such as "todo-app" or "owner/todo-app"')
      .optional()
      .describe('The GitHub repository the deploy step pushes to, e.g. "owner/todo-app".'),
  },
} as const;

/** The `plan` / `planFile` pair of a tool call: exactly one must be given. @throws WeftError WEFT_USAGE */
export function planRefOf(args: PlanRef): PlanRef {
  if ((args.plan === undefined) === (args.planFile === undefined))
    throw new WeftError(
      'WEFT_USAGE',
      args.plan === undefined ? 'plan or planFile is required' : 'plan and planFile were both given',
      { hint: 'give `plan` (an inline plan object) or `planFile` (the path of a plan file), exactly one' },
    );
  return args.plan === undefined ? { planFile: args.planFile as string } : { plan: args.plan };
}
