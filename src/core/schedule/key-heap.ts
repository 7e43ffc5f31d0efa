/*
 * A binary heap of task indices in an Int32Array, best first: larger `key`, then lower index. The
 * order search's hot loops use it (list-simulator, delay-search); it takes the key array rather
 * than a comparator closure, which keeps the calls monomorphic (a closure was ~2x slower there).
 * The caller owns the array and its size.
 */

/** Whether task `a` goes before task `b`. */
function before(key: ArrayLike<number>, a: number, b: number): boolean {
  const ka = key[a] as number;
  const kb = key[b] as number;
  return ka > kb || (ka === kb && a < b);
}

/** Adds `value` to the heap of `size` tasks; returns the new size. */
export function keyHeapPush(heap: Int32Array, size: number, value: number, key: ArrayLike<number>): number {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent] as number;
    if (!before(key, value, p)) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = value;
  return size + 1;
}

/** Removes the best task (read it from `heap[0]` first); returns the new size. */
export function keyHeapPop(heap: Int32Array, size: number, key: ArrayLike<number>): number {
  const n = size - 1;
  const last = heap[n] as number;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const child = l + 1 < n && before(key, heap[l + 1] as number, heap[l] as number) ? l + 1 : l;
    if (!before(key, heap[child] as number, last)) break;
    heap[i] = heap[child] as number;
    i = child;
  }
  heap[i] = last;
  return n;
}
