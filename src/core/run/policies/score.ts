import type { ResolvedTask } from '../../plan/graph.js';
import type { TaskResultData } from '../events.js';
import type { Rejection } from './expansion.js';

/** What a scored task's result shows: the number its `score:` key holds, if it is one. */
export function scoreOf(task: Pick<ResolvedTask, 'score'>, result: TaskResultData): number | undefined {
  if (task.score === undefined) return undefined;
  const output = result.output;
  if (typeof output !== 'object' || output === null || !Object.hasOwn(output, task.score)) return undefined;
  const value = (output as Record<string, unknown>)[task.score];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * A scored task's result below its `minScore` (or without a numeric score where one is required)
 * goes back to the task as a fix, with feedback naming the score; after `fixAttempts` it fails.
 * `undefined`: the result stands. The score travels with the rejection, so every attempt's score is
 * journaled and shown.
 *
 * @example
 * scoreRejection({ id: 'ui', score: 'score', minScore: 6 }, { output: { score: 4 } })
 * // { message: 'score 4 is below minScore 6', code: 'WEFT_SCORE_TOO_LOW', feedback: 'Your result scored 4 …', score: 4 }
 */
export function scoreRejection(
  task: Pick<ResolvedTask, 'id' | 'score' | 'minScore'>,
  result: TaskResultData,
): (Rejection & { readonly score?: number }) | undefined {
  if (task.score === undefined || task.minScore === undefined) return undefined;
  const score = scoreOf(task, result);
  if (score === undefined)
    return {
      message: `output has no numeric "${task.score}" to score (minScore ${task.minScore})`,
      code: 'WEFT_SCORE_TOO_LOW',
      feedback: `Your output must include "${task.score}": a number, at least ${task.minScore}. Answer again with it.`,
    };
  if (score >= task.minScore) return undefined;
  return {
    message: `score ${score} is below minScore ${task.minScore}`,
    code: 'WEFT_SCORE_TOO_LOW',
    feedback:
      `Your result scored ${score} ("${task.score}" in your output); it must be at least ${task.minScore}. ` +
      'Improve the work until it reaches that score, then answer again.',
    score,
  };
}
