import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in for the `claude` CLI, for plans whose tasks must be agents (isolated in a worktree
 * with no `writes`, like a real agent's): it answers `--version`, runs the shell command in the
 * task's env `FAKE_WORK` — or `FAKE_FIX` when weft resumes its session with a fix (`--resume`),
 * with the prompt it was given in `$PROMPT` — then prints a successful stream-json result.
 * Point `executors.claude.bin` in `weft.config.yaml` at the path it returns.
 */
export function fakeClaude(): string {
  const bin = join(mkdtempSync(join(tmpdir(), 'weft-fake-claude-')), 'claude');
  writeFileSync(
    bin,
    `#!/bin/sh
if [ "$1" = --version ]; then echo "9.9.9 (fake claude)"; exit 0; fi
for a; do PROMPT=$a; done
export PROMPT
case " $* " in *" --resume "*) sh -c "$FAKE_FIX" ;; *) sh -c "$FAKE_WORK" ;; esac || exit 1
echo '{"type":"system","subtype":"init","session_id":"fake-session"}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"fake-session"}'
`,
  );
  chmodSync(bin, 0o755);
  return bin;
}
