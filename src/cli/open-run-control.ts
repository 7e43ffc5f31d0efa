import { planGoal } from './commands/plan.js';
import { openJournal, refuseMemoryJournal } from './journal.js';
import { createRunControl, type LocalRunControl } from './run-control.js';
import { wire } from './wiring.js';

/**
 * The run control of the project folder `root` with its own journal and the AI planner (`weft mcp`);
 * `close` closes the journal.
 * @param cliPath The weft CLI runs are started with. @default this installation's `weft` (`CLI_PATH` in cli-path.ts)
 * @example const control = await openRunControl(process.cwd()); … await control.close();
 */
export async function openRunControl(root: string, cliPath?: string): Promise<LocalRunControl> {
  const { projectDir, config, executors } = wire(root);
  refuseMemoryJournal(config, 'weft mcp');
  const store = await openJournal(projectDir, config);
  const control = createRunControl({
    projectDir,
    store,
    executors,
    planGoal,
    ...(cliPath === undefined ? {} : { cliPath }),
  });
  return {
    ...control,
    async close() {
      await control.close();
      await store.close();
    },
  };
}
