// One `weft worker` for the dispatch bench: the built RedisWorker with an in-worker no-op executor
// named `fn`, so the figures are BullMQ and weft's dispatch path, not process spawning.
// Usage: node bench/dispatch-worker.mjs <built dist folder> <redis url> <prefix> <concurrency> <work dir>
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [dist, url, prefix, concurrency, workDir] = process.argv.slice(2);
const { RedisWorker } = await import(pathToFileURL(join(dist, 'dispatch', 'index.js')).href);
const noop = { name: 'fn', version: '1', info: { requires: 'fn' }, run: () => ({ ok: true, result: {} }) };
const worker = await RedisWorker.start({
  url,
  prefix,
  executors: new Map([['fn', noop]]),
  concurrency: Number(concurrency),
  workDir,
  lockMs: 30_000,
});
process.stdout.write('ready\n');
// The bench asks for this process's CPU time (µs) before and after a measured run.
process.on('message', () => {
  const { user, system } = process.cpuUsage();
  process.send?.(user + system);
});
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
