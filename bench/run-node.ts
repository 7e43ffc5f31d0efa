import { spawn } from 'node:child_process';
import { ROOT } from './built.js';

/**
 * Runs a bench script in a fresh Node process (`node --import tsx <script> ...args`; without tsx
 * for plain JavaScript), so that its timings start from a cold JIT and its peak RSS is its own.
 * Resolves to its stdout; rejects with its stderr when it exits non-zero.
 */
export function runNode(
  script: string,
  args: readonly string[],
  options: {
    readonly nodeArgs?: readonly string[];
    readonly cwd?: string;
    /** @default true */ readonly tsx?: boolean;
  } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), ...(options.tsx === false ? [] : ['--import', 'tsx']), script, ...args],
      { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${script} ${args.join(' ')} exited ${code}:\n${stderr.trim()}`)),
    );
  });
}

/** The last line of a child's stdout, parsed as JSON. */
export function lastJsonLine<T>(stdout: string): T {
  const line = stdout.trimEnd().split('\n').at(-1);
  if (line === undefined || line === '') throw new Error('expected a JSON line on stdout, got nothing');
  return JSON.parse(line) as T;
}

/** The median of some numbers (the lower middle one for an even count). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
}

/** Formats a table: the first column left-aligned, the rest right-aligned. */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[], leftColumns = 1): string {
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, k) => (k < leftColumns ? c.padEnd(widths[k] ?? 0) : c.padStart(widths[k] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `12,345` */
export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
