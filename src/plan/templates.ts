import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, Pair, parseDocument, Scalar, visit, type Document, type YAMLMap } from 'yaml';
import { parseDuration } from '../core/plan/duration.js';
import { typedValue, wrongFlagValue } from '../core/plan/overridden-vars.js';
import { WeftError } from '../core/errors.js';
import { PlanSchema, type PlanSpec, type TaskSpec } from '../core/plan/plan-schema.js';
import { closest } from '../core/suggest.js';
import { CHECK_SCRIPTS, checkTasks, type ProjectFacts } from './project-checks.js';
import { offlineRoles, roleSteps, type OfflineRoles } from './offline-roles.js';

/** Where weft's templates live: `templates/` at the package root, beside `src/` and `dist/`. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

export type TemplateValue = string | number | boolean;

export interface TemplateInfo {
  readonly name: string;
  /** One line: what the template is for (the plan's `description`). */
  readonly description: string;
  /**
   * What `--set name=value` accepts, with the defaults: the plan's `vars` (for `when` conditions),
   * the `{{name}}` placeholders in its prompts (declared under `vars` too), and parameters of the
   * template's generator (test-runner: `shards`).
   */
  readonly vars: Readonly<Record<string, TemplateValue>>;
}

export interface Template extends TemplateInfo {
  readonly file: string;
  readonly text: string;
  /** Rendering reads the project folder (test-runner: its package.json), see {@link RenderOptions.project}. */
  readonly readsProject: boolean;
}

export interface RenderOptions {
  /**
   * Replace every task's work with a shell stand-in — a short sleep that writes the task's
   * `outputs` — keeping the graph (ids, needs, after, when, writes, estimates): runs without an API key.
   * @default false
   */
  readonly offline?: boolean;
  /** `--set` values, typed by the template's defaults (`security=false` is a boolean). */
  readonly vars?: Readonly<Record<string, string>>;
  /** The project the plan is for; the test-runner template writes a task per check it has. */
  readonly project?: ProjectFacts;
  /** `$schema` to write for editor completion; without it the template's is removed. */
  readonly schema?: string;
}

export interface RenderedPlan {
  /** The plan file: the template's comments kept, placeholders filled in. */
  readonly text: string;
  readonly spec: PlanSpec;
  /** Things the user should know about what was written, one line each. */
  readonly notes: readonly string[];
}

/** Templates whose tasks are generated from the project rather than written in the file. */
interface Generator {
  readonly params: Readonly<Record<string, TemplateValue>>;
  generate(
    project: ProjectFacts,
    params: Readonly<Record<string, TemplateValue>>,
  ): { tasks: TaskSpec[]; comment: string; notes: string[] };
}

const GENERATORS: Readonly<Record<string, Generator>> = {
  'test-runner': {
    params: { shards: 3 },
    generate(project, params) {
      const detected = checkTasks(project, { shards: Number(params.shards) });
      if (detected === undefined) {
        const why =
          project.scripts === undefined
            ? 'no package.json here'
            : `no check scripts in package.json (looked for ${CHECK_SCRIPTS.join(', ')})`;
        return { tasks: [], comment: '', notes: [`${why}: wrote the generic checks — edit their commands`] };
      }
      return {
        tasks: detected.tasks,
        comment: [' Detected in this project:', ...detected.found.map((f) => `   ${f}`)].join('\n'),
        notes: detected.found.map((f) => `detected ${f}`),
      };
    },
  },
};

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g;
/** Task fields only agents and LLMs read; a shell stand-in drops them. */
const AGENT_FIELDS = [
  'executor',
  'prompt',
  'model',
  'maxTurns',
  'permissionMode',
  'allowedTools',
  'outputSchema',
] as const;

/** The templates in `dir`, by name. */
export function listTemplates(dir: string = TEMPLATES_DIR): TemplateInfo[] {
  return templateNames(dir).map((name) => {
    const { description, vars } = loadTemplate(name, dir);
    return { name, description, vars };
  });
}

/**
 * Reads one template. An unknown name is a usage error that suggests the closest one.
 *
 * @example
 * const rendered = renderTemplate(loadTemplate('fullstack-feature'), { vars: { goal: 'CSV export' } });
 */
export function loadTemplate(name: string, dir: string = TEMPLATES_DIR): Template {
  const names = templateNames(dir);
  const wanted = name.replace(/\.ya?ml$/, '');
  if (!NAME.test(wanted) || !names.includes(wanted)) {
    const hint = closest(wanted, names) ?? uniqueMatch(wanted, names);
    throw new WeftError('WEFT_USAGE', `unknown template "${name}"`, {
      hint: `${hint === undefined ? '' : `did you mean "${hint}"? `}templates: ${names.join(', ')} (\`weft init\` describes them)`,
    });
  }
  const file = join(dir, `${wanted}.yaml`);
  const text = readFileSync(file, 'utf8');
  const spec = parseTemplate(text, file);
  const generator = GENERATORS[wanted];
  return {
    name: wanted,
    file,
    text,
    description: spec.description ?? '',
    vars: { ...spec.vars, ...generator?.params },
    readsProject: generator !== undefined,
  };
}

/**
 * Turns a template into a plan file: `--set` values applied, `{{name}}` placeholders filled in
 * (and dropped from `vars` when no condition reads them), generated tasks written, and with
 * `offline` every task's work replaced by a shell stand-in.
 */
export function renderTemplate(template: Template, options: RenderOptions = {}): RenderedPlan {
  const doc = parseDocument(template.text);
  liftHeader(doc);
  const values = resolveValues(template, options.vars ?? {});
  const notes: string[] = [];

  const generator = GENERATORS[template.name];
  if (generator !== undefined && options.project !== undefined) {
    const generated = generator.generate(options.project, values);
    notes.push(...generated.notes);
    if (generated.tasks.length > 0) {
      const node = doc.createNode(generated.tasks);
      for (const item of node.items) if (isMap(item)) item.flow = true;
      doc.set('tasks', node);
      const key = topKey(doc, 'tasks');
      if (key !== undefined) key.commentBefore = generated.comment;
    }
  }

  const used = placeholders(doc);
  const written = (doc.toJS() as PlanSpec).tasks ?? [];
  const conditions = written.map((t) => (typeof t.when === 'string' ? t.when : '')).join('\n');
  const commands = written.map((t) => (typeof t.run === 'string' ? t.run : '')).join('\n');
  for (const name of used)
    if (!(name in values))
      throw new WeftError(
        'WEFT_INTERNAL',
        `template ${template.name}: placeholder {{${name}}} has no value under vars`,
      );
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'string')
        node.value = node.value.replace(PLACEHOLDER, (_m, name: string) => String(values[name]));
    },
  });
  const textOnlyNames: string[] = [];
  for (const name of Object.keys(template.vars)) {
    const textOnly = used.has(name) && !new RegExp(`vars\\.${name}(?![\\w-])`).test(conditions);
    if (generator?.params[name] !== undefined || textOnly) {
      if (doc.hasIn(['vars', name])) doc.deleteIn(['vars', name]);
    } else doc.setIn(['vars', name], values[name]);
    if (textOnly) textOnlyNames.push(name);
    if (textOnly && options.offline !== true && options.vars?.[name] === undefined)
      notes.push(
        `the ${commands.includes(`{{${name}}}`) ? 'commands' : 'prompts'} say ${name} = "${String(values[name])}"; set your own with --set ${name}="…"`,
      );
  }
  const vars = doc.get('vars');
  if (isMap(vars) && vars.items.length === 0) doc.delete('vars');

  if (options.offline === true) makeOffline(doc);
  if (options.schema === undefined) doc.delete('$schema');
  else doc.set('$schema', options.schema);

  const text = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  // A value only the replaced commands and prompts held would vanish without a word (comments do not count).
  const content = JSON.stringify(doc.toJS());
  for (const name of textOnlyNames)
    if (options.offline === true && options.vars?.[name] !== undefined && !content.includes(String(values[name])))
      notes.push(
        `--offline: the stand-ins replace the commands and prompts, so ${name} = "${String(values[name])}" is not used; drop --offline to use it`,
      );
  const parsed = PlanSchema.safeParse(parseDocument(text).toJS());
  if (!parsed.success)
    throw new WeftError(
      'WEFT_INTERNAL',
      `template ${template.name} rendered an invalid plan: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    );
  return { text, spec: parsed.data, notes };
}

/**
 * The shell stand-in for a task: sleeps in proportion to its estimate (an hour → 0.1 s, between
 * 0.05 s and 0.2 s) and writes each of its `outputs`, so dependents find the files they expect.
 */
export function standIn(
  task: Pick<TaskSpec, 'id' | 'outputs' | 'estimate'>,
  roles?: OfflineRoles,
): { run: string; shell?: true } {
  const estimateMs = task.estimate === undefined ? undefined : parseDuration(task.estimate);
  const seconds = Math.min(0.2, Math.max(0.05, Math.round(((estimateMs ?? 0) / 36_000_000) * 100) / 100));
  const outputs = (task.outputs ?? []).filter((o) => !/[*?[\]{}]/.test(o));
  const role = roles === undefined ? [] : roleSteps(task.id, roles);
  if (outputs.length === 0 && role.length === 0) return { run: `sleep ${seconds}` };
  const dirs = [...new Set(outputs.map((o) => dirname(o)).filter((d) => d !== '.'))];
  const steps = [`sleep ${seconds}`, ...(dirs.length === 0 ? [] : [`mkdir -p ${dirs.map(quote).join(' ')}`])];
  for (const out of outputs) {
    const content = out.endsWith('.json')
      ? JSON.stringify({ standIn: task.id })
      : `offline stand-in written by task ${task.id}`;
    steps.push(`printf '%s\\n' ${quote(content)} > ${quote(out)}`);
  }
  // Each role step is a whole `if`/`for`: joined with `;`-free `&&`, a failing check ends the stand-in.
  return { run: [...steps, ...role.map((r) => `{ ${r}; }`)].join(' && '), shell: true };
}

function makeOffline(doc: Document): void {
  const defaults = doc.get('defaults');
  if (isMap(defaults)) for (const field of AGENT_FIELDS) defaults.delete(field);
  const tasks = doc.get('tasks');
  if (!isSeq(tasks)) return;
  const roles = offlineRoles(doc.toJS() as PlanSpec);
  for (const item of tasks.items) {
    if (!isMap(item)) continue;
    const spec = item.toJSON() as TaskSpec;
    if (spec.gate !== undefined) continue; // a gate runs nothing: it stays as it is
    const estimate = spec.estimate ?? (doc.getIn(['defaults', 'estimate']) as TaskSpec['estimate']);
    const replacement = standIn({ id: spec.id, outputs: spec.outputs, estimate }, roles);
    const at = firstIndex(item, ['executor', 'prompt', 'run']);
    // A loop's reviewer keeps its outputSchema: the conditions that read its output need it.
    for (const field of [...AGENT_FIELDS, 'run', 'shell'])
      if (field !== 'outputSchema' || !roles.reviewers.has(spec.id)) item.delete(field);
    const pairs = [
      new Pair(new Scalar('run'), new Scalar(replacement.run)),
      ...(replacement.shell === true ? [new Pair(new Scalar('shell'), new Scalar(true))] : []),
    ];
    item.items.splice(Math.min(at, item.items.length), 0, ...pairs);
  }
  const breaks = [
    ...[...roles.provides.keys()].map((id) => `${id} breaks its contract`),
    ...[...roles.breakers].map((id) => `${id} breaks its check`),
  ];
  let routed =
    breaks.length === 0
      ? ''
      : `\n To show weft routing failures back, on the first attempt ${breaks.join('; ')}.\n Each fixes it when given the failure (WEFT_FEEDBACK).`;
  if (roles.reviewers.size > 0)
    routed += `\n The loop's reviewers (${[...roles.reviewers.keys()].join(', ')}) object in iteration 1 and approve from\n iteration 2 on (WEFT_ITERATION), so the loop runs twice, passes, and what waits for it runs once.`;
  const header = ` Offline: every task below is a shell stand-in (weft init --offline) that sleeps a moment and\n writes its outputs — the same graph, runnable without an API key. Drop --offline for the real work.${routed}`;
  doc.commentBefore =
    doc.commentBefore === null || doc.commentBefore === undefined ? header : `${header}\n\n${doc.commentBefore}`;
}

/** Makes the comment above the first key the document's header, so it survives edits to that key. */
function liftHeader(doc: Document): void {
  const first = isMap(doc.contents) ? doc.contents.items[0]?.key : undefined;
  if (!isScalar(first) || first.commentBefore === null || first.commentBefore === undefined) return;
  doc.commentBefore =
    doc.commentBefore === null || doc.commentBefore === undefined
      ? first.commentBefore
      : `${doc.commentBefore}\n${first.commentBefore}`;
  first.commentBefore = undefined;
}

function resolveValues(template: Template, set: Readonly<Record<string, string>>): Record<string, TemplateValue> {
  const values: Record<string, TemplateValue> = { ...template.vars };
  for (const [name, raw] of Object.entries(set)) {
    const fallback = template.vars[name];
    if (fallback === undefined) {
      const known = Object.keys(template.vars);
      const hint = closest(name, known);
      throw new WeftError('WEFT_USAGE', `--set ${name}: template "${template.name}" has no variable "${name}"`, {
        hint:
          hint !== undefined
            ? `did you mean "${hint}"?`
            : known.length === 0
              ? 'this template takes no variables'
              : `its variables: ${known.join(', ')}`,
      });
    }
    values[name] = coerce(name, raw, fallback);
  }
  return values;
}

/** A `--set` value typed as `weft run` types it, so `--set security=yes` is refused by both. */
function coerce(name: string, raw: string, fallback: TemplateValue): TemplateValue {
  const typed = typedValue(raw, fallback);
  if (!('value' in typed)) {
    const { message, fix } = wrongFlagValue(name, raw, typed);
    throw new WeftError('WEFT_USAGE', message, { hint: fix });
  }
  if (typeof fallback !== 'string') return typed.value;
  // A blank text leaves a prompt saying "Feature: ." or a check with no command (`run: ""`, which no plan may have).
  if (raw.trim() === '')
    throw new WeftError('WEFT_USAGE', `--set ${name} expects some text, got "${raw}"`, {
      hint: `leave --set ${name} out for the template's own, or give one: --set ${name}="…"`,
    });
  return raw;
}

function placeholders(doc: Document): Set<string> {
  const names = new Set<string>();
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'string') for (const m of node.value.matchAll(PLACEHOLDER)) names.add(m[1] as string);
    },
  });
  return names;
}

function parseTemplate(text: string, file: string): PlanSpec {
  const doc = parseDocument(text);
  const parsed = doc.errors.length === 0 ? PlanSchema.safeParse(doc.toJS()) : undefined;
  if (parsed?.success !== true)
    throw new WeftError(
      'WEFT_INTERNAL',
      `${file}: not a valid plan${parsed === undefined ? `: ${doc.errors[0]?.message}` : `: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`}`,
    );
  return parsed.data;
}

function templateNames(dir: string): string[] {
  if (!existsSync(dir))
    throw new WeftError('WEFT_INTERNAL', `templates folder ${dir} is missing from this installation`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .filter((n) => NAME.test(n))
    .sort();
}

/** A name that contains the word (or is contained in it), when only one does: "fullstack" → "fullstack-feature". */
function uniqueMatch(word: string, names: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const hits = w.length < 3 ? [] : names.filter((n) => n.includes(w) || w.includes(n));
  return hits.length === 1 ? hits[0] : undefined;
}

function topKey(doc: Document, key: string): Scalar | undefined {
  if (!isMap(doc.contents)) return undefined;
  const pair = (doc.contents as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === key);
  return isScalar(pair?.key) ? pair.key : undefined;
}

function firstIndex(map: YAMLMap, keys: readonly string[]): number {
  const i = map.items.findIndex((p) => isScalar(p.key) && keys.includes(String(p.key.value)));
  return i < 0 ? map.items.length : i;
}

/** Single-quotes a word for /bin/sh. */
function quote(word: string): string {
  return /^[\w./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
