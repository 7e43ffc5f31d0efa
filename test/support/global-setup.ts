import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { ensureService, SERVICES, type ServiceName } from './services.js';
import type {} from './need-service.js';

/**
 * Vitest's global set-up, before any test file runs (what .ci/run used to do):
 * - starts each service in {@link SERVICES} that is down and installed, and hands each one's problem
 *   to the tests through `inject('serviceProblems')`; a test that needs a broken one fails with that
 *   line (see needService);
 * - gives git an identity when the machine has none (a fresh CI box), through the environment the
 *   test processes inherit, so tests that commit as "the user" can.
 */
export default async function setup(project: TestProject): Promise<void> {
  if (spawnSync('git', ['var', 'GIT_COMMITTER_IDENT'], { stdio: 'ignore' }).status === 128) {
    process.env.GIT_AUTHOR_NAME = process.env.GIT_COMMITTER_NAME = 'weft test';
    process.env.GIT_AUTHOR_EMAIL = process.env.GIT_COMMITTER_EMAIL = 'test@weft.local';
  }
  const names = Object.keys(SERVICES) as ServiceName[];
  const problems = await Promise.all(names.map((name) => ensureService(SERVICES[name])));
  const byName = Object.fromEntries(names.map((name, i) => [name, problems[i] ?? '']));
  project.provide('serviceProblems', byName as Record<ServiceName, string>);
}
