/** Remote dispatch on BullMQ: the coordinator's {@link RedisDispatcher} and the workers' {@link RedisWorker}. */
export { RedisDispatcher, type RedisDispatcherOptions, type TraceSource } from './redis-dispatcher.js';
export { RedisWorker, type RedisWorkerOptions, type AttemptTaken } from './redis-worker.js';
export { checkRedisUrl } from './redis-url.js';
export { jobIdOf, queueNameOf, requirementOf, type AttemptJob, type CloneSpec, type Requirement } from './job.js';
export { canRun, type WorkerAd } from './worker-ad.js';
export type { CloneWorktree, CloneWorktrees, WorktreeSender } from './clone-mode.js';
