import { z } from 'zod';
import { WorkspaceSchema } from './workspace-schema.js';

/**
 * The one schema for a plan: plan files (YAML/JSON), the TypeScript builder and the AI planner's
 * output all parse through it, and `weft schema` prints the JSON Schema generated from it.
 */

const DURATION_PATTERN = '^\\s*(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d)?\\s*)+$';

/** A duration field: `45m`, `1h30m`, `90s`, `250ms`, `2d`, or a bare number of seconds. */
export const DurationSchema = z
  .union([
    z.string().regex(new RegExp(DURATION_PATTERN), { message: 'expected a duration like 45m, 1h30m, 90s or 250ms' }),
    z.number().nonnegative(),
  ])
  .describe('A duration: 45m, 1h30m, 90s, 250ms, 2d; a bare number is seconds.');

/** What a task id may look like: it names a folder under the run, so no `/` and no `..`. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.))*$/;

/** A task id (at most 100 characters of {@link TASK_ID_PATTERN}). */
export const TaskIdSchema = z
  .string()
  .max(100, { message: 'task ids are at most 100 characters' })
  .regex(TASK_ID_PATTERN, {
    message: 'task ids use letters, digits, ".", "_" and "-", start with a letter or digit, and contain no ".."',
  })
  .describe('Unique task id; also names its folder under the run, so it cannot contain "/" or "..".');

const EnvSchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .describe(
    "Environment variables for the task's process (shell and agent CLI tasks; refused on an API task, which runs none).",
  );

/** A spending limit (`budget:` of a task or of the plan): USD and/or tokens. */
export const BudgetSchema = z
  .object({
    usd: z.number().positive().optional().describe('Most money to spend, in US dollars.'),
    tokens: z.number().int().positive().optional().describe('Most tokens (input + output) to use.'),
  })
  .strict();

/** How retries back off (`backoff:`): first delay, factor, longest delay. */
export const BackoffSchema = z
  .object({
    initial: DurationSchema.optional().describe('First delay before a retry. @default 1s'),
    factor: z.number().min(1).optional().describe('Each further delay is multiplied by this. @default 2'),
    max: DurationSchema.optional().describe(
      'Longest delay; shorter than initial is refused. @default 5m, or initial when that is longer',
    ),
    jitter: z.boolean().optional().describe('Randomise each delay by ±50% so retries do not stampede. @default true'),
  })
  .strict();

/** OS limits of a task's process (`limits:`): memory and CPUs, enforced by cgroups (or rlimits). */
export const LimitsSchema = z
  .object({
    memory: z
      .union([
        // No `i` flag: JSON Schema patterns have none, and `weft schema` must accept what validate does.
        z.string().regex(/^\s*\d+(?:\.\d+)?\s*(?:[Bb]|[KkMmGgTt](?:[Bb]|[Ii][Bb])?)?\s*$/, {
          message: 'expected a size like 2GB, 512MB or 100M',
        }),
        z.number().int().positive(),
      ])
      .optional()
      .describe(
        'Most memory the task may use (2GB, 512MB; a number is bytes): over it the task is killed and fails with "memory limit 2GB exceeded".',
      ),
    cpus: z.number().positive().max(1024).optional().describe('Most CPU time, in CPUs (1.5 = one and a half cores).'),
  })
  .strict();

/** The priority classes (`class:`), most urgent first; only a P0 preempts (see `policies/preempt.ts`). */
export const PRIORITY_CLASSES = ['P0', 'P1', 'P2', 'P3'] as const;
/** A task's priority class. */
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];
/** What a task's class is when neither it nor the defaults set one. */
export const DEFAULT_PRIORITY_CLASS: PriorityClass = 'P2';

const PriorityClassSchema = z.enum(PRIORITY_CLASSES);

/**
 * The agents' permission modes a plan may name: each CLI's own names, which every agent executor
 * maps to its nearest mode (see `executors/agents/permission-mode.ts`). A name outside the list is
 * refused: taken for the default, a misspelt `readonly` gave an agent write access.
 */
export const PERMISSION_MODES = [
  'plan',
  'read-only',
  'acceptEdits',
  'auto_edit',
  'workspace-write',
  'bypassPermissions',
  'yolo',
  'danger-full-access',
  'default',
  'auto',
  'dontAsk',
] as const;

/** Fields a task may set, which `defaults` may also set for every task. */
const sharedTaskFields = {
  executor: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Who runs the task: shell, claude, codex, gemini, anthropic, openai, fn. @default shell when `run` is set',
    ),
  retries: z
    .number()
    .int()
    .min(0)
    .max(100)
    .optional()
    .describe('How many times to try again after a failure. @default 0'),
  backoff: BackoffSchema.optional(),
  timeout: DurationSchema.optional().describe('Kill the task (its whole process group) after this long.'),
  stallAfter: DurationSchema.optional().describe(
    'Watchdog: a task that shows no progress (no output, no agent event) for this long is reported as stalled, stopped and retried (agent sessions resumed). 0 turns it off. @default 10m for agent CLIs (claude, codex, gemini), off for other executors',
  ),
  limits: LimitsSchema.optional().describe(
    "OS limits of the task's process (a shell command, or an agent CLI with the commands it runs): {memory: 2GB, cpus: 1.5}, through cgroups (v1 or v2), else rlimits (memory only). Refused on tasks that run no process (API, function, gate).",
  ),
  class: PriorityClassSchema.optional().describe(
    'Priority class: P0 (urgent) … P3 (background). Ready tasks start by class before critical path; a ready P0 that finds no worker free (or its pool units held) stops the running task of the lowest class (then the least progressed) and takes its place — the stopped task runs again later (a shell task from the start, an agent resuming its session in its kept worktree), not counted as a failure. @default P2',
  ),
  profile: z
    .enum(['cpu', 'memory', 'io'])
    .optional()
    .describe("What the task mostly uses; the plan's `profiles` caps how many of each run at once."),
  sandbox: z
    .boolean()
    .optional()
    .describe(
      "Run the task's process (shell or agent CLI tasks only) under bubblewrap: its folder (worktree or cwd) and an agent's state writable, the rest of the file system read-only, the home folder hidden, /tmp private. Needs bubblewrap installed. @default false",
    ),
  estimate: DurationSchema.optional().describe('Expected duration; drives critical-path ordering and `weft estimate`.'),
  env: EnvSchema.optional(),
  cwd: z.string().optional().describe('Working directory, relative to the plan file.'),
  labels: z
    .array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a label is letters, digits, `_`, `.` or `-`'))
    .optional()
    .describe(
      'Under remote dispatch (`--dispatch`), only a worker started with each of these labels (`weft worker --label gpu`) runs the task.',
    ),
  shell: z
    .boolean()
    .optional()
    .describe(
      'Run `run` through /bin/sh. Off by default: commands are split into argv and run without a shell. Refused on tasks without `run` (agent and API tasks).',
    ),
  model: z.string().optional().describe('Model for agent and LLM executors.'),
  maxTurns: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Agent turn limit (agent CLIs: claude, codex, gemini; refused on shell and API tasks).'),
  permissionMode: z
    .enum(PERMISSION_MODES)
    .optional()
    .describe(
      'Agent permission mode (agent CLIs: claude, codex, gemini; refused on shell and API tasks): read only (plan, read-only), edit the workspace (acceptEdits, auto_edit, workspace-write; the default) or anything (bypassPermissions, yolo, danger-full-access); each agent maps it to its own nearest mode.',
    ),
  allowedTools: z
    .array(z.string())
    .optional()
    .describe('Tools the agent may use (agent CLIs: claude, codex, gemini; refused on shell and API tasks).'),
  fixAttempts: z
    .number()
    .int()
    .min(0)
    .max(20)
    .optional()
    .describe('How often a merge conflict or failed check is routed back to the task. @default 2'),
  cache: z
    .boolean()
    .optional()
    .describe(
      'Let a re-run skip this task when nothing that decides its result changed; false turns it off even with inputs. @default true when the task declares inputs, else false',
    ),
  budget: BudgetSchema.optional().describe('Limit for one task: exceeding it stops the task (not retried).'),
  resume: z
    .enum(['auto', 'never'])
    .optional()
    .describe(
      'What `weft resume` does with this task if it was running when weft died: retry it (auto) or wait for a person (never). @default auto',
    ),
};

/** One task of a plan: what it runs, what it needs, how it is scheduled, retried, cached, checked. */
export const TaskSchema = z
  .object({
    id: TaskIdSchema,
    title: z
      .string()
      .optional()
      .describe(
        'Human title shown in the reports (HTML, Markdown, JSON) and traces; the live lines and weft status name the id.',
      ),
    run: z
      .union([z.string().min(1), z.array(z.string()).min(1)])
      .optional()
      .describe('Command: a string (split into argv, no shell) or an argv array.'),
    prompt: z.string().min(1).optional().describe('Prompt for agent and LLM executors.'),
    needs: z.array(z.string()).optional().describe('Tasks that must succeed before this one starts.'),
    after: z
      .array(z.string())
      .optional()
      .describe(
        'Tasks this one waits for; unlike `needs`, one skipped by its `when` condition does not skip this task.',
      ),
    verifies: z
      .array(z.string())
      .optional()
      .describe(
        'Tasks this one checks (it also waits for them): it runs on the merged result, and when it fails its output goes back to the task(s) that broke it.',
      ),
    priority: z
      .number()
      .int()
      .optional()
      .describe('Higher starts first among tasks with equal critical path. @default 0'),
    when: z
      .union([z.string(), z.boolean()])
      .optional()
      .describe(
        'Condition, e.g. `vars.security` or `vars.env == "prod" && tasks.build.succeeded`. False skips the task and its dependents.',
      ),
    gate: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A gate runs nothing: it passes when this condition holds (e.g. `tasks.ui.output.score >= 6 && !tasks.security.output.veto`), else it blocks, naming the failing parts, and its dependents are skipped. The tasks it reads are waited for.',
      ),
    approval: z
      .enum(['required'])
      .optional()
      .describe(
        'Wait for a person before this task (or gate) starts: `weft approve <run> <task>` lets it go, `weft reject <run> <task> --reason "…"` blocks it.',
      ),
    score: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Key of the numeric output that scores the result (e.g. a reviewer's 0–10), shown in the summary and reports.",
      ),
    minScore: z
      .number()
      .optional()
      .describe(
        'Lowest acceptable `score`: below it the task is sent back with the score as feedback (up to `fixAttempts`), then fails.',
      ),
    uses: z
      .record(z.string(), z.number().int().positive())
      .optional()
      .describe('Units of named pools held while running, e.g. {claude: 1}.'),
    writes: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Globs of files the task may write (relative to its folder, inside the plan's folder); tasks whose globs overlap never run at once.",
      ),
    inputs: z
      .array(z.string().min(1))
      .optional()
      .describe('Globs of files whose contents decide the result (cache key).'),
    outputs: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Files the task must produce (paths or globs, relative to its folder, inside the plan's folder); a task that ends without one is sent back, then fails.",
      ),
    outputSchema: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('JSON Schema the task result must satisfy (structured output).'),
    expands: z
      .boolean()
      .optional()
      .describe(
        'The task plans: its output `{tasks: [...]}` is a sub-plan spliced into the running graph (dynamic fan-out). What depends on it waits for the new tasks too.',
      ),
    ...sharedTaskFields,
  })
  .strict();

/** What a contract's name may look like: it is written in prompts, env files and reports. */
export const CONTRACT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * A contract between tasks (`contracts:`): a JSON Schema one task's output must satisfy (the
 * provider's) and other tasks build against (the consumers'). Both sides get it in their prompt
 * (scripts: in `WEFT_CONTRACTS`); the provider's output is checked against it before its work is
 * merged and its consumers start, and a mismatch goes back to the provider as a fix.
 */
export const ContractSchema = z
  .object({
    name: z
      .string()
      .max(100, { message: 'contract names are at most 100 characters' })
      .regex(CONTRACT_NAME_PATTERN, {
        message: 'contract names use letters, digits, ".", "_" and "-", and start with a letter or digit',
      })
      .describe('Unique name of the contract, e.g. todo-api; shown in prompts, feedback and reports.'),
    description: z.string().optional().describe('What the contract is about, in a sentence; given to both sides.'),
    schema: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("JSON Schema the provider's output must satisfy. Give this or schemaFile."),
    schemaFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A JSON or YAML file holding the JSON Schema, relative to the plan file (a .json one must be strict JSON). Give this or schema.',
      ),
    provider: z.string().describe('The task whose output must satisfy the contract.'),
    consumers: z
      .array(z.string())
      .min(1, { message: 'a contract needs at least one consumer' })
      .describe('Tasks that build against the contract; each waits for the provider (it is added to their needs).'),
  })
  .strict();

/**
 * A loop (`loop:`): the tasks in `repeat` run again, as new attempts, until `until` holds or `max`
 * iterations ran; the next iteration's tasks get the `feedback` tasks' outputs and the reasons the
 * last one did not pass. Tasks that depend on the group wait until the loop ends.
 */
export const LoopSchema = z
  .object({
    repeat: z
      .array(z.string())
      .min(1, { message: 'a loop repeats at least one task' })
      .describe('The tasks each iteration runs again (new attempts; agent sessions go on).'),
    until: z
      .string()
      .min(1)
      .describe(
        'Condition that ends the loop once an iteration ended, e.g. `tasks.approve.passed`; it reads only tasks in repeat.',
      ),
    max: z
      .number()
      .int()
      .min(1, { message: 'a loop runs at least 1 iteration' })
      .max(100)
      .describe('Most iterations; after the last one the run ends blocked with its reasons.'),
    feedback: z
      .array(z.string())
      .optional()
      .describe(
        "Tasks in repeat whose outputs (with the reasons the iteration did not pass) go to the next iteration's tasks: in the prompt of agents, in WEFT_FEEDBACK for scripts.",
      ),
  })
  .strict();

/** The plan's `defaults:`: task fields every task gets unless it sets its own. */
export const DefaultsSchema = z.object({ ...sharedTaskFields, uses: TaskSchema.shape.uses }).strict();

/** A whole plan file: name, workers, vars, defaults, pools, budget and tasks. */
export const PlanSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).optional().describe('Name of the plan.'),
    description: z
      .string()
      .optional()
      .describe("What the plan is for, for people reading it (`weft init` lists a template's); runs do not read it."),
    workers: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .optional()
      .describe('The budget M: how many tasks run at once. @default 4'),
    vars: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('Values for `when` conditions; override with --set name=value.'),
    defaults: DefaultsSchema.optional().describe('Values every task gets unless it sets its own.'),
    pools: z
      .record(z.string(), z.number().int().positive())
      .optional()
      .describe('Named capacities, e.g. {claude: 3, gpu: 1}.'),
    profiles: z
      .object({
        cpu: z.number().int().positive().optional(),
        memory: z.number().int().positive().optional(),
        io: z.number().int().positive().optional(),
      })
      .strict()
      .optional()
      .describe('How many tasks of each `profile` run at once, on top of workers and pools, e.g. {cpu: 2, io: 1}.'),
    budget: BudgetSchema.optional().describe(
      'Limit for the whole run: once spent, no new task starts and the run stops with the reason.',
    ),
    workspace: WorkspaceSchema.optional().describe(
      'How worktrees are made ready: a shared set-up and files to copy in. Overrides `workspace` in weft.config.yaml.',
    ),
    contracts: z
      .array(ContractSchema)
      .optional()
      .describe(
        "Contracts between tasks: a JSON Schema the provider's output must satisfy, given to both sides; a mismatch goes back to the provider.",
      ),
    loop: LoopSchema.optional().describe(
      'Repeat a group of tasks until a condition holds: {repeat: [code, review, approve], until: tasks.approve.passed, max: 5, feedback: [review]}.',
    ),
    tasks: z.array(TaskSchema).min(1, { message: 'a plan needs at least one task' }),
  })
  .strict();

/** A task as written in a plan (before defaults and resolution). */
export type TaskSpec = z.infer<typeof TaskSchema>;
/** A plan as written in a file or built in code. */
export type PlanSpec = z.infer<typeof PlanSchema>;
/** A task's or the defaults' `backoff:` as written. */
export type BackoffSpec = z.infer<typeof BackoffSchema>;
/** A contract (`contracts:` item) as written. */
export type ContractSpec = z.infer<typeof ContractSchema>;
/** A plan's `loop:` as written. */
export type LoopSpec = z.infer<typeof LoopSchema>;
/** A `budget:` as written. */
export type BudgetSpec = z.infer<typeof BudgetSchema>;

/** The JSON Schema editors use to autocomplete plan files. */
export function planJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PlanSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://weft.dev/schema/plan.json', title: 'weft plan' };
}
