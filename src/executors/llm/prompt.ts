import type { TaskContext } from '../../core/ports/executor.js';

/**
 * The text an agent or LLM gets: the task's prompt, what its dependencies produced, the files it
 * may write and what it must output, and — for a routed-back fix — what to fix.
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
  if (task.writes.length > 0) parts.push('', `Only change files matching: ${task.writes.join(', ')}`);
  if (task.outputs !== undefined && task.outputs.length > 0)
    parts.push('', `You must produce: ${task.outputs.join(', ')}`);
  if (ctx.feedback !== undefined)
    parts.push('', 'Your previous result could not be integrated. Fix this and finish the task:', ctx.feedback);
  return parts.join('\n');
}
