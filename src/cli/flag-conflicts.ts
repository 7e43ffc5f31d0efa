// Two flags a command refuses together (an option's `.conflicts()`), said in weft's words.

/**
 * Why two flags given together (an option's `.conflicts()`) do not go together, and the fix; keyed by
 * their short names in the order commander names them (the one declaring the conflict first).
 */
const CONFLICTS: Readonly<Record<string, { why: string; fix: string }>> = {
  '-j --sweep': {
    why: '--sweep tries each worker count in its range',
    fix: 'leave out -j to sweep (e.g. --sweep 1-16), or --sweep to estimate on -j workers',
  },
};

/**
 * Commander's "option '-j, --jobs <M>' cannot be used with option '--sweep <range>'", in weft's words:
 * `-j and --sweep do not go together`, why, and the fix (without a reason written: leave one out).
 */
export function conflictProblem(line: string, help: string): { message: string; hint: string } {
  const flags = [...line.matchAll(/'([^']+)'/g)].map((m) => (m[1] ?? '').split(/[\s,|]+/)[0] ?? '');
  const [a = '', b = ''] = flags;
  const known = CONFLICTS[`${a} ${b}`];
  return known === undefined
    ? { message: `${a} and ${b} do not go together`, hint: `leave out ${a} or ${b}; ${help}` }
    : { message: `${a} and ${b} do not go together: ${known.why}`, hint: known.fix };
}
