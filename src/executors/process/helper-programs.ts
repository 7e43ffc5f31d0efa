import { existsSync } from 'node:fs';

/**
 * The programs a spawn helper can be (see spawn-helper.ts): both read the same NUL-separated
 * requests on stdin and answer the same lines, so the pool does not care which one runs.
 *
 * - **python**: `os.posix_spawn`, which glibc does with `clone(CLONE_VM | CLONE_VFORK)`: no copy of
 *   the helper's page tables per task. On a 2-core VM a task forked this way costs about half of
 *   bash's fork of a subshell (`node --import tsx bench/helper-cost.ts`). Linux only: on macOS
 *   `/usr/bin/python3` may be the stub that asks to install the developer tools.
 * - **bash**: everywhere bash is; forks a subshell per task.
 */
export type HelperKind = 'python' | 'bash';

export interface HelperProgram {
  readonly kind: HelperKind;
  readonly file: string;
  readonly args: readonly string[];
}

/** Which helpers to use: `WEFT_SPAWN_HELPER` or the executor's option. */
export type HelperSetting = boolean | HelperKind;

/** bash, where one is installed; `undefined` without one. */
export function findBash(): string | undefined {
  return ['/bin/bash', '/usr/bin/bash', '/usr/local/bin/bash', '/opt/homebrew/bin/bash'].find((p) => existsSync(p));
}

/**
 * A python3 in a system folder (not PATH: a pyenv or asdf shim takes ~0.3 s to start and changes
 * the environment); Linux only. `undefined` without one.
 */
export function findPython(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  return ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3'].find((p) => existsSync(p));
}

/** What `WEFT_SPAWN_HELPER` says: `0` none, `bash` or `python` only that one, anything else the default. */
export function helperSettingOf(value: string | undefined): HelperSetting {
  return value === '0' ? false : value === 'bash' || value === 'python' ? value : true;
}

/** The helpers to try, in order (the pool drops one that cannot start); empty: Node spawns each task. */
export function helperPrograms(setting: HelperSetting): HelperProgram[] {
  if (setting === false) return [];
  const python = setting === 'bash' ? undefined : findPython();
  const bash = setting === 'python' ? undefined : findBash();
  return [
    ...(python === undefined ? [] : [{ kind: 'python' as const, file: python, args: PYTHON_ARGS }]),
    ...(bash === undefined ? [] : [{ kind: 'bash' as const, file: bash, args: BASH_ARGS }]),
  ];
}

/**
 * Requests are NUL-terminated fields on the helper's stdin: cwd, stdout file, stderr file, a count and that many `NAME=value` to export, a count and names to unset, argc, argv.
 * They are data, never code: nothing splits, globs or expands them. Answers are lines:
 * `S <pid> <time>` once forked (epoch seconds, taken just before the fork, so never later than the
 * task's own first instant: a busy coordinator may read the line much later), `D` (no such cwd),
 * `N` (command not found), `R` (a log file cannot be opened), then `X <status> <time>` once reaped
 * or `K <signal number> <time>` when a signal killed it. The task runs in its own process group,
 * stdin /dev/null; once it is reaped, the helper SIGKILLs what is left of that group (nothing a task
 * started may outlive it) before it answers. A helper ends at EOF on stdin, that is when weft closes it, exits or is killed.
 *
 * bash hides whether 128+n meant "killed by signal n", so job control (`set -m`, which also gives
 * each task its own process group) and a CHLD trap print the job's state (`[1]+ <pid> Done|Exit
 * n|Terminated|Killed…`) before `X`; LC_ALL=C keeps it English. Its env is the coordinator's as of
 * its start plus the task's own variables (bash rewrites a few; see `BASH_OWNED` in spawn-helper.ts).
 */
export const SPAWN_HELPER_SCRIPT = `set +o posix -m
LC_ALL=C
unset TMOUT
trap 'jobs -l' CHLD
rd() { IFS= read -r -d '' "$1"; }
run_task() {
  cd -- "$cwd" 2>/dev/null || { printf 'D\\n'; exit 1; }
  ((\${#sets[@]} == 0)) || export -- "\${sets[@]}"
  ((\${#unsets[@]} == 0)) || unset -v -- "\${unsets[@]}"
  if [[ \${argv[0]} == */* ]]; then [[ -f \${argv[0]} ]]; else type -P -- "\${argv[0]}" >/dev/null; fi || { printf 'N\\n'; exit 127; }
  exec </dev/null 2>"$err" >"$out" || { printf 'R\\n'; exit 1; }
  exec -- "\${argv[@]}"
}
while rd cwd && rd out && rd err && rd n; do
  sets=()
  for ((i = 0; i < n; i++)); do rd v || exit; sets+=("$v"); done
  rd n || exit
  unsets=()
  for ((i = 0; i < n; i++)); do rd v || exit; unsets+=("$v"); done
  rd n || exit
  argv=()
  for ((i = 0; i < n; i++)); do rd v || exit; argv+=("$v"); done
  forked=$EPOCHREALTIME
  ( run_task ) &
  pid=$!
  printf 'S %s %s\\n' "$pid" "$forked"
  wait "$pid"
  st=$?
  kill -KILL -- "-$pid" 2>/dev/null
  printf 'X %s %s\\n' "$st" "$EPOCHREALTIME"
done
`;

/** What one request carries (the fields of {@link encodeRequest}). */
export interface RequestFields {
  readonly cwd: string;
  readonly stdout: string;
  readonly stderr: string;
  /** `NAME=value` to set over the base env, and names to unset. */
  readonly sets: readonly string[];
  readonly unsets: readonly string[];
  readonly argv: readonly string[];
}

/** One request as both helpers read it: NUL-terminated fields (see {@link SPAWN_HELPER_SCRIPT}). */
export function encodeRequest(r: RequestFields): string {
  const fields = [r.cwd, r.stdout, r.stderr, String(r.sets.length), ...r.sets, String(r.unsets.length), ...r.unsets];
  return `${[...fields, String(r.argv.length), ...r.argv].join('\0')}\0`;
}

/** The base env as the python helper reads it before its first request: a count, then `NAME=value`. */
export function encodeBaseEnv(env: Readonly<Record<string, string>>): string {
  const entries = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return `${[String(entries.length), ...entries].join('\0')}\0`;
}

/** -p: no BASH_ENV, no functions from the env. */
const BASH_ARGS = ['-p', '-c', SPAWN_HELPER_SCRIPT, 'weft-spawn-helper'];

/**
 * The python helper. Before the first request it reads the base env (a count, then `NAME=value`
 * fields): its own may differ from the coordinator's. Each task's env is that plus the request's
 * changes; signals python ignores (SIGPIPE, SIGXFSZ) are reset to default for the task. A command
 * without a `/` is looked up on the task's PATH, one with a `/` relative to its cwd, as bash does;
 * like bash's hash table, the helper remembers where a name was found on a PATH (sparing a stat per
 * folder before it: ~9 on a PATH with version managers) and looks again only once that file is gone
 * — or always, when the PATH has a relative folder, whose meaning depends on the task's cwd.
 * A command found but refused by the kernel (no execute permission, not a program) exits 126 with
 * the reason in its stderr file, as a shell's would. While a task runs the helper also watches its
 * stdin: end of input then means weft died (a SIGKILL), and the helper stops the task's group as
 * the orphan reaper would (SIGTERM, SIGKILL after 3 s) and exits — it knows the task from its fork,
 * before weft has read the `S` line (the bash helper cannot watch both, so it leaves that to the reaper).
 */
export const PYTHON_HELPER_SCRIPT = String.raw`
import os, select, signal, sys, time
buf = b''
pos = 0
def tok():
    global buf, pos
    while True:
        i = buf.find(b'\0', pos)
        if i >= 0:
            t = buf[pos:i]
            pos = i + 1
            return t
        chunk = os.read(0, 65536)
        if not chunk:
            sys.exit(0)
        buf = buf[pos:] + chunk
        pos = 0
def say(line):
    os.write(1, line.encode() + b'\n')
def pairs(n):
    out = {}
    for _ in range(n):
        k, _, v = tok().partition(b'=')
        out[k] = v
    return out
found = {}
def find(name, env):
    if b'/' in name:
        return name if os.path.isfile(name) else None
    path = env.get(b'PATH', os.defpath.encode())
    p = found.get((name, path))
    if p is not None and os.access(p, os.X_OK):
        return p
    dirs = path.split(b':')
    for d in dirs:
        p = os.path.join(d or b'.', name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            if all(d.startswith(b'/') for d in dirs):
                found[(name, path)] = p
            return p
    return None
def killpg(pid, sig):
    try:
        os.killpg(pid, sig)
    except OSError:
        pass
def gone(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.killpg(pid, 0)
        return False
    except OSError:
        return True
def orphaned(pid):
    killpg(pid, signal.SIGTERM)
    for _ in range(30):
        if gone(pid):
            sys.exit(0)
        time.sleep(0.1)
    killpg(pid, signal.SIGKILL)
    sys.exit(0)
def reap(pid):
    global buf, pos
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = -1
    while fd >= 0:
        ready = select.select([0, fd], [], [])[0]
        if fd in ready:
            os.close(fd)
            break
        chunk = os.read(0, 65536)
        if not chunk:
            orphaned(pid)
        buf = buf[pos:] + chunk
        pos = 0
    return os.waitpid(pid, 0)[1]
base = pairs(int(tok()))
ignored = [s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP) and signal.getsignal(s) == signal.SIG_IGN]
ignored += [signal.SIGPIPE, signal.SIGXFSZ]
W = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
while True:
    cwd, out, err = tok(), tok(), tok()
    sets = pairs(int(tok()))
    unsets = [tok() for _ in range(int(tok()))]
    argv = [tok() for _ in range(int(tok()))]
    env = dict(base)
    env.update(sets)
    for k in unsets:
        env.pop(k, None)
    try:
        os.chdir(cwd)
    except OSError:
        say('D')
        say('X 1 %.6f' % time.time())
        continue
    exe = find(argv[0], env)
    if exe is None:
        say('N')
        say('X 127 %.6f' % time.time())
        continue
    try:
        fo = os.open(out, W, 0o666)
        fe = os.open(err, W, 0o666)
    except OSError:
        say('R')
        say('X 1 %.6f' % time.time())
        continue
    forked = time.time()
    try:
        pid = os.posix_spawn(exe, argv, env, file_actions=[(os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, fo, 1), (os.POSIX_SPAWN_DUP2, fe, 2)], setpgroup=0, setsigdef=ignored, setsigmask=())
    except OSError as e:
        os.write(fe, b'%s: %s\n' % (argv[0], e.strerror.encode()))
        os.close(fo)
        os.close(fe)
        say('X 126 %.6f' % time.time())
        continue
    os.close(fo)
    os.close(fe)
    say('S %d %.6f' % (pid, forked))
    status = reap(pid)
    killpg(pid, signal.SIGKILL)
    if os.WIFSIGNALED(status):
        say('K %d %.6f' % (os.WTERMSIG(status), time.time()))
    else:
        say('X %d %.6f' % (os.WEXITSTATUS(status), time.time()))
`;

/** -I: no PYTHON* variables, no user site or script folder on sys.path; -S: no site import (faster start). */
const PYTHON_ARGS = ['-I', '-S', '-c', PYTHON_HELPER_SCRIPT];
