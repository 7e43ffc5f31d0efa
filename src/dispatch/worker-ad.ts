import type { Executor } from '../core/ports/executor.js';
import type { Requirement } from './job.js';

/** The API keys a worker says it has — as booleans: a key's value never leaves the worker. */
export const ADVERTISED_KEYS = [
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'CODEX_API_KEY',
] as const;

/** What a worker says it can run, kept in Redis (`<prefix>:weft:workers`) while it lives. */
export interface WorkerAd {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** Executors set up here (their `checkSetup` found nothing missing). */
  readonly executors: readonly string[];
  /** Executors installed but not set up, with why (an API key not set, a CLI not installed). */
  readonly unavailable: Readonly<Record<string, string>>;
  /** Which API keys are set here; booleans only. */
  readonly keys: Readonly<Record<string, boolean>>;
  /** Provider pools its executors draw on (`anthropic`, …). */
  readonly pools: readonly string[];
  /** `--label`s, sorted. */
  readonly labels: readonly string[];
  /** Attempts it runs at once per queue. */
  readonly concurrency: number;
  /** Whether it works in its own clone (`--clone`): it needs the run's shared git remote for tasks in worktrees. */
  readonly clone?: boolean;
  /** Last heartbeat, epoch ms. */
  readonly seenAt: number;
}

/** How long a worker counts as alive after its last heartbeat. */
export const WORKER_TTL_MS = 15_000;

/** Whether a worker can run what a task needs: its executor set up here, and every label. */
export function canRun(ad: Pick<WorkerAd, 'executors' | 'labels'>, r: Requirement): boolean {
  return ad.executors.includes(r.executor) && r.labels.every((l) => ad.labels.includes(l));
}

/** Builds a worker's advertisement: each executor's set-up checked once, keys as booleans. */
export async function advertise(
  base: Pick<WorkerAd, 'id' | 'host' | 'pid' | 'concurrency' | 'clone'> & { readonly labels: readonly string[] },
  executors: ReadonlyMap<string, Executor>,
  env: NodeJS.ProcessEnv,
): Promise<WorkerAd> {
  const checked = await Promise.all(
    [...executors.values()].map(async (e) => [e.name, await e.checkSetup?.().catch(String)] as const),
  );
  const unavailable: Record<string, string> = {};
  for (const [name, problem] of checked) if (problem !== undefined) unavailable[name] = problem;
  const usable = checked.filter(([, problem]) => problem === undefined).map(([name]) => name);
  const pools = [
    ...new Set(usable.map((n) => executors.get(n)?.info.provider).filter((p): p is string => p !== undefined)),
  ];
  const keys = Object.fromEntries(ADVERTISED_KEYS.map((k) => [k, (env[k] ?? '') !== '']));
  return {
    ...base,
    labels: [...new Set(base.labels)].sort(),
    executors: usable.sort(),
    unavailable,
    keys,
    pools: pools.sort(),
    seenAt: Date.now(),
  };
}
