import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

// The benchmark data is part of the repository (bench/data/, see its README).
const DATA = process.env.WEFT_BENCH_DATA ?? join(ROOT, 'bench', 'data');

describe("weft estimate on users' own task graphs", () => {
  it('reads an STG file and reaches the proven optimum with the same decision code as a run', async () => {
    // stg/optimal_values: 50/rand0000.stg at P=4 has optimum 66.
    const r = await weft(['estimate', join(DATA, 'stg/50/rand0000.stg'), '--format', 'stg', '-j', '4', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      tasks: 50,
      workers: 4,
      makespan: 66,
      sequential: 262,
      criticalPath: 55,
      lowerBound: 65.5,
    });
  });

  it('reads a WfCommons trace; with no limits the estimate is the critical path', async () => {
    const file = join(DATA, 'wfcommons/montage-chameleon-2mass-01d-001.json');
    const r = await weft(['estimate', file, '--format', 'wfcommons', '-j', '1024', '--json']);
    const out = JSON.parse(r.stdout);
    expect(out.tasks).toBe(103);
    expect(out.makespan).toBeCloseTo(out.criticalPath, 6);
  });

  it('knows an .stg file and a WfCommons trace without --format', async () => {
    const stg = await weft(['estimate', join(DATA, 'stg/50/rand0000.stg'), '-j', '4', '--json']);
    expect(stg.code, stg.stderr).toBe(0);
    expect(JSON.parse(stg.stdout)).toMatchObject({ tasks: 50, makespan: 66 });
    const wf = await weft([
      'estimate',
      join(DATA, 'wfcommons/montage-chameleon-2mass-01d-001.json'),
      '-j',
      '4',
      '--json',
    ]);
    expect(wf.code, wf.stderr).toBe(0);
    expect(JSON.parse(wf.stdout)).toMatchObject({ tasks: 103 });
  });

  it('an unknown format is a usage error', async () => {
    const r = await weft(['estimate', 'x.dot', '--format', 'dot']);
    expect(r).toMatchObject({
      code: 2,
      stderr:
        'weft: --format expects plan, stg or wfcommons, got "dot"\n  e.g. --format stg, or leave --format out to go by the file: an .stg file, a WfCommons trace (.json), else a plan\n',
    });
  });

  // It said `fix: declare it under vars: {x: …}`, which an STG file cannot do.
  it('--set on an STG file says the file has no variables, not to declare one', async () => {
    const file = join(DATA, 'stg/50/rand0000.stg');
    const r = await weft(['estimate', file, '--set', 'x=1']);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: `weft: --set does not apply to ${file}: an STG file has no variables\n  leave --set out: only a weft plan (YAML or JSON) declares variables, under vars:\n`,
    });
  });
});
