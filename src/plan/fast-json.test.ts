import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PlanIssue, PlanValidationError } from '../core/errors.js';
import { catalogOf, defaultExecutors } from '../executors/index.js';
import { hasDuplicateKeyOrDepth, jsonSyntaxError, parseJsonFast } from './fast-json.js';
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

describe('a file named .json must be JSON', () => {
  const at = (text: string) => {
    const bad = jsonSyntaxError(text);
    return bad === undefined
      ? undefined
      : { at: text.slice(bad.offset, bad.offset + 3), message: bad.message, fix: bad.fix };
  };

  it('says where and what the common slips are: a trailing comma, a comment, single quotes, bare words', () => {
    expect(at('{"tasks": [{"id": "a"},\n]}')).toEqual({
      at: ',\n]',
      message: 'a comma before "]": JSON allows no trailing comma',
      fix: 'remove the comma',
    });
    expect(at('{"a": 1 ,  }')).toMatchObject({
      at: ',  ',
      message: 'a comma before "}": JSON allows no trailing comma',
    });
    expect(at('{"a": 1 // one\n}')).toMatchObject({ at: '// ', message: 'a comment: JSON has none' });
    expect(at('{"a": 1, /* x */ "b": 2}')).toMatchObject({ at: '/* ', message: 'a comment: JSON has none' });
    expect(at("{'a': 1}")).toMatchObject({ at: "'a'", message: 'a string in single quotes: JSON needs double quotes' });
    expect(at('{"a": NaN}')).toMatchObject({ at: 'NaN', message: 'expected a value, found "NaN" without quotes' });
    expect(at('{tasks: []}')).toMatchObject({
      at: 'tas',
      message: 'expected a key in double quotes, found "tasks" without quotes',
    });
    expect(at('{"a": 01}')).toMatchObject({ at: '01}', message: 'not a JSON number' });
    expect(at('{"a": "x\ty"}')).toMatchObject({ message: 'a control character (a line break or tab) inside a string' });
    expect(at('{"a": "\\q"}')).toMatchObject({ message: 'a bad escape "\\q" in a string' });
    expect(at('{"a": "x}')).toMatchObject({ at: '"x}', message: 'a string that never ends (no closing ")' });
    expect(at('{"a": [1, 2}')).toMatchObject({ at: '}', message: 'expected "," or "]" after an item, found "}"' });
    expect(at('{"a": [1, 2]')).toMatchObject({
      at: '',
      message: 'the file ends inside an object',
      fix: 'close it with }',
    });
    expect(at('{"a": 1} x')).toMatchObject({ at: 'x', message: 'more text after the JSON value ended' });
    expect(at('  ')).toMatchObject({ message: 'the file is empty' });
    // YAML in a .json file: wrong from the start.
    expect(at('name: x\ntasks: []\n')).toEqual({
      at: 'nam',
      message: 'not JSON from its start: expected a value, found "name" without quotes',
      fix: 'write the plan as JSON, or name the file .yaml if it is YAML',
    });
    // A byte-order mark is let through (the YAML path reads such a file, as before).
    expect(jsonSyntaxError('\ufeff{"a": 1}')).toBeUndefined();
  });

  it('agrees with JSON.parse on any JSON, and on JSON with a character cut out, put in or changed', () => {
    const parses = (text: string): boolean => {
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    };
    const noise = fc.constantFrom(...',:{}[]"\\\' /*-+.0e1tnu \n\t\u0001x'.split(''));
    fc.assert(
      fc.property(fc.json(), fc.nat(), noise, fc.constantFrom('cut', 'put', 'change', 'none'), (json, k, c, how) => {
        const i = json.length === 0 ? 0 : k % json.length;
        const text =
          how === 'cut'
            ? json.slice(0, i) + json.slice(i + 1)
            : how === 'put'
              ? json.slice(0, i) + c + json.slice(i)
              : how === 'change'
                ? json.slice(0, i) + c + json.slice(i + 1)
                : json;
        expect(jsonSyntaxError(text) === undefined, text).toBe(parses(text));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(jsonSyntaxError(text) === undefined, text).toBe(parses(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a .json plan JSON.parse refuses, with its line and column; the same text is YAML in a .yaml file', () => {
    const text = '{\n  "tasks": [\n    {"id": "a", "run": "true"},\n  ]\n}\n';
    expect(fastIssues(text)).toEqual([
      {
        file: 'plan.json',
        line: 3,
        column: 31,
        message: 'bad JSON: a comma before "]": JSON allows no trailing comma',
        fix: 'remove the comma',
      },
    ]);
    expect(reportedIssues(text, 'plan.yaml', executors)).toEqual([]);
    expect(reportedIssues(text, 'PLAN.JSON', executors)).toHaveLength(1);
    // JSON the YAML path reads for its positions is still refused there, as JSON.
    expect(fastIssues('{"tasks": [{"id": "a", "run": "true"}], "tasks": []}')).toEqual([
      expect.objectContaining({ line: 1, column: 41, message: expect.stringMatching(/^bad JSON: .*unique/) as string }),
    ]);
  });
});
