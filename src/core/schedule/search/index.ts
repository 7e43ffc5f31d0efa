/**
 * Schedule search: finds the dispatch order (and, where it pays, planned idle time) that a run follows.
 * Everything outside this folder reaches the search through this file only.
 */
export { searchOrder, defaultIterations, criticalPathScore, DEFAULT_MAX_SEARCH_TASKS } from './order-search.js';
export type { SearchOptions, SearchResult } from './order-search.js';
export { makespanLowerBound } from './makespan-lower-bound.js';
export { seededRandom } from './random.js';
