import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** A shell task whose stdout is the sub-plan it adds. */
const expanding = (tasks: object[]) => ({
  id: 'plan',
  expands: true,
  run: ['sh', '-c', `printf '%s\\n' '${JSON.stringify({ tasks })}'`],
});

describe('a task that adds tasks (expands: true)', () => {
  it('grows the progress count with the tasks it adds', async () => {
    const project = tempProject();
    const plan = {
      name: 'fanout',
      tasks: [
        expanding([
          { id: 'r1', run: 'true' },
          { id: 'r2', run: 'true', needs: ['r1'] },
        ]),
        { id: 'summary', run: 'true', needs: ['plan'] },
      ],
    };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/\[\d+\/\d+\]/g)).toEqual(['[1/4]', '[2/4]', '[3/4]', '[4/4]']);
  });

  it('says what is wrong with a sub-plan it cannot splice in', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({ name: 'bad-fanout', tasks: [expanding([{ id: 'r1', run: 'true', needs: ['nope'] }])] }),
    );
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /✗ plan: its sub-plan is not valid: \S*plan\.yaml task "r1" needs\[0\]: unknown task "nope" — fix: use the id of a task in this plan \(after 2 fix attempts\)/,
    );
  });
});
