import type { TestProject } from 'vitest/node';
import { ensureService, SERVICES, type ServiceName } from './services.js';
import type {} from './need-service.js';

/**
 * Vitest's global set-up: before any test file runs, starts each service in {@link SERVICES} that is
 * down and installed (as .ci/run used to), and hands each one's problem to the tests through
 * `inject('serviceProblems')`; a test that needs a broken one fails with that line (see needService).
 */
export default async function setup(project: TestProject): Promise<void> {
  const names = Object.keys(SERVICES) as ServiceName[];
  const problems = await Promise.all(names.map((name) => ensureService(SERVICES[name])));
  const byName = Object.fromEntries(names.map((name, i) => [name, problems[i] ?? '']));
  project.provide('serviceProblems', byName as Record<ServiceName, string>);
}
