import { describe, expect, it } from 'vitest';
import { ANSWERING_EXECUTORS } from '../core/plan/compile.js';
import { catalogOf, defaultExecutors } from './index.js';

describe('ANSWERING_EXECUTORS', () => {
  it('names exactly the built-in executors whose info says they only answer', () => {
    const answering = [...catalogOf(defaultExecutors())]
      .filter(([, info]) => info.answersOnly === true)
      .map(([n]) => n);
    expect(answering.sort()).toEqual([...ANSWERING_EXECUTORS].sort());
  });
});
