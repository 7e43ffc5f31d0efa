/**
 * What one spawn helper costs per task, apart from Node: 1,000 requests for `true` written at once
 * to a helper's stdin through a pipe, the helper run alone (serially, one task at a time), wall and
 * CPU time of the helper and its children (GNU time). Prints figures; not a test.
 *
 *   node --import tsx bench/helper-cost.ts [--tasks 1000] [--runs 3]
 *
 * - weft's bash helper (`SPAWN_HELPER_SCRIPT`, as the ShellExecutor runs it: logs, pid file, job control);
 * - bash's floor: a loop of `( exec true ) & wait` under job control, nothing else;
 * - weft's python helper (`PYTHON_HELPER_SCRIPT`: `os.posix_spawn`, the same job; Linux with python3);
 * - make: `make -j 1` of the same number of independent `true` targets.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findPython, PYTHON_HELPER_SCRIPT, SPAWN_HELPER_SCRIPT } from '../src/executors/process/helper-programs.js';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' } },
});
const TASKS = Number(values.tasks);
const RUNS = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'weft-helper-cost-'));
mkdirSync(join(dir, 'logs'));

/** weft's request format (see spawn-helper.ts): cwd, stdout, stderr, pid file, sets, unsets, argv. */
const requests = Array.from(
  { length: TASKS },
  (_, i) =>
    [dir, join(dir, 'logs', `${i}.out`), join(dir, 'logs', `${i}.err`), '', '0', '0', '1', 'true'].join('\0') + '\0',
).join('');
writeFileSync(join(dir, 'requests'), requests);

/** weft's python helper reads the base env before its first request. */
const baseEnv = Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
writeFileSync(join(dir, 'requests-python'), [String(baseEnv.length), ...baseEnv].join('\0') + '\0' + requests);

writeFileSync(
  join(dir, 'Makefile'),
  `all: ${Array.from({ length: TASKS }, (_, i) => `t${i}`).join(' ')}\n.PHONY: all ${Array.from({ length: TASKS }, (_, i) => `t${i}`).join(' ')}\n${Array.from({ length: TASKS }, (_, i) => `t${i}:\n\ttrue\n`).join('')}`,
);

const python = findPython();
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
interface Contender {
  readonly name: string;
  /** argv, run with the requests file on stdin through a pipe (`cat requests | …`). */
  readonly argv: readonly string[];
  readonly fromRequests: boolean;
  /** The requests file, if not `requests`. */
  readonly requests?: string;
}
const contenders: Contender[] = [
  {
    name: "weft's bash helper",
    argv: ['bash', '-p', '-c', SPAWN_HELPER_SCRIPT, 'weft-spawn-helper'],
    fromRequests: true,
  },
  {
    name: 'bash floor: ( exec true ) & wait',
    argv: ['bash', '-p', '-c', `set -m; for ((i = 0; i < ${TASKS}; i++)); do ( exec true ) & wait $!; done`],
    fromRequests: false,
  },
  ...(python === undefined
    ? []
    : [
        {
          name: "weft's python helper",
          argv: [python, '-I', '-S', '-c', PYTHON_HELPER_SCRIPT],
          fromRequests: true,
          requests: 'requests-python',
        },
      ]),
  ...(has('make') ? [{ name: 'make -j 1', argv: ['make', '-s', '-j', '1', '-C', dir], fromRequests: false }] : []),
];

/** Wall and CPU (user + sys of the command and its children) by GNU time's -f, in ms. */
function timeOnce(c: Contender): { wallMs: number; cpuMs: number } {
  const script = `${c.fromRequests ? `cat "$0" | ` : ''}/usr/bin/time -f '%e %U %S' "$@" >/dev/null 2>"$0.time"; cat "$0.time"`;
  const out = execFileSync('bash', ['-c', script, join(dir, c.requests ?? 'requests'), ...c.argv], {
    encoding: 'utf8',
  });
  const [wall, user, sys] = (out.trim().split('\n').at(-1) ?? '').split(' ').map(Number) as [number, number, number];
  return { wallMs: wall * 1000, cpuMs: (user + sys) * 1000 };
}

if (!has('/usr/bin/time')) throw new Error('needs GNU time at /usr/bin/time (Debian package "time")');
console.log(`${TASKS} \`true\` tasks, one at a time, requests through a pipe; best of ${RUNS} runs`);
for (const c of contenders) {
  const runs = Array.from({ length: RUNS }, () => timeOnce(c));
  const best = runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  console.log(
    `  ${c.name.padEnd(36)} ${(best.wallMs / TASKS).toFixed(2)} ms wall, ${(best.cpuMs / TASKS).toFixed(2)} ms CPU per task`,
  );
}
rmSync(dir, { recursive: true, force: true });
