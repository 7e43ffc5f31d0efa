import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where one attempt leaves its traces: `<runDir>/tasks/<task>/<attempt>.stdout.log|stderr.log`
 * (what `weft logs` reads) and `<attempt>.pid` (the process group `weft resume` stops if weft died).
 */
export interface AttemptLogPaths {
  readonly dir: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly pid: string;
}

export function attemptLogPaths(runDir: string, taskId: string, attempt: number): AttemptLogPaths {
  const dir = join(runDir, 'tasks', taskId);
  return { dir, stdout: join(dir, `${attempt}.stdout.log`), stderr: join(dir, `${attempt}.stderr.log`), pid: join(dir, `${attempt}.pid`) };
}

/** The last `bytes` of a file as text, trailing whitespace trimmed; `''` when missing or empty. */
export async function tailFile(path: string, bytes: number): Promise<string> {
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size === 0) return '';
  const handle = await open(path, 'r');
  try {
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').trimEnd();
  } finally {
    await handle.close();
  }
}
