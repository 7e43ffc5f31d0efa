/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof` or {@link profiled}) and lists the functions
 * with the most self time, for explaining a missed target:
 *
 *   node --import tsx bench/cpu-profile.ts <file.cpuprofile> [top=25]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotFunction {
  /** `name (file:line)`, the file relative to the repository. */
  readonly fn: string;
  readonly selfMs: number;
  /** Share of the profile's sampled time. */
  readonly share: number;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function where(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const path = frame.url.startsWith('file://') ? relative(ROOT, fileURLToPath(frame.url)) : frame.url;
  return `${name} (${path.replace(/^node_modules\//, '~/')}:${frame.lineNumber + 1})`;
}

/**
 * Self time per function (merged over call sites), most first. Every sample counts the same: on
 * a loaded machine the sampler thread is sometimes late, and charging the whole gap to the one
 * sample after it (as `timeDeltas` would) puts seconds on whatever ran then.
 */
export function hotFunctions(profile: CpuProfile, top = 25): HotFunction[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (node !== undefined) self.set(where(node.callFrame), (self.get(where(node.callFrame)) ?? 0) + 1);
  }
  const samples = profile.samples.length;
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, samples);
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, n]) => ({ fn, selfMs: n * msPerSample, share: n / samples }));
}

export function formatHot(hot: readonly HotFunction[]): string {
  return hot
    .map((h) => `${h.selfMs.toFixed(0).padStart(7)} ms ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.fn}`)
    .join('\n');
}

/** Runs `work` under the V8 CPU profiler of this process and writes the profile to `file`. */
export async function profiled<T>(file: string, work: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: bench/cpu-profile.ts <file.cpuprofile> [top]');
  console.log(formatHot(hotFunctions(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top ?? 25))));
}
