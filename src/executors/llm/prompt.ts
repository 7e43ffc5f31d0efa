import type { TaskContext } from '../../core/ports/executor.js';
import type { TaskContract } from '../../core/plan/contracts.js';

/**
 * The text an agent or LLM gets: the task's prompt, what its dependencies produced, the contracts
 * it provides or builds against, the files it may write and what it must output, and — for a
 * routed-back fix — what to fix.
 */
export function composePrompt(ctx: TaskContext): string {
  const { task } = ctx;
  const parts = [task.prompt ?? task.title];
  const inputs = Object.entries(ctx.inputs).filter(([, r]) => r.text !== undefined || r.output !== undefined);
  if (inputs.length > 0) {
    parts.push('', 'Results of the tasks this one depends on:');
    for (const [id, r] of inputs)
      parts.push(`--- ${id} ---`, r.output !== undefined ? JSON.stringify(r.output, null, 2) : (r.text ?? ''));
  }
  if (task.contracts !== undefined && task.contracts.length > 0) parts.push('', ...contractLines(task.contracts));
  if (task.writes.length > 0) parts.push('', `Only change files matching: ${task.writes.join(', ')}`);
  if (task.outputs !== undefined && task.outputs.length > 0)
    parts.push('', `You must produce: ${task.outputs.join(', ')}`);
  if (ctx.feedback !== undefined)
    parts.push(
      '',
      ctx.iteration !== undefined && ctx.iteration > 1
        ? `This task runs again: iteration ${ctx.iteration} of a loop. Feedback on your previous work:`
        : // Not only a fix: a pause for an urgent task or a stall comes back this way too, and says so itself.
          'Your previous attempt did not finish this task. What happened, and what to do now:',
      ctx.feedback,
    );
  return parts.join('\n');
}

/** The contracts section: each contract's name, side, description and JSON Schema. */
export function contractLines(contracts: readonly TaskContract[]): string[] {
  const lines = ["Contracts (a JSON Schema each; weft checks the provider's output against it):"];
  for (const c of contracts) {
    const about = c.description === undefined ? '' : ` ${c.description.trim()}`;
    lines.push(
      c.role === 'provider'
        ? `- You provide the contract "${c.name}" to ${c.consumers.join(', ')}.${about} End with one JSON value that satisfies its schema (your final answer); weft checks it before your work is merged, and a mismatch comes back to you to fix.`
        : `- You build against the contract "${c.name}", provided by "${c.provider}".${about} Follow it exactly; the provider's output, checked against it, is among the results above.`,
      `  Schema of "${c.name}": ${JSON.stringify(c.schema)}`,
    );
  }
  return lines;
}
