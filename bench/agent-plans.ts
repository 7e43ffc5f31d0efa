import type { Graph } from '../src/core/plan/graph.js';
import { compilePlan } from '../src/core/plan/compile.js';
import { lcgRandom } from './random-dag.js';

interface AgentTask {
  readonly id: string;
  readonly needs: readonly string[];
  /** Minutes. */
  readonly minutes: number;
}

/**
 * A plan shaped like agent work (the shapes of `templates/`): 0–3 scouts (10–25 min) → a planner
 * (20–40 min) → 4–12 builders (10–60 min; about one in four also needs an earlier builder, as an
 * API slice needs the domain slice) → a check per builder (5–15 min) and whole-tree checks (unit
 * 5 min, lint 3 min, e2e 20–30 min) → review (15–30 min) → deploy (5–10 min). Estimates are
 * whole minutes, as people write them. Deterministic for a seed.
 */
export function agentPlan(seed: number): Graph {
  const rand = lcgRandom(seed * 7919 + 17);
  const between = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const tasks: AgentTask[] = [];
  const scouts = Array.from({ length: between(0, 3) }, (_, k) => `scout-${k}`);
  for (const id of scouts) tasks.push({ id, needs: [], minutes: between(10, 25) });
  tasks.push({ id: 'plan', needs: scouts, minutes: between(20, 40) });
  const builders = Array.from({ length: between(4, 12) }, (_, k) => `build-${k}`);
  builders.forEach((id, k) => {
    const after = k > 0 && rand() < 0.25 ? [builders[Math.floor(rand() * k)] as string] : [];
    tasks.push({ id, needs: ['plan', ...after], minutes: between(10, 60) });
  });
  const checks = builders.map((b) => `check-${b}`);
  builders.forEach((b, k) => tasks.push({ id: checks[k] as string, needs: [b], minutes: between(5, 15) }));
  const whole = [
    { id: 'unit', needs: builders, minutes: 5 },
    { id: 'lint', needs: builders, minutes: 3 },
    { id: 'e2e', needs: builders, minutes: between(20, 30) },
  ];
  tasks.push(...whole);
  tasks.push({ id: 'review', needs: [...checks, ...whole.map((t) => t.id)], minutes: between(15, 30) });
  tasks.push({ id: 'deploy', needs: ['review'], minutes: between(5, 10) });
  const spec = {
    name: `agent-${seed}`,
    tasks: tasks.map((t) => ({ id: t.id, run: 'true', needs: [...t.needs], estimate: `${t.minutes}m` })),
  };
  return compilePlan(spec, { executors: new Map([['shell', { requires: 'run' as const }]]) }).graph;
}
