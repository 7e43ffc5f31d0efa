import { z } from 'zod';
import { ContractSchema, DurationSchema, TaskIdSchema, type PlanSpec, type TaskSpec } from './plan-schema.js';

/** One task of the planner's answer. */
const PlannerTaskSchema = z
  .object({
    id: TaskIdSchema,
    title: z.string().min(1),
    prompt: z.string().min(1).describe('Everything the agent needs to do this task on its own.'),
    executor: z.string().optional(),
    needs: z.array(z.string()).optional(),
    priority: z.number().int().optional(),
    estimate: DurationSchema.describe('e.g. 20m'),
    writes: z.array(z.string()).optional().describe('Globs of the files this task may write.'),
    outputs: z.array(z.string()).optional().describe('What the task must produce.'),
  })
  .strict();

/**
 * The sizes a goal may be, by task count: the rule of thumb the planner is told (in its prompt and
 * its schema) and checked against. The ranges share their ends: 3 tasks are "simple" or "moderate".
 */
const COMPLEXITY_RANGES = [
  ['simple', 1, 3],
  ['moderate', 3, 8],
  ['complex', 8, 15],
  ['larger', 15, Infinity],
] as const;

/** The ranges in words, the first with its unit: `simple: 1–3 tasks, moderate: 3–8, …` (`form` lays out one). */
export function complexityRanges(form: (name: string, range: string) => string): string[] {
  return COMPLEXITY_RANGES.map(([name, lo, hi], i) =>
    form(name, `${hi === Infinity ? `${lo}+` : `${lo}–${hi}`}${i === 0 ? ' tasks' : ''}`),
  );
}

/**
 * What the AI planner must return (structured output): a sizing of the goal and the tasks. The
 * same schema is handed to the agent (as JSON Schema) and checks its answer.
 */
export const PlannerOutputSchema = z
  .object({
    analysis: z
      .object({
        complexity: z
          .enum(['simple', 'moderate', 'complex', 'larger'])
          .describe(complexityRanges((name, range) => `${name}: ${range}`).join(', ')),
        reasons: z.array(z.string()).min(1).describe('Why the goal is this size.'),
        taskCount: z
          .number()
          .int()
          .positive()
          .describe('N, the number of tasks chosen; may exceed the worker budget M.'),
      })
      .strict(),
    contracts: z
      .array(
        z
          .object({
            name: ContractSchema.shape.name,
            description: z.string().min(1).describe('What the contract is about, in a sentence.'),
            provider: z.string().min(1).describe('Id of the task whose output must satisfy the schema.'),
            consumers: z.array(z.string()).min(1).describe('Ids of the tasks that build against it.'),
            schema: z
              .record(z.string(), z.unknown())
              .describe(
                "The agreement itself as a JSON Schema (e.g. the API's endpoints with their request and response shapes); the provider's output is checked against it.",
              ),
          })
          .strict(),
      )
      .optional(),
    tasks: z.array(PlannerTaskSchema).min(1),
  })
  .strict();

/**
 * The planner's answer when the planned tasks run on an executor that only answers (an LLM API):
 * tasks without `writes` and `outputs`, which validation refuses on such tasks — offered them,
 * the planner spent its answers on plans that could not pass.
 */
const AnswersOnlyOutputSchema = PlannerOutputSchema.extend({
  tasks: z.array(PlannerTaskSchema.omit({ writes: true, outputs: true })).min(1),
});

/** The schema of the planner's answer for tasks that run on an executor that writes files, or only answers. */
export function plannerOutputSchema(options: { readonly answersOnly?: boolean } = {}): z.ZodType<PlannerOutput> {
  // The narrower schema's answers are answers of the wider one (without two optional fields).
  return options.answersOnly === true ? AnswersOnlyOutputSchema : PlannerOutputSchema;
}

/** The AI planner's answer: its sizing analysis, the tasks and the contracts between them. */
export type PlannerOutput = z.infer<typeof PlannerOutputSchema>;

/** {@link plannerJsonSchema} by `answersOnly`, made once: the prompt and the planner task's `outputSchema` both take it. */
const jsonSchemas = new Map<boolean, Record<string, unknown>>();

/** The JSON Schema of the planner's answer, for the structured output the planner is asked for. */
export function plannerJsonSchema(options: { readonly answersOnly?: boolean } = {}): Record<string, unknown> {
  const answersOnly = options.answersOnly === true;
  let schema = jsonSchemas.get(answersOnly);
  if (schema === undefined) {
    const { $schema: _drop, ...rest } = z.toJSONSchema(plannerOutputSchema(options), { io: 'input' }) as Record<
      string,
      unknown
    >;
    jsonSchemas.set(answersOnly, (schema = rest));
  }
  return schema;
}

/** The sizes `n` tasks may be called ({@link COMPLEXITY_RANGES}): one, or two at a shared end. */
export function complexitiesFor(n: number): PlannerOutput['analysis']['complexity'][] {
  return COMPLEXITY_RANGES.filter(([, lo, hi]) => n >= lo && n <= hi).map(([name]) => name);
}

/**
 * Turns the planner's answer into a plan. Its contracts become the plan's `contracts:` — given to
 * both sides in their prompts and checked against the provider's output when the plan runs.
 */
export function plannerOutputToPlan(
  out: PlannerOutput,
  options: { name: string; workers: number; executor: string; goal: string },
): PlanSpec {
  const tasks: TaskSpec[] = out.tasks.map((t) => {
    return {
      id: t.id,
      title: t.title,
      executor: t.executor ?? options.executor,
      prompt: t.prompt,
      estimate: t.estimate,
      ...(t.needs === undefined ? {} : { needs: t.needs }),
      ...(t.priority === undefined ? {} : { priority: t.priority }),
      ...(t.writes === undefined ? {} : { writes: t.writes }),
      ...(t.outputs === undefined ? {} : { outputs: t.outputs }),
    };
  });
  const contracts = out.contracts ?? [];
  return {
    name: options.name,
    description: options.goal,
    workers: options.workers,
    ...(contracts.length === 0 ? {} : { contracts: contracts.map((c) => ({ ...c })) }),
    tasks,
  };
}
