import { parse } from 'shell-quote';

/** The longest `run` string weft splits: 128 KiB, Linux's limit for one argument. */
export const MAX_COMMAND_LENGTH = 131_072;

/**
 * Words shell-quote would split at spaces and tabs and leave as they are: no quote, escape, `$`,
 * glob, operator, comment, brace, `~` or newline anywhere.
 */
const PLAIN_WORDS = /^[A-Za-z0-9 \t_\-./=,:+@%]*$/;

/** Any character but a space or a tab: a line of plain words with one has a word. */
const NOT_BLANK = /[^ \t]/;

/** argv, or why the command cannot run and (when it is not "use a shell") how to fix it. */
export type ParsedCommand = { readonly argv: readonly string[] } | { readonly error: string; readonly fix?: string };

/**
 * Splits a `run` string into argv the way a shell would quote it, without a shell: pipes,
 * redirections, globs and `$VARS` are refused so nothing is silently taken literally.
 */
export function parseCommand(run: string | readonly string[]): ParsedCommand {
  if (typeof run !== 'string') {
    if (run.length === 0 || run[0] === '')
      return { error: 'names no program (it is empty)', fix: 'put the program first, e.g. run: [npm, test]' };
    return run.some((a) => a.includes('\0'))
      ? { error: 'contains a NUL character', fix: 'remove the NUL (\\u0000): no argument can hold one' }
      : { argv: run };
  }
  if (run.includes('\0'))
    return { error: 'contains a NUL character', fix: 'remove the NUL (\\u0000): no argument can hold one' };
  // Linux takes no single argument over 128 KiB (MAX_ARG_STRLEN); longer text is no command, and
  // shell-quote would overflow the stack splitting megabytes.
  if (run.length > MAX_COMMAND_LENGTH)
    return {
      error: `is ${run.length} characters long, over the ${MAX_COMMAND_LENGTH} a command may have`,
      fix: 'put the script in a file and run that file',
    };
  // Most commands are plain words: split them at once. shell-quote costs ~30 µs a command, which a
  // 100,000-task plan pays for every task while it is validated.
  if (PLAIN_WORDS.test(run)) {
    const argv = run.split(/[ \t]+/).filter((w) => w !== '');
    return argv.length === 0 ? EMPTY : { argv };
  }
  const vars: string[] = [];
  let parts: ReturnType<typeof parse>;
  try {
    parts = parse(run, (name) => {
      vars.push(name);
      return '';
    });
  } catch {
    // shell-quote throws on a `${` it cannot close ("Bad substitution"): text only a shell reads.
    return { error: 'has a "${" that no "}" closes, which only a shell would try to read' };
  }
  if (vars.length > 0) return { error: `uses $${vars[0]}, which only a shell expands` };
  const argv: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') argv.push(p);
    else if ('op' in p && p.op === 'glob') return { error: `uses the glob "${p.pattern}", which only a shell expands` };
    else if ('op' in p) return { error: `uses "${p.op}", which needs a shell` };
    else return { error: 'contains a comment' };
  }
  return argv.length === 0 ? EMPTY : { argv };
}

/**
 * What {@link parseCommand} says is wrong with `run`, without its argv: validation only asks
 * whether a command can run. Plain words need no split to tell (they can unless blank), which
 * spares a 100,000-task plan an array of words per task.
 */
export function commandProblem(
  run: string | readonly string[],
): { readonly error: string; readonly fix?: string } | undefined {
  // A plain string holds no NUL and needs no shell: only its length or its blankness can be wrong.
  if (typeof run === 'string' && run.length <= MAX_COMMAND_LENGTH && PLAIN_WORDS.test(run))
    return NOT_BLANK.test(run) ? undefined : EMPTY;
  const parsed = parseCommand(run);
  return 'error' in parsed ? parsed : undefined;
}

/** A blank `run`: nothing to run, which no shell would change. */
export const EMPTY: { readonly error: string; readonly fix: string } = {
  error: 'is empty',
  fix: 'write the command to run, e.g. run: npm test',
};
