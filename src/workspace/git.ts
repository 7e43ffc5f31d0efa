import { spawn } from 'node:child_process';
import { WeftError } from '../core/errors.js';

/** Who weft's own commits and merges are by. */
export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

/** @default weft <weft@localhost> */
export const WEFT_IDENTITY: GitIdentity = { name: 'weft', email: 'weft@localhost' };

export interface GitRunOptions {
  /** Exit codes that are answers, not failures (`merge` → 1 on conflict). @default [0] */
  readonly okCodes?: readonly number[];
  /**
   * Run with weft's internal settings: no hooks, no auto-gc, no signing, diff3 conflict markers,
   * weft as author and committer (unless `identity` says otherwise). Off for commands on the
   * user's own checkout (`applyRun`), which run with the user's configuration.
   * @default true
   */
  readonly internal?: boolean;
  /** Author and committer. @default {@link WEFT_IDENTITY} when `internal`, else git's own configuration */
  readonly identity?: GitIdentity;
  /** What git reads on its standard input (`update-index --stdin`). @default nothing */
  readonly input?: string;
  /** More environment for this command (e.g. a remote's credentials, kept off the command line). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface GitResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What git says when the repository's state, not weft, is the problem: why, in a user's words, and the fix. */
const USER_CAUSES: readonly { readonly test: RegExp; readonly why: string; readonly fix: string }[] = [
  {
    test: /Another git process seems to be running|cannot lock ref|Unable to create '.*\.lock'/,
    why: 'another git process holds a lock in the repository',
    fix: 'wait for it to finish; if none is running, remove the stale .lock file git names',
  },
  {
    test: /untracked working tree files would be (overwritten|removed)/,
    why: 'untracked files in the checkout are in the way',
    fix: 'move or commit the files git names, then try again',
  },
  {
    test: /local changes to the following files would be overwritten|Your local changes would be overwritten/,
    why: 'uncommitted changes in the checkout are in the way',
    fix: 'commit or stash them (`git stash`), then try again',
  },
  {
    test: /You have not concluded your (merge|cherry-pick|revert)|resolve your current index first|unmerged files/,
    why: 'the checkout is in the middle of a merge',
    fix: 'finish or abort it (`git merge --abort`), then try again',
  },
  {
    test: /not a git repository/,
    why: 'the folder is not inside a git repository',
    fix: 'run `git init && git add -A && git commit -m "initial"` there first',
  },
  {
    test: /does not have any commits yet|ambiguous argument 'HEAD'|bad revision 'HEAD'/,
    why: 'the repository has no commit yet',
    fix: 'commit once first: `git add -A && git commit -m "initial"`',
  },
  {
    test: /Please tell me who you are|unable to auto-detect email address/,
    why: 'git does not know who you are',
    fix: 'set it: `git config --global user.name "…"` and `git config --global user.email …`',
  },
  { test: /No space left on device/, why: 'the disk is full', fix: 'free some space, then try again' },
];

/**
 * A git command that failed: what ran, where, how it ended. When git's answer shows the user's
 * repository is the cause (a lock, files in the way, a merge in progress, no commit), it is
 * `WEFT_USAGE` (exit 2) with the fix as `hint`; anything else is `WEFT_INTERNAL`, a bug to report.
 */
export class GitError extends WeftError {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly exitCode: number | undefined;
  readonly stderr: string;

  constructor(
    args: readonly string[],
    cwd: string,
    exitCode: number | undefined,
    stderr: string,
    options: { cause?: unknown } = {},
  ) {
    const detail = stderr.trim().split('\n').slice(-3).join(' | ');
    const ran = `git ${args.join(' ')} failed in ${cwd}${exitCode === undefined ? '' : ` (exit ${exitCode})`}`;
    const user = USER_CAUSES.find((c) => c.test.test(stderr));
    const message = user === undefined ? ran : `${user.why}: ${ran}`;
    const hint = user === undefined ? {} : { hint: user.fix };
    super(user === undefined ? 'WEFT_INTERNAL' : 'WEFT_USAGE', `${message}${detail === '' ? '' : `: ${detail}`}`, {
      ...options,
      ...hint,
    });
    this.name = 'GitError';
    this.args = args;
    this.cwd = cwd;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/**
 * Settings for every git command weft runs on its own branches and worktrees. Hooks are off (a
 * user's post-checkout `npm install` must not run once per worktree; `checks` is where weft
 * verifies), auto-gc is off (it would race the parallel commands for locks), and conflicts are
 * written diff3-style so whoever resolves them sees the common ancestor too.
 */
const INTERNAL_CONFIG = [
  'core.hooksPath=/dev/null',
  'gc.auto=0',
  'maintenance.auto=false',
  'commit.gpgSign=false',
  'merge.conflictStyle=diff3',
  'merge.autoStash=false',
  'rerere.enabled=false',
  'core.quotePath=false',
  'advice.detachedHead=false',
].flatMap((c) => ['-c', c]);

/** Variables that would point git somewhere else than the `cwd` it is given (e.g. inside a hook). */
const REDIRECTING_VARS = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_PREFIX',
  'GIT_NAMESPACE',
];

function gitEnv(identity: GitIdentity | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !REDIRECTING_VARS.includes(k)) env[k] = v;
  env.GIT_TERMINAL_PROMPT = '0';
  env.LC_ALL = 'C';
  if (identity !== undefined) {
    env.GIT_AUTHOR_NAME = env.GIT_COMMITTER_NAME = identity.name;
    env.GIT_AUTHOR_EMAIL = env.GIT_COMMITTER_EMAIL = identity.email;
  }
  return env;
}

const LOCK_BUSY = /Unable to create '[^']*\.lock': File exists/;
const LOCK_RETRIES = 5;

/** Most git prints before weft gives up on it (a `diff` or `ls-files` of a huge tree). */
const MAX_BUFFER = 256 * 1024 * 1024;

/** How one git process ended: its exit code, or why there is none (not started, killed, too much output). */
interface Ran {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when there is no exit code. */
  readonly failure?: { readonly message: string; readonly cause?: unknown };
}

/**
 * One `git` process through `node:child_process` (argv, no shell): about half the Node CPU per
 * process of execa, and an isolated task runs ~17 of them. Only `env` is its environment.
 */
function runGit(
  cwd: string,
  argv: readonly string[],
  env: Record<string, string>,
  input: string | undefined,
): Promise<Ran> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failure: Ran['failure'];
    let settled = false;
    const settle = (exitCode: number | undefined): void => {
      if (settled) return;
      settled = true;
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ exitCode: failure === undefined ? exitCode : undefined, stdout, stderr, ...(failure && { failure }) });
    };
    let child;
    try {
      child = spawn('git', argv, { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    } catch (error) {
      failure = {
        message: `could not run git: ${error instanceof Error ? error.message : String(error)}`,
        cause: error,
      };
      settle(undefined);
      return;
    }
    const collect = (into: Buffer[], name: string) => {
      let size = 0; // per stream, as execa's maxBuffer
      return (chunk: Buffer): void => {
        if (failure !== undefined) return;
        size += chunk.length;
        if (size > MAX_BUFFER) {
          failure = { message: `git's ${name} was larger than ${MAX_BUFFER} bytes` };
          child.kill();
          return;
        }
        into.push(chunk);
      };
    };
    child.stdout?.on('data', collect(out, 'output'));
    child.stderr?.on('data', collect(err, 'error output'));
    child.on('error', (error) => {
      failure ??= { message: `could not run git: ${error.message}`, cause: error };
      settle(undefined);
    });
    child.on('close', (code, signal) => {
      if (code === null) failure ??= { message: `git was killed by ${signal ?? 'a signal'}` };
      settle(code ?? undefined);
    });
    if (child.stdin !== null) {
      // git may exit before reading all of it (an error): its exit code says so, not EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

/** Runs `git <args>` in `cwd` (argv, no shell). Throws a {@link GitError} on an exit code not in `okCodes`. */
export async function git(cwd: string, args: readonly string[], options: GitRunOptions = {}): Promise<GitResult> {
  const internal = options.internal ?? true;
  const argv = internal ? [...INTERNAL_CONFIG, ...args] : [...args];
  const env = { ...gitEnv(options.identity ?? (internal ? WEFT_IDENTITY : undefined)), ...options.env };
  let result: Ran;
  for (let attempt = 1; ; attempt++) {
    result = await runGit(cwd, argv, env, options.input);
    // Another git process (the user's, another weft) holds a lock this command needs: it failed
    // before changing anything, so wait a moment and run it again.
    if (result.exitCode === 0 || attempt > LOCK_RETRIES || !LOCK_BUSY.test(result.stderr)) break;
    await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
  }
  if (result.exitCode === undefined) {
    const failure = result.failure ?? { message: 'git ended without an exit code' };
    const said = [result.stderr, failure.message].filter((t) => t.trim() !== '').join('\n');
    throw new GitError(args, cwd, undefined, said, { cause: failure.cause });
  }
  const out: GitResult = { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  if (!(options.okCodes ?? [0]).includes(out.exitCode))
    throw new GitError(args, cwd, out.exitCode, out.stderr || out.stdout);
  return out;
}

/** `git <args>`'s stdout, trimmed. */
export async function gitText(cwd: string, args: readonly string[], options: GitRunOptions = {}): Promise<string> {
  return (await git(cwd, args, options)).stdout.trim();
}

/** Whether `git <args>` exits 0 (for yes/no questions like `merge-base --is-ancestor`). */
export async function gitTest(cwd: string, args: readonly string[], options: GitRunOptions = {}): Promise<boolean> {
  const r = await git(cwd, args, { ...options, okCodes: [0, 1] });
  return r.exitCode === 0;
}

/** Splits NUL- or newline-separated git output into its non-empty entries. */
export function lines(text: string): string[] {
  return text.split(/\0|\n/).filter((l) => l !== '');
}
