/**
 * fast-check arbitraries for random plans, shared by the core's property tests (and any other
 * test that needs "some valid plan"). Not part of the library: nothing outside tests imports it.
 */
import fc from 'fast-check';
import type { Graph } from '../plan/graph.js';
import type { PlanSpec, TaskSpec } from '../plan/plan-schema.js';
import { compilePlan, type CompiledPlan, type ExecutorCatalog } from '../plan/compile.js';

/** The executors random plans use: `shell` runs a command, `claude` a prompt. */
export const TEST_EXECUTORS: ExecutorCatalog = new Map([
  ['shell', { requires: 'run' as const }],
  ['claude', { requires: 'prompt' as const }],
]);

/**
 * The `writes` globs random tasks pick from: few enough that many pairs overlap
 * (`src/**` with `src/api/*.ts`), with some that never do (`README.md` with `docs/*.md`).
 */
export const WRITE_GLOBS = [
  'src/**',
  'src/api/*.ts',
  'src/api/index.ts',
  'src/web/',
  'src/*/util.ts',
  'docs/*.md',
  'docs/{guide,api}.md',
  'README.md',
  'test/**/*.test.ts',
  'dist/',
] as const;

/** How a task behaves when the test "runs" it; not part of the plan. */
export interface TaskBehaviour {
  /** How many attempts fail before one succeeds; more than `retries` means the task fails. */
  readonly failures: number;
  /** Delay before each retry, ms. */
  readonly retryDelayMs: number;
  /** How long each attempt really takes, ms (the estimate is only a guess). */
  readonly actualMs: number;
}

export interface GeneratedPlan {
  /** The plan as a user would write it; passes `PlanSchema` and `compilePlan`. */
  readonly spec: PlanSpec;
  readonly compiled: CompiledPlan;
  readonly graph: Graph;
  /** Per task index. */
  readonly behaviour: readonly TaskBehaviour[];
}

export interface PlanArbitraryOptions {
  /** @default 60 */
  readonly maxTasks?: number;
  /** Declare pools and let tasks use them. @default true */
  readonly pools?: boolean;
  /** Give some tasks `writes` globs. @default true */
  readonly writes?: boolean;
  /** Give some tasks a `when` gate. @default true */
  readonly when?: boolean;
  /** Give some tasks `after` (soft) dependencies. @default true */
  readonly after?: boolean;
  /** Let some attempts fail, and give some tasks retries. @default true */
  readonly failures?: boolean;
  /** Let some estimates and run times be 0 ms. @default true */
  readonly zeroDurations?: boolean;
}

/** The `when` gates random tasks may carry; `after-dep` reads the task's first `after` dependency. */
type WhenShape = 'vars.on' | '!vars.on' | 'vars.level >= 2' | 'false' | 'after-dep';

const whenShape: fc.Arbitrary<WhenShape | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom<WhenShape>('vars.on', '!vars.on', 'vars.level >= 2', 'false', 'after-dep') },
);

const taskShape = (o: Required<PlanArbitraryOptions>) =>
  fc.record({
    // Dependencies are drawn as offsets back into the tasks declared before this one, so the
    // graph is acyclic and declaration order is a topological order.
    needs: fc.array(fc.nat(), { maxLength: 4 }),
    after: fc.array(fc.nat(), { maxLength: o.after ? 2 : 0 }),
    estimateMs: fc.integer({ min: o.zeroDurations ? 0 : 1, max: 100 }),
    priority: fc.integer({ min: -2, max: 2 }),
    executor: fc.constantFrom('shell', 'shell', 'claude'),
    uses: o.pools
      ? fc.oneof(
          { weight: 2, arbitrary: fc.constant({}) },
          {
            weight: 1,
            arbitrary: fc.record(
              {
                claude: fc.integer({ min: 1, max: 3 }),
                gpu: fc.integer({ min: 1, max: 2 }),
                net: fc.integer({ min: 1, max: 4 }),
              },
              { requiredKeys: [] },
            ),
          },
        )
      : fc.constant({}),
    writes: o.writes
      ? fc.oneof(
          { weight: 3, arbitrary: fc.constant<string[]>([]) },
          { weight: 2, arbitrary: fc.subarray<string>([...WRITE_GLOBS], { minLength: 1, maxLength: 2 }) },
        )
      : fc.constant<string[]>([]),
    when: o.when ? whenShape : fc.constant(undefined),
    retries: o.failures ? fc.integer({ min: 0, max: 2 }) : fc.constant(0),
    // Compared with the plan's failure rate: a roll under it makes the task flaky (1–2 failed
    // attempts) or broken (every attempt fails).
    failureRoll: fc.integer({ min: 0, max: 99 }),
    failures: fc.constantFrom(1, 2, 99),
    retryDelayMs: fc.integer({ min: 0, max: 30 }),
    actualMs: fc.integer({ min: o.zeroDurations ? 0 : 1, max: 100 }),
  });

/**
 * Random valid plans with their compiled graph: 1 to `maxTasks` tasks (ids `t0`, `t1`, …),
 * dependencies of varying density and reach, pools, overlapping `writes`, `when` gates, retries,
 * and a behaviour per task (failures, retry delay, real duration) for tests that "run" it.
 * @example fc.assert(fc.property(planArbitrary({ maxTasks: 20 }), ({ graph }) => …))
 */
export function planArbitrary(options: PlanArbitraryOptions = {}): fc.Arbitrary<GeneratedPlan> {
  const o: Required<PlanArbitraryOptions> = {
    maxTasks: 60,
    pools: true,
    writes: true,
    when: true,
    after: true,
    failures: true,
    zeroDurations: true,
    ...options,
  };
  return fc
    .record({
      shapes: fc.array(taskShape(o), { minLength: 1, maxLength: o.maxTasks, size: 'max' }),
      // How far back a dependency may reach: 1 makes chains, large values make wide, shallow graphs.
      reach: fc.integer({ min: 1, max: o.maxTasks }),
      // How many of the drawn `needs` each task keeps: 0 gives independent tasks.
      density: fc.integer({ min: 0, max: 4 }),
      // Percentage of tasks that fail at least once; most plans have few or none, so that
      // failures do not skip most of the graph.
      failurePercent: o.failures ? fc.constantFrom(0, 0, 1, 3, 10, 30) : fc.constant(0),
      pools: o.pools
        ? fc.record(
            {
              claude: fc.integer({ min: 1, max: 3 }),
              gpu: fc.integer({ min: 1, max: 2 }),
              net: fc.integer({ min: 1, max: 4 }),
            },
            { requiredKeys: [] },
          )
        : fc.constant({}),
      vars: fc.record({ on: fc.boolean(), level: fc.integer({ min: 0, max: 3 }) }),
      workers: fc.integer({ min: 1, max: 16 }),
    })
    .map(({ shapes, reach, density, failurePercent, pools, vars, workers }) => {
      const poolCapacity: Readonly<Record<string, number>> = pools;
      const tasks = shapes.map((s, i): TaskSpec => {
        const back = (x: number): string => `t${i - 1 - (x % Math.min(i, reach))}`;
        const needs = i === 0 ? [] : [...new Set(s.needs.slice(0, density).map(back))];
        const after = i === 0 ? [] : [...new Set(s.after.map(back))].filter((d) => !needs.includes(d));
        const uses = Object.fromEntries(
          Object.entries(s.uses as Record<string, number>).flatMap(([pool, units]) => {
            const capacity = poolCapacity[pool];
            return capacity === undefined ? [] : [[pool, Math.min(units, capacity)]];
          }),
        );
        const when =
          s.when === 'after-dep'
            ? after[0] === undefined
              ? undefined
              : `tasks.${after[0]}.succeeded`
            : s.when === 'false'
              ? false
              : s.when;
        return {
          id: `t${i}`,
          ...(s.executor === 'shell' ? { run: `echo t${i}` } : { executor: 'claude', prompt: `do t${i}` }),
          ...(needs.length > 0 ? { needs } : {}),
          ...(after.length > 0 ? { after } : {}),
          estimate: `${s.estimateMs}ms`,
          ...(s.priority !== 0 ? { priority: s.priority } : {}),
          ...(Object.keys(uses).length > 0 ? { uses } : {}),
          ...(s.writes.length > 0 ? { writes: s.writes } : {}),
          ...(when !== undefined ? { when } : {}),
          ...(s.retries > 0 ? { retries: s.retries } : {}),
        };
      });
      // Only the pools some task uses and the vars some `when` reads: the others are refused.
      const used = new Set(tasks.flatMap((t) => Object.keys(t.uses ?? {})));
      const declared = Object.fromEntries(Object.entries(poolCapacity).filter(([pool]) => used.has(pool)));
      const whens = tasks.map((t) => t.when).join(' ');
      const read = Object.fromEntries(Object.entries(vars).filter(([name]) => whens.includes(`vars.${name}`)));
      const spec: PlanSpec = {
        name: 'random',
        workers,
        ...(Object.keys(read).length > 0 ? { vars: read } : {}),
        ...(Object.keys(declared).length > 0 ? { pools: declared } : {}),
        tasks,
      };
      const compiled = compilePlan(spec, { executors: TEST_EXECUTORS });
      const behaviour = shapes.map((s): TaskBehaviour => ({
        failures: s.failureRoll < failurePercent ? s.failures : 0,
        retryDelayMs: s.retryDelayMs,
        actualMs: s.actualMs,
      }));
      return withReadableCounterexample({ spec, compiled, graph: compiled.graph, behaviour });
    });
}

/** fast-check prints a failing plan as the plan a user would write, not as typed arrays. */
function withReadableCounterexample(plan: GeneratedPlan): GeneratedPlan {
  return Object.defineProperty(plan, fc.toStringMethod, {
    value: () => JSON.stringify({ plan: plan.spec, behaviour: plan.behaviour }),
    enumerable: false,
  });
}

/** A budget M, from 1 to `max`. */
export const workersArbitrary = (max = 16): fc.Arbitrary<number> => fc.integer({ min: 1, max });

export const readyOrderArbitrary = fc.constantFrom('critical-path' as const, 'fifo' as const, 'declaration' as const);
