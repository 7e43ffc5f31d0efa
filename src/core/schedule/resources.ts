import type { Graph } from '../plan/graph.js';

/**
 * What tasks hold while they run besides a worker: units of named pools, and write-scope locks
 * (a running task locks every task whose `writes` overlap its own). Index loops: most tasks use no
 * pool and lock nothing, and these run for every start and end.
 */
export class Resources {
  /** Per task: how many running tasks conflict with it. */
  private readonly lockedBy: Int32Array;
  private readonly free: Int32Array;
  private readonly capacity: Int32Array;

  constructor(private readonly graph: Graph) {
    this.lockedBy = new Int32Array(graph.tasks.length);
    this.free = Int32Array.from(graph.pools.map((p) => p.capacity));
    this.capacity = Int32Array.from(graph.pools.map((p) => p.capacity));
  }

  /** Whether `task` could start now: no conflicting task runs, and its pools have the units. */
  fits(task: number): boolean {
    if ((this.lockedBy[task] as number) > 0) return false;
    const uses = this.graph.uses[task];
    if (uses !== undefined) {
      for (let k = 0; k < uses.length; k++) {
        const [p, units] = uses[k] as readonly [number, number];
        if ((this.free[p] as number) < units) return false;
      }
    }
    return true;
  }

  /** Takes (`1`) or gives back (`-1`) what `task` holds while it runs. */
  acquire(task: number, sign: 1 | -1): void {
    const uses = this.graph.uses[task];
    if (uses !== undefined) {
      for (let k = 0; k < uses.length; k++) {
        const [p, units] = uses[k] as readonly [number, number];
        this.free[p] = (this.free[p] as number) - sign * units;
      }
    }
    const conflicts = this.graph.conflicts[task];
    if (conflicts !== undefined)
      for (let k = 0; k < conflicts.length; k++)
        this.lockedBy[conflicts[k] as number] = (this.lockedBy[conflicts[k] as number] as number) + sign;
  }

  /** Pool `p`'s capacity (by index). */
  capacityAt(p: number): number | undefined {
    return this.capacity[p];
  }

  /** How many pools there are. */
  get pools(): number {
    return this.capacity.length;
  }

  /**
   * Sets pool `p`'s capacity; units already held stay held. Returns whether it changed.
   */
  setCapacityAt(p: number, capacity: number): boolean {
    const current = this.capacity[p] as number;
    this.capacity[p] = capacity;
    this.free[p] = (this.free[p] as number) + capacity - current;
    return capacity !== current;
  }
}
