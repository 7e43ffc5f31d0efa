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

  // It said `--planner: "nope" is not …` to an API or MCP caller, who sent a `planner` field.
  it('names the flags this control passed as the request fields they came from', () => {
    const e = didNotStart(
      'weft: --planner: "nope" is not an executor that can plan\n  did you mean "codex"? planners: codex\n',
      2,
    );
    expect(e.message).toBe('the run did not start: `planner`: "nope" is not an executor that can plan');
    const f = didNotStart('weft: no planner found\n  install one, or pass --planner <executor>; or -j 2\n', 2);
    expect(f.hint).toBe('install one, or pass `planner`; or `workers` 2');
  });
});
