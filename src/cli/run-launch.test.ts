import { describe, expect, it } from 'vitest';
import { didNotStart } from './run-launch.js';

describe('didNotStart: why a run the server launched ended before its journal', () => {
  it("keeps the hint under the process's weft: line", () => {
    const e = didNotStart('weft: --retry: no task "tset" in run r1\n  did you mean "test"?\n', 2);
    expect([e.message, e.hint]).toEqual([
      'the run did not start: --retry: no task "tset" in run r1',
      'did you mean "test"?',
    ]);
  });

  it('gives every issue of a plan, one a line, and a general hint when there is none', () => {
    const e = didNotStart(
      'plan.yaml:3:5 task "a" nedds: unknown field\nplan.yaml:7:9 task "b" needs[0]: unknown task "x"\n',
      2,
    );
    expect(e.message).toBe(
      'the run did not start: plan.yaml:3:5 task "a" nedds: unknown field\nplan.yaml:7:9 task "b" needs[0]: unknown task "x"',
    );
    expect(e.hint).toBe('fix that and start it again');
    expect(didNotStart('weft: the journal is locked\n', 2).hint).toBe('fix that and start it again');
    expect(didNotStart('', 137).message).toBe('the run did not start: exit code 137');
  });
});
