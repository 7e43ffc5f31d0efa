import { z } from 'zod';

/** A path inside the repository: relative, and not climbing out of it. */
const RepoPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p) && !p.split(/[\\/]/).includes('..'), {
    message: 'must be a path relative to the repository top, inside it (no leading / and no ..)',
  });

/** `workspace.setup`: a command run once per distinct content of its key files, its result shared by every worktree. */
export const WorkspaceSetupSchema = z
  .object({
    run: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'The set-up command as argv (no shell), run at the top of a checkout of the run\'s commit, e.g. ["npm", "ci"].',
      ),
    key: z
      .array(RepoPath)
      .min(1)
      .describe(
        'Files whose content decides when it runs again (lockfiles), read from the commit a worktree starts at.',
      ),
    share: z
      .array(RepoPath)
      .min(1)
      .describe('What it produces that every worktree shares (linked, not copied), e.g. ["node_modules"].'),
  })
  .strict();

/** `workspace:` in a plan or `weft.config.yaml`: how every worktree of a run is made ready to work in. */
export const WorkspaceSchema = z
  .object({
    setup: WorkspaceSetupSchema.optional().describe(
      'A set-up (e.g. installing dependencies) run once per content of its `key` files, ' +
        'cached under .weft/setup/, shared by every worktree.',
    ),
    copy: z
      .array(RepoPath)
      .optional()
      .describe(
        'Files git does not track (.env, local config) copied from your checkout into every worktree; never committed.',
      ),
  })
  .strict();

/** A `workspace:` as written. */
export type WorkspaceSpec = z.infer<typeof WorkspaceSchema>;
/** A `workspace.setup:` as written. */
export type WorkspaceSetupSpec = z.infer<typeof WorkspaceSetupSchema>;
