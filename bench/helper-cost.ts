/**
 * What one spawn helper costs per task, apart from Node: 1,000 requests for `true` written at once
 * to a helper's stdin through a pipe, the helper run alone (serially, one task at a time), wall and
 * CPU time of the helper and its children (GNU time). Prints figures; not a test.
 *
 *   node --import tsx bench/helper-cost.ts [--tasks 1000] [--runs 3]
 *
 * - weft's bash helper (`SPAWN_HELPER_SCRIPT`, as the ShellExecutor runs it: logs, job control);
 * - bash's floor: a loop of `( exec true ) & wait` under job control, nothing else;
 * - weft's python helper (`PYTHON_HELPER_SCRIPT`: `os.posix_spawn`, the same job; Linux with python3);
 * - make: `make -j 1` of the same number of independent `true` targets.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  encodeBaseEnv,
  encodeRequest,
  findPython,
  PYTHON_HELPER_SCRIPT,
  SPAWN_HELPER_SCRIPT,
} from '../src/executors/process/helper-programs.js';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' } },
});
const TASKS = Number(values.tasks);
const RUNS = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'weft-helper-cost-'));
mkdirSync(join(dir, 'logs'));

/** weft's requests (`encodeRequest`): a `true` a task, each with its two log files. */
const requests = Array.from({ length: TASKS }, (_, i) =>
  encodeRequest({
    cwd: dir,
    stdout: join(dir, 'logs', `${i}.out`),
    stderr: join(dir, 'logs', `${i}.err`),
    sets: [],
    unsets: [],
    argv: ['true'],
  }),
).join('');
writeFileSync(join(dir, 'requests'), requests);

/** weft's python helper reads the base env before its first request. */
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
);
writeFileSync(join(dir, 'requests-python'), encodeBaseEnv(baseEnv) + requests);

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

/**
 * Wall and CPU (user + sys of the command and its children) by GNU time's -f, in ms. A helper's
 * answers are kept and checked: every request must have run its `true` (`X 0`), or the figure
 * would time a helper that choked on its input.
 */
function timeOnce(c: Contender): { wallMs: number; cpuMs: number } {
  const requests = join(dir, c.requests ?? 'requests');
  const script = `${c.fromRequests ? `cat "$0" | ` : ''}/usr/bin/time -f '%e %U %S' "$@" >"$0.answers" 2>"$0.time"; cat "$0.time"`;
  const out = execFileSync('bash', ['-c', script, requests, ...c.argv], { encoding: 'utf8' });
  if (c.fromRequests) {
    const ran = readFileSync(`${requests}.answers`, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('X 0 ')).length;
    if (ran !== TASKS) throw new Error(`${c.name}: ${ran} of ${TASKS} requests ran \`true\``);
  }
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
