import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

describe("agent tasks' provider pool", () => {
  it('is as wide as -j when the plan does not declare it: 8 agent tasks of 10m take 10m on -j 8', async () => {
    const dir = tempProject('weft-provider-pool-');
    const tasks = Array.from({ length: 8 }, (_, i) => ({
      id: `t${i}`,
      executor: 'claude',
      prompt: `do ${i}`,
      estimate: '10m',
    }));
    writeFileSync(join(dir, 'plan.yaml'), JSON.stringify({ workers: 2, tasks }));
    const wide = await weft(['estimate', 'plan.yaml', '-j', '8', '--json', '--no-history'], { cwd: dir });
    expect(wide.code, wide.stderr).toBe(0);
    expect(JSON.parse(wide.stdout)).toMatchObject({ workers: 8, makespan: 600 });
    // A declared pool still binds.
    writeFileSync(join(dir, 'plan.yaml'), JSON.stringify({ workers: 2, pools: { claude: 4 }, tasks }));
    const capped = await weft(['estimate', 'plan.yaml', '-j', '8', '--json', '--no-history'], { cwd: dir });
    expect(JSON.parse(capped.stdout)).toMatchObject({ workers: 8, makespan: 1200 });
  });
});
