import { z } from 'zod';
import { DurationSchema, TaskIdSchema, type PlanSpec, type TaskSpec } from './plan-schema.js';

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
          .describe('simple: 1–3 tasks, moderate: 3–8, complex: 8–15, larger: 15+'),
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
            name: z.string().min(1),
            between: z.array(z.string()).min(2).describe('Ids of the tasks that must agree on it.'),
            description: z.string().min(1).describe('The agreement itself, e.g. an API request/response schema.'),
          })
          .strict(),
      )
      .optional(),
    tasks: z
      .array(
        z
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
          .strict(),
      )
      .min(1),
  })
  .strict();

/** The AI planner's answer: its sizing analysis, the tasks and the contracts between them. */
export type PlannerOutput = z.infer<typeof PlannerOutputSchema>;

/** The JSON Schema of the planner's answer, for the structured output the planner is asked for. */
export function plannerJsonSchema(): Record<string, unknown> {
  const { $schema: _drop, ...schema } = z.toJSONSchema(PlannerOutputSchema, { io: 'input' }) as Record<string, unknown>;
  return schema;
}

/** The rule of thumb the planner is told, and checked against. */
export function complexityFor(n: number): PlannerOutput['analysis']['complexity'] {
  return n <= 3 ? 'simple' : n <= 8 ? 'moderate' : n <= 15 ? 'complex' : 'larger';
}

/** Turns the planner's answer into a plan: contracts go into the prompts of the tasks that share them. */
export function plannerOutputToPlan(
  out: PlannerOutput,
  options: { name: string; workers: number; executor: string; goal: string },
): PlanSpec {
  const tasks: TaskSpec[] = out.tasks.map((t) => {
    const contracts = (out.contracts ?? []).filter((c) => c.between.includes(t.id));
    const prompt =
      contracts.length === 0
        ? t.prompt
        : `${t.prompt}\n\nContracts you must honour exactly (other tasks rely on them):\n${contracts.map((c) => `- ${c.name} (shared with ${c.between.filter((b) => b !== t.id).join(', ')}): ${c.description}`).join('\n')}`;
    return {
      id: t.id,
      title: t.title,
      executor: t.executor ?? options.executor,
      prompt,
      estimate: t.estimate,
      ...(t.needs === undefined ? {} : { needs: t.needs }),
      ...(t.priority === undefined ? {} : { priority: t.priority }),
      ...(t.writes === undefined ? {} : { writes: t.writes }),
      ...(t.outputs === undefined ? {} : { outputs: t.outputs }),
    };
  });
  return { name: options.name, description: options.goal, workers: options.workers, tasks };
}
