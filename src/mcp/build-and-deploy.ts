import { WeftError } from '../core/errors.js';
import { ANSWERING_EXECUTORS } from '../core/plan/compile.js';
import type { RunSummary } from '../core/run/metrics.js';
import type { RunControl } from '../core/ports/run-control.js';
import type { EngineNotice } from '../core/run/engine-options.js';

/** The seed's one-call tool: what to build and how. */
export interface BuildAndDeployRequest {
  readonly task: string;
  /** false: the same plan, one task at a time (workers 1). */
  readonly useParallel: boolean;
  /** The GitHub repository the deploy step pushes to. */
  readonly githubRepo?: string;
}

/** The three checks that run side by side once the build is done. */
export const CHECKS = ['unit', 'e2e', 'lint'] as const;

/** What `build_and_deploy` answers when its run ends. */
export interface BuildAndDeployAnswer {
  readonly runId: string;
  /** The plan that ran (the planned build, the checks and the deploy). */
  readonly planFile: string;
  readonly mode: 'parallel' | 'one task at a time';
  /** Why that mode: the flag as given, and the workers it gave. */
  readonly modeReason: string;
  readonly workers: number;
  readonly status: string;
  /** Why the run stopped where it did, in a sentence. */
  readonly stoppedBecause: string;
  readonly checks: Readonly<Record<string, { readonly state: string; readonly durationMs: number }>>;
  /** The check the deploy waited for longest (the slowest of unit, e2e and lint that ran). */
  readonly bottleneck?: string;
  readonly deploy: { readonly state: string; readonly reason?: string };
  readonly summary: RunSummary;
}

interface PlanTask {
  readonly id: string;
  readonly executor?: string;
  readonly needs?: readonly string[];
  readonly [key: string]: unknown;
}

const CHECK_PROMPTS: Readonly<Record<(typeof CHECKS)[number], string>> = {
  unit: "Run the project's unit tests. Fix nothing; report every failure with its test name.",
  e2e: "Run the project's end-to-end tests. Fix nothing; report every failure with its test name.",
  lint: "Run the project's linters and type checks. Fix nothing; report every problem with its file and line.",
};

/**
 * The planned build plus the checks and the deploy: `unit`, `e2e` and `lint` need every build task
 * (so they run side by side on the built result), and `deploy` needs the three and runs only when
 * the plan variable `deploy_approved` is true — nothing is deployed without a person's yes.
 */
export function withChecksAndDeploy(
  plan: Readonly<Record<string, unknown>>,
  githubRepo: string | undefined,
): Record<string, unknown> {
  const tasks = (plan.tasks ?? []) as readonly PlanTask[];
  const taken = new Set(tasks.map((t) => t.id));
  const free = (id: string): string => {
    let name = id;
    for (let n = 2; taken.has(name); n++) name = `${id}-${n}`;
    taken.add(name);
    return name;
  };
  const executor = tasks.find((t) => t.executor !== undefined)?.executor ?? 'claude';
  // A check runs the project's tests: an LLM API can only say it did.
  if (ANSWERING_EXECUTORS.has(executor))
    throw new WeftError(
      'WEFT_USAGE',
      `build_and_deploy: the plan's tasks use "${executor}", which only answers and cannot run the checks`,
      {
        hint: 'give it an agent that runs commands: install claude, codex or gemini, or pass executor',
      },
    );
  const built = tasks.map((t) => t.id);
  const checks = CHECKS.map((c) => ({
    id: free(c),
    title: `${c} checks`,
    executor,
    prompt: CHECK_PROMPTS[c],
    needs: built,
    estimate: '10m',
    cache: false,
  }));
  const deploy = {
    id: free('deploy'),
    title: 'Deploy',
    executor,
    prompt: `Deploy the project${githubRepo === undefined ? '' : `: push it to the GitHub repository ${githubRepo}`}. Report where it is deployed.`,
    needs: checks.map((c) => c.id),
    when: 'vars.deploy_approved',
    estimate: '10m',
    cache: false,
  };
  const vars = { ...((plan.vars ?? {}) as Record<string, unknown>), deploy_approved: false };
  return { ...plan, vars, tasks: [...tasks, ...checks, deploy] };
}

/**
 * Plans the task (with `control`, the project's), runs the plan with the checks and the held deploy (on the plan's workers, or one
 * at a time), passes each event to `onEvent`, and answers when the run ends.
 */
export async function buildAndDeploy(
  control: RunControl,
  request: BuildAndDeployRequest,
  onEvent: (runId: string, event: EngineNotice, totalTasks: number) => void,
  signal: AbortSignal,
): Promise<BuildAndDeployAnswer> {
  const planned = await control.plan({ goal: request.task });
  const plan = withChecksAndDeploy(planned.plan, request.githubRepo);
  const tasks = plan.tasks as readonly PlanTask[];
  const planWorkers = typeof plan.workers === 'number' ? plan.workers : 4;
  const workers = request.useParallel ? planWorkers : 1;
  const started = await control.start({ plan, workers });
  const runId = started.runId;
  const planFile = started.planFile ?? '';
  await control.follow(runId, (e) => onEvent(runId, e, tasks.length), signal);
  const { summary } = await control.status(runId);
  const checkIds = tasks.slice(-4, -1).map((t) => t.id);
  const deployId = tasks.at(-1)?.id ?? 'deploy';
  const byId = new Map(summary.tasks.map((t) => [t.id, t]));
  const checks = Object.fromEntries(
    checkIds.map((id) => [id, { state: byId.get(id)?.state ?? 'pending', durationMs: byId.get(id)?.durationMs ?? 0 }]),
  );
  const ran = checkIds.filter((id) => byId.get(id)?.state === 'succeeded' || byId.get(id)?.state === 'failed');
  const bottleneck = ran.sort((a, b) => (byId.get(b)?.durationMs ?? 0) - (byId.get(a)?.durationMs ?? 0))[0];
  const deployTask = byId.get(deployId);
  const deploy = {
    state: deployTask?.state ?? 'pending',
    ...(deployTask?.reason === undefined ? {} : { reason: deployTask.reason }),
  };
  return {
    runId,
    planFile,
    mode: request.useParallel ? 'parallel' : 'one task at a time',
    modeReason: request.useParallel
      ? `use_parallel was true: up to ${workers} tasks at once (the plan's workers)`
      : 'use_parallel was false: the same plan on 1 worker, one task at a time',
    workers,
    status: summary.status,
    stoppedBecause: stoppedBecause(summary, checkIds, deploy.state, planFile),
    checks,
    ...(bottleneck === undefined ? {} : { bottleneck }),
    deploy,
    summary,
  };
}

function stoppedBecause(summary: RunSummary, checks: readonly string[], deploy: string, planFile: string): string {
  const failed = summary.tasks.filter((t) => t.state === 'failed').map((t) => t.id);
  if (summary.status === 'cancelled')
    return `the run was cancelled${summary.reason === undefined ? '' : `: ${summary.reason}`}`;
  if (failed.length > 0) {
    const inChecks = failed.filter((id) => checks.includes(id));
    return inChecks.length > 0
      ? `checks failed (${inChecks.join(', ')}): nothing was deployed`
      : `the build failed (${failed.join(', ')}): the checks and the deploy did not run`;
  }
  if (deploy === 'succeeded') return 'built, checked and deployed';
  if (deploy === 'skipped')
    return `built and checked; the deploy waits for approval: to deploy, call \`run\` with {"planFile": ${JSON.stringify(planFile)}, "vars": {"deploy_approved": "true"}}`;
  return `the run ended ${summary.status}${summary.reason === undefined ? '' : `: ${summary.reason}`}`;
}
