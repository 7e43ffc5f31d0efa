import { inject } from 'vitest';
import type { ServiceName } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Per service, what is wrong with it ('' when it answers), found by test/support/global-setup.ts. */
    serviceProblems: Record<ServiceName, string>;
  }
}

/**
 * For a test's `beforeAll`: fails with the one line the global set-up wrote when the service is down
 * and could not be started (what to install, or why it did not come up). Never a skip.
 * @example beforeAll(() => needService('postgres'));
 */
export function needService(name: ServiceName): void {
  const problem = inject('serviceProblems')[name];
  if (problem !== '') throw new Error(problem);
}
