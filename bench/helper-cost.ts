/**
 * What one spawn helper costs per task, apart from Node: 1,000 requests for `true` written at once
 * to a helper's stdin through a pipe, the helper run alone (serially, one task at a time), wall and
 * CPU time of the helper and its children (GNU time). Prints figures; not a test.
 *
 *   node --import tsx bench/helper-cost.ts [--tasks 1000] [--runs 3]
 *
 * - weft's bash helper (`SPAWN_HELPER_SCRIPT`, as the ShellExecutor runs it: logs, pid file, job control);
 * - bash's floor: a loop of `( exec true ) & wait` under job control, nothing else;
 * - a Python `os.posix_spawn` loop doing the same job as weft's helper (logs, own process group,
 *   signal or exit code), a prototype kept here for comparison only (python3 needed);
 * - make: `make -j 1` of the same number of independent `true` targets.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SPAWN_HELPER_SCRIPT } from '../src/executors/process/spawn-helper.js';

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

const PYTHON = String.raw`
import os, signal, sys
buf = b''
def tok():
    global buf
    while True:
        i = buf.find(b'\0')
        if i >= 0:
            t, buf = buf[:i], buf[i + 1:]
            return t
        chunk = os.read(0, 65536)
        if not chunk: sys.exit(0)
        buf += chunk
base = dict(os.environb)
out = sys.stdout.buffer
while True:
    cwd, o, e, pf, n = tok(), tok(), tok(), tok(), int(tok())
    sets = [tok() for _ in range(n)]; n = int(tok()); unsets = [tok() for _ in range(n)]; n = int(tok()); argv = [tok() for _ in range(n)]
    env = base
    if sets or unsets:
        env = dict(base)
        for kv in sets:
            k, _, v = kv.partition(b'='); env[k] = v
        for k in unsets: env.pop(k, None)
    os.chdir(cwd)
    fo = os.open(o, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666); fe = os.open(e, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    path = argv[0] if b'/' in argv[0] else next((os.path.join(d, argv[0]) for d in env.get(b'PATH', b'').split(b':') if os.access(os.path.join(d, argv[0]), os.X_OK)), None)
    pid = os.posix_spawn(path, argv, env, file_actions=[(os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, fo, 1), (os.POSIX_SPAWN_DUP2, fe, 2)], setpgroup=0, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
    os.close(fo); os.close(fe)
    out.write(b'S %d\n' % pid); out.flush()
    _, st = os.waitpid(pid, 0)
    out.write(b'X s %d\n' % os.WTERMSIG(st) if os.WIFSIGNALED(st) else b'X e %d\n' % os.WEXITSTATUS(st)); out.flush()
`;
writeFileSync(
  join(dir, 'Makefile'),
  `all: ${Array.from({ length: TASKS }, (_, i) => `t${i}`).join(' ')}\n.PHONY: all ${Array.from({ length: TASKS }, (_, i) => `t${i}`).join(' ')}\n${Array.from({ length: TASKS }, (_, i) => `t${i}:\n\ttrue\n`).join('')}`,
);

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
interface Contender {
  readonly name: string;
  /** argv, run with the requests file on stdin through a pipe (`cat requests | …`). */
  readonly argv: readonly string[];
  readonly fromRequests: boolean;
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
  ...(has('python3')
    ? [{ name: 'Python os.posix_spawn helper', argv: ['python3', '-c', PYTHON], fromRequests: true }]
    : []),
  ...(has('make') ? [{ name: 'make -j 1', argv: ['make', '-s', '-j', '1', '-C', dir], fromRequests: false }] : []),
];

/** Wall and CPU (user + sys of the command and its children) by GNU time's -f, in ms. */
function timeOnce(c: Contender): { wallMs: number; cpuMs: number } {
  const script = `${c.fromRequests ? `cat "$0" | ` : ''}/usr/bin/time -f '%e %U %S' "$@" >/dev/null 2>"$0.time"; cat "$0.time"`;
  const out = execFileSync('bash', ['-c', script, join(dir, 'requests'), ...c.argv], { encoding: 'utf8' });
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
