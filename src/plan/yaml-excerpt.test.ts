import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { PlanIssue } from '../core/errors.js';
import { catalogOf, defaultExecutors } from '../executors/index.js';
import { parseYamlFast } from './fast-yaml.js';
import { reportedIssues, wholeFileIssues } from './testing/plan-issues.js';
import { excerptAround, yamlExcerpt } from './yaml-excerpt.js';

const executors = catalogOf(defaultExecutors());
const read = (text: string): unknown => parseYamlFast(text, 100);

const reported = (text: string): readonly PlanIssue[] => reportedIssues(text, 'plan.yaml', executors);
const wholeFile = (text: string): readonly PlanIssue[] => wholeFileIssues(text, 'plan.yaml', executors);

/** Task `i` of a plan of `n`; `bad` decides which field of it is wrong, if any. */
function task(i: number, bad: number | undefined): Record<string, unknown> {
  const t: Record<string, unknown> = { id: `t${i}`, run: `echo ${i}`, needs: i === 0 ? [] : [`t${i - 1}`] };
  if (bad === 0) t.colour = 'red';
  if (bad === 1) t.needs = ['nope'];
  if (bad === 2) t.estimate = 'soon';
  if (bad === 3) t.retries = -1;
  if (bad === 4) t.run = 7;
  if (bad === 5) t.id = 't0';
  return t;
}

/** A plan of `n` tasks, those in `bad` broken, rendered as YAML in one of several layouts. */
function planText(n: number, bad: ReadonlyMap<number, number>, layout: number, topBad: boolean): string {
  const tasks = Array.from({ length: n }, (_, i) => task(i, bad.get(i)));
  const plan = { name: 'p', workers: topBad ? 0 : 2, tasks, defaults: { retries: 1 } };
  if (layout === 0) return stringify(plan);
  if (layout === 1) return stringify(plan, { indentSeq: false }); // tasks:\n- id: …
  if (layout === 2) return stringify(plan, { indent: 4, lineWidth: 20 }); // long strings folded over lines
  if (layout === 3) {
    // Comments and blank lines between and inside items, at every indentation, and CRLF.
    const lines = stringify(plan).split('\n');
    return lines.map((l, k) => (k % 3 === 0 ? `${l}\n\n# note ${k}\n  # indented ${k}` : l)).join('\r\n');
  }
  // Flow items, one a line; `tasks` last.
  const items = tasks.map((t) => `  - ${JSON.stringify(t)}`).join('\n');
  return `name: p\nworkers: ${topBad ? 0 : 2}\ndefaults: {retries: 1}\ntasks:\n${items}\n`;
}

describe('issues in a YAML plan read by the fast path', () => {
  it('are reported at the line and column the whole file gives, in every layout', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.nat(11), fc.nat(5)), { maxLength: 4 }),
        fc.nat(4),
        fc.boolean(),
        (n, broken, layout, topBad) => {
          const bad = new Map(broken.filter(([i]) => i < n));
          const text = planText(n, bad, layout, topBad);
          const expected = wholeFile(text);
          expect(reported(text), text).toEqual(expected);
          // …found in an excerpt, not by reading the whole file again.
          expect(yamlExcerpt(text, read(text), new Set(bad.keys()), read), text).toBeDefined();
        },
      ),
      { seed: 20261206, numRuns: 200 },
    );
  });

  it('cuts the file down to the tasks with issues, and maps its lines back', () => {
    const n = 1000;
    const text = planText(n, new Map([[765, 0]]), 0, false);
    const excerpt = yamlExcerpt(text, read(text), new Set([765]), read);
    expect(excerpt).toBeDefined();
    expect(excerpt?.text.length).toBeLessThan(200);
    expect(excerpt?.taskIndex.get(765)).toBe(0);
    const issue = reported(text)[0];
    expect(issue).toMatchObject({ task: 't765', column: 5 });
    expect(text.split('\n')[(issue?.line as number) - 1]).toBe('    colour: red');
  });

  it('reads the whole file when it cannot be cut: tasks in flow style, nested deeper, or a line that only looks like an item', () => {
    const flow = 'tasks: [{id: a, run: "true", colour: red}]\n';
    expect(yamlExcerpt(flow, read(flow), new Set([0]), read)).toBeUndefined();
    expect(reported(flow)).toEqual(wholeFile(flow));
    const indented = 'plan:\n  tasks:\n    - {id: a}\n';
    expect(yamlExcerpt(indented, { tasks: [] }, new Set(), read)).toBeUndefined();
    // A double-quoted string continued on a line that starts like an item: js-yaml reads it, the
    // cut would split the string, and the whole file's document reports what YAML 1.2 says of it.
    const tricky = 'tasks:\n- id: a\n  run: "echo one\n- two"\n  colour: red\n- id: b\n  run: "true"\n';
    expect(read(tricky)).toMatchObject({ tasks: [{ run: 'echo one - two' }, { id: 'b' }] });
    expect(yamlExcerpt(tricky, read(tricky), new Set([0]), read)).toBeUndefined();
    expect(reported(tricky)).toEqual(wholeFile(tricky));
    expect(reported(tricky)[0]).toMatchObject({ line: 3, message: expect.stringMatching(/bad YAML/) as string });
  });
});

/** Ways to break one line of a task item. */
const BREAKS: readonly ((line: string) => string)[] = [
  (l) => ` ${l}`, // indented one more
  (l) => l.trimStart(), // not indented
  (l) => `${l}\n${l}`, // the key again
  (l) => l.replace(':', ''), // no colon
  (l) => l.replace('[', '[ [').replace('"', '"\''), // an unclosed bracket or quote
  (l) => l.replace(/^ +/, '\t'), // a tab
  (l) => `${l} ]`, // a stray bracket
];

describe('syntax errors in a large YAML plan', () => {
  it('are found in the excerpt of the task item where js-yaml stopped', () => {
    const lines = planText(50, new Map(), 0, false).split('\n');
    const at = lines.indexOf('  - id: t30') + 1; // the item's second line (1-based: +1)
    lines.splice(at, 0, lines[at] as string); // its first field twice
    const text = `# ${'x'.repeat(1024 * 1024)}\n${lines.join('\n')}`;
    let stopped: number | undefined;
    expect(parseYamlFast(text, 100, (line) => (stopped = line))).toBeUndefined();
    const excerpt = excerptAround(text, stopped as number);
    expect(excerpt).toMatchObject({ from: at + 1, to: at + 5 }); // id, run, run again, needs and its item
    expect(excerpt?.text.split('\n').length).toBeLessThan(20);
    expect(reported(text)).toEqual([
      expect.objectContaining({ line: at + 3, column: 5, message: 'bad YAML: Map keys must be unique' }),
    ]);
    expect(reported(text)).toEqual(wholeFile(text));
  });

  it('are reported as the whole file reports them, from an excerpt or from the whole file', () => {
    // Over 1 MB (a long comment first), the size from which an excerpt is tried.
    const padding = `# ${'x'.repeat(1024 * 1024)}\n`;
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }),
        fc.nat(),
        fc.nat(),
        fc.nat(BREAKS.length - 1),
        (n, at, field, how) => {
          const lines = planText(n, new Map(), 0, false).split('\n');
          const fields = lines.flatMap((l, k) => (/^ {4}\w/.test(l) ? [k] : []));
          const k = fields[(at + field) % fields.length] as number;
          lines[k] = (BREAKS[how] as (l: string) => string)(lines[k] as string);
          const text = padding + lines.join('\n');
          expect(reported(text), lines.join('\n')).toEqual(wholeFile(text));
        },
      ),
      { seed: 20261206, numRuns: 60 },
    );
  });

  it('in a JSON plan whose tasks take whole lines, likewise', () => {
    const name = 'x'.repeat(1024 * 1024); // over 1 MB
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }),
        fc.nat(),
        fc.nat(BREAKS.length - 1),
        fc.boolean(),
        (n, at, how, oneLine) => {
          const tasks = Array.from({ length: n }, (_, i) => task(i, undefined));
          const text = oneLine
            ? `{"name": "${name}", "workers": 2,\n"tasks": [\n${tasks.map((t) => `  ${JSON.stringify(t)}`).join(',\n')}\n]}\n`
            : JSON.stringify({ name, workers: 2, tasks, defaults: { retries: 1 } }, null, 2);
          const lines = text.split('\n');
          const fields = lines.flatMap((l, k) => (/^\s+(\{"id"|"id"|"run"|"needs")/.test(l) ? [k] : []));
          const k = fields[at % fields.length] as number;
          lines[k] = (BREAKS[how] as (l: string) => string)(lines[k] as string);
          const broken = lines.join('\n');
          expect(reported(broken), broken.replace(name, 'x…')).toEqual(wholeFile(broken));
        },
      ),
      { seed: 20261206, numRuns: 25 },
    );
    // A key twice in a task: reported from the excerpt of that task, at the line the whole file gives.
    const text = JSON.stringify({ name, tasks: Array.from({ length: 40 }, (_, i) => task(i, undefined)) }, null, 2);
    const twice = text.replace('"run": "echo 30",', '"run": "echo 30",\n      "run": "again",');
    let stopped: number | undefined;
    expect(parseYamlFast(twice, 100, (line) => (stopped = line))).toBeUndefined();
    expect(excerptAround(twice, stopped as number)?.text.split('\n').length).toBeLessThan(20);
    expect(reported(twice)).toEqual(wholeFile(twice));
    expect(reported(twice)).toEqual([expect.objectContaining({ message: 'bad YAML: Map keys must be unique' })]);
  });
});
