import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PlanIssue, PlanValidationError } from '../core/errors.js';
import { catalogOf, defaultExecutors } from '../executors/index.js';
import { hasDuplicateKeyOrDepth, parseJsonFast } from './fast-json.js';
import { parseYamlDocument } from './load-plan.js';
import { reportedIssues, wholeFileIssues } from './testing/plan-issues.js';

const executors = catalogOf(defaultExecutors());

/** The issues parsePlanText reports (JSON: the fast path), and the YAML parser's positions for them. */
const fastIssues = (text: string): readonly PlanIssue[] => reportedIssues(text, 'plan.json', executors);
const yamlIssues = (text: string): readonly PlanIssue[] => wholeFileIssues(text, 'plan.json', executors);

const BAD_PLANS: unknown[] = [
  { tasks: [{ id: 'a', run: 'true', colour: 'red' }] },
  { workers: 0, tasks: [{ id: 'a', run: 'true' }] },
  {
    tasks: [
      { id: 'a', run: 'true' },
      { id: 'a', run: 'true' },
    ],
  },
  {
    tasks: [
      { id: 'a', run: 'true', needs: ['b', 'zz'] },
      { id: 'b', run: 'true', needs: ['a'] },
    ],
  },
  { tasks: [{ id: 'a', executor: 'claude' }] },
  { tasks: [{ id: 'a', run: 'ls | wc', estimate: 'soon' }] },
  {
    tasks: [
      { id: 'a', run: ['x'], uses: { gpu: 1 } },
      { id: 'b/c', run: 7 },
    ],
  },
  { tasks: [{ id: 'a', run: 'true', when: 'vars.nope &&' }], vars: { 'k"ey': 1 } },
  { tasks: [] },
  { name: 'x', defaults: { retries: -1 }, tasks: [{ id: 'a\u00e9', run: 'true', env: { '': 'x' } }] },
];

describe('the JSON fast path', () => {
  it('reports every issue at the same line and column as the YAML parser', () => {
    for (const plan of BAD_PLANS)
      for (const text of [JSON.stringify(plan), JSON.stringify(plan, null, 2), JSON.stringify(plan, null, '\t')]) {
        const fast = fastIssues(text);
        expect(fast.length, text).toBeGreaterThan(0);
        expect(fast, text).toEqual(yamlIssues(text));
      }
  });

  it('leaves to the YAML parser what JSON.parse would read differently or not at all', () => {
    expect(parseJsonFast('{"tasks": [], "tasks": []}', 100)).toBeUndefined();
    expect(parseJsonFast('{"a": {"b": 1, "\\u0062": 2}}', 100)).toBeUndefined();
    expect(parseJsonFast('{"a": [', 100)).toBeUndefined();
    expect(parseJsonFast('tasks: []', 100)).toBeUndefined();
    expect(parseJsonFast(`{"a":${'['.repeat(5)}${']'.repeat(5)}}`, 3)).toBeUndefined();
    expect(parseJsonFast('{"a": ["{\\"", "a"], "b": {"a": 1}}', 100)).toEqual({ a: ['{"', 'a'], b: { a: 1 } });
    const dup = fastIssues('{"tasks": [{"id": "a", "run": "true", "id": "b"}]}');
    expect(dup[0]).toMatchObject({ line: 1, message: expect.stringMatching(/unique/) as string });
  });

  it('finds duplicate keys exactly where the YAML parser does, on any JSON', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'small' }), (text) => {
        if (!text.startsWith('{')) return;
        const yamlDup = /unique/.test(
          (() => {
            try {
              parseYamlDocument(text, 'x.json');
              return '';
            } catch (error) {
              return String((error as PlanValidationError).issues.map((i) => i.message));
            }
          })(),
        );
        expect(hasDuplicateKeyOrDepth(text, 1000)).toBe(yamlDup);
      }),
      { numRuns: 500 },
    );
  });
});
