import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A sortable, unique run id: `20261121-143000-a1b2`. */
export function newRunId(now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export function weftDir(projectDir: string): string {
  return join(projectDir, '.weft');
}

export function runDirOf(projectDir: string, runId: string): string {
  if (!/^[\w.-]+$/.test(runId) || runId.includes('..')) throw new Error(`bad run id "${runId}"`);
  return join(weftDir(projectDir), 'runs', runId);
}

export function createRunDir(projectDir: string, runId: string): string {
  const dir = runDirOf(projectDir, runId);
  mkdirSync(join(dir, 'tasks'), { recursive: true });
  return dir;
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
