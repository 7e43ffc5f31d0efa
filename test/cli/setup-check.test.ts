import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** No API keys, and a PATH without any agent CLI. */
const bare = {
  ANTHROPIC_API_KEY: undefined,
  OPENAI_API_KEY: undefined,
  PATH: '/usr/bin:/bin',
  WEFT_DATABASE_URL: undefined,
};

describe('a run whose executors are not set up here', () => {
  it('is refused before anything runs, naming each executor, its tasks and what to do', async () => {
    const project = tempProject();
    const plan = {
      name: 'needs-setup',
      vars: { review: false },
      tasks: [
        { id: 'prep', run: ['touch', 'prep-ran'] },
        { id: 'write', prompt: 'Write hello.txt', executor: 'claude', needs: ['prep'] },
        { id: 'summarise', prompt: 'Summarise', executor: 'anthropic', needs: ['write'] },
        // Ruled out by its condition: its executor is not needed.
        { id: 'review', prompt: 'Review', executor: 'openai', when: 'vars.review' },
      ],
    };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: project, env: bare });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        'weft: cannot start: 2 executors this run needs are not set up here',
        '  claude (task write): claude not found: npm i -g @anthropic-ai/claude-code, or set executors.claude.bin (tried `claude`)',
        '  anthropic (task summarise): ANTHROPIC_API_KEY is not set: export your API key as ANTHROPIC_API_KEY (or name the variable that holds it with executors.anthropic.apiKeyEnv in weft.config.yaml)',
        '  nothing has run; fix that and run again',
        '',
      ].join('\n'),
    );
    expect(existsSync(join(project, 'prep-ran'))).toBe(false);
    expect(existsSync(join(project, '.weft', 'runs')) ? readdirSync(join(project, '.weft', 'runs')) : []).toEqual([]);
  });
});
