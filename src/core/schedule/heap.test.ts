import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexHeap } from './heap.js';

describe('IndexHeap', () => {
  it('pops in sorted order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 200 }), (values) => {
        const heap = new IndexHeap((a, b) => a < b);
        for (const v of values) heap.push(v);
        expect(heap.size).toBe(values.length);
        const out: number[] = [];
        while (heap.size > 0) out.push(heap.pop() as number);
        expect(out).toEqual([...values].sort((a, b) => a - b));
        expect(heap.pop()).toBeUndefined();
      }),
    );
  });

  it('follows a comparator over task keys, as the ready queue does', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 100 }), (rank) => {
        // Highest rank first, then the lower index.
        const heap = new IndexHeap(
          (a, b) => (rank[a] as number) > (rank[b] as number) || (rank[a] === rank[b] && a < b),
        );
        rank.forEach((_, i) => heap.push(i));
        const out: number[] = [];
        while (heap.size > 0) out.push(heap.pop() as number);
        expect(out).toEqual(rank.map((_, i) => i).sort((a, b) => (rank[b] as number) - (rank[a] as number) || a - b));
      }),
    );
  });

  it('behaves like a sorted list under any mix of push, pop and peek', () => {
    const op = fc.oneof(
      fc.integer({ min: 0, max: 30 }).map((v) => ({ push: v })),
      fc.constant({ pop: true as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const heap = new IndexHeap((a, b) => a < b);
        const model: number[] = [];
        for (const o of ops) {
          if ('push' in o) {
            heap.push(o.push);
            model.push(o.push);
            model.sort((a, b) => a - b);
          } else {
            expect(heap.peek()).toBe(model[0]);
            expect(heap.pop()).toBe(model.shift());
          }
          expect(heap.size).toBe(model.length);
          expect([...heap.toArray()].sort((a, b) => a - b)).toEqual(model);
        }
      }),
    );
  });
});
