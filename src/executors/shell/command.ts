import { parse } from 'shell-quote';

export type ParsedCommand = { readonly argv: readonly string[] } | { readonly error: string };

/**
 * Splits a `run` string into argv the way a shell would quote it, without a shell: pipes,
 * redirections, globs and `$VARS` are refused so nothing is silently taken literally.
 */
export function parseCommand(run: string | readonly string[]): ParsedCommand {
  if (typeof run !== 'string') return run.length === 0 ? { error: 'empty command' } : { argv: run };
  const vars: string[] = [];
  const parts = parse(run, (name) => {
    vars.push(name);
    return '';
  });
  if (vars.length > 0) return { error: `uses $${vars[0]}, which only a shell expands` };
  const argv: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') argv.push(p);
    else if ('op' in p && p.op === 'glob') return { error: `uses the glob "${p.pattern}", which only a shell expands` };
    else if ('op' in p) return { error: `uses "${p.op}", which needs a shell` };
    else return { error: 'contains a comment' };
  }
  return argv.length === 0 ? { error: 'empty command' } : { argv };
}
