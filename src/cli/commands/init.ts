import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { count } from '../format.js';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { WeftError } from '../../core/errors.js';
import type { ExecutorCatalog } from '../../core/plan/compile.js';
import { catalogOf } from '../../executors/index.js';
import { parsePlanText } from '../../plan/load-plan.js';
import { readProjectFacts } from '../../plan/project-checks.js';
import { listTemplates, loadTemplate, renderTemplate, type TemplateInfo } from '../../plan/templates.js';
import { EXIT } from '../exit-codes.js';
import { wire } from '../wiring.js';

export interface InitCommandOptions {
  /** Template to start from; without it, the templates are listed. */
  readonly template?: string;
  /** Where to write the plan; `-` prints it. @default 'weft.yaml' */
  readonly output?: string;
  /** `--set name=value`: template variables (goal, flags for `when`, test-runner's shards). */
  readonly set?: Record<string, string>;
  /** Shell stand-ins instead of agents: the same graph, runnable without an API key. */
  readonly offline?: boolean;
  /** Overwrite an existing file. */
  readonly force?: boolean;
  readonly json?: boolean;
}

/** The agent CLIs the templates use; a build that does not register one yet still gets the plan, with a note. */
const AGENT_CLIS = ['claude', 'codex', 'gemini'] as const;
/** Where an installed weft keeps the plan JSON Schema, relative to the project. */
const INSTALLED_SCHEMA = join('node_modules', 'weft', 'schema', 'plan.schema.json');

/** `weft init`: lists the templates, or writes a plan from one. */
export function initCommand(opts: InitCommandOptions): number {
  if (opts.template === undefined) return printTemplates(listTemplates(), opts.json === true);
  const template = loadTemplate(opts.template);
  const output = opts.output ?? 'weft.yaml';
  const toStdout = output === '-';
  const path = resolve(output);
  if (!toStdout && existsSync(path) && opts.force !== true) {
    throw new WeftError('WEFT_USAGE', `${output} already exists`, {
      hint: 'pass --force to overwrite it, or -o to write another file',
    });
  }
  // The plan's tasks run in the plan file's folder, so that is the project the template looks at.
  const projectDir = toStdout ? process.cwd() : dirname(path);
  const schemaFile = join(projectDir, INSTALLED_SCHEMA);
  const rendered = renderTemplate(template, {
    offline: opts.offline === true,
    vars: opts.set ?? {},
    ...(template.readsProject ? { project: readProjectFacts(projectDir) } : {}),
    ...(existsSync(schemaFile) ? { schema: relative(projectDir, schemaFile) } : {}),
  });

  const { catalog, missing } = catalogFor(projectDir);
  // A .json plan must be JSON (the loader refuses YAML there): the template's plan as JSON, without its comments.
  const text =
    !toStdout && extname(output).toLowerCase() === '.json'
      ? `${JSON.stringify(parse(rendered.text), null, 2)}\n`
      : rendered.text;
  const compiled = parsePlanText(text, toStdout ? '<stdout>' : output, { executors: catalog });
  const used = new Set(compiled.graph.tasks.map((t) => t.executor));
  const absent = missing.filter((name) => used.has(name));
  const notes = [
    ...rendered.notes,
    ...(absent.length === 0
      ? []
      : [
          `this weft has no ${absent.join(', ')} executor${absent.length === 1 ? '' : 's'} yet: \`weft validate\` rejects those tasks until it has (--offline runs the graph now)`,
        ]),
  ];

  if (toStdout) {
    process.stdout.write(rendered.text);
    for (const note of notes) process.stderr.write(`weft: note: ${note}\n`);
    return EXIT.ok;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  const tasks = compiled.graph.tasks.length;
  if (opts.json === true) {
    process.stdout.write(
      `${JSON.stringify({ file: output, template: template.name, offline: opts.offline === true, tasks, vars: compiled.vars, notes })}\n`,
    );
    return EXIT.ok;
  }
  const lines = [
    `wrote ${output}: template ${template.name}, ${count(tasks, 'task')}${opts.offline === true ? ', offline stand-ins' : ''}`,
    ...notes.map((n) => `  ${n}`),
    `next: weft estimate ${output}, then weft run ${output}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

function printTemplates(templates: readonly TemplateInfo[], json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify({ templates })}\n`);
    return EXIT.ok;
  }
  const width = Math.max(...templates.map((t) => t.name.length)) + 2;
  const lines = ['Templates — weft init --template <name> [-o weft.yaml] [--set name=value] [--offline] [--force]'];
  for (const t of templates) {
    lines.push(`  ${t.name.padEnd(width)}${t.description}`);
    const vars = Object.entries(t.vars).map(([name, value]) =>
      typeof value === 'string' ? `${name}="…"` : `${name}=${value}`,
    );
    if (vars.length > 0) lines.push(`  ${''.padEnd(width)}--set ${vars.join(', ')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/** The executors this project has, plus the agent CLIs templates name, so the graph is checked either way. */
function catalogFor(projectDir: string): { catalog: ExecutorCatalog; missing: string[] } {
  const catalog = new Map(catalogOf(wire(projectDir, { newFolder: true }).executors));
  const missing = AGENT_CLIS.filter((name) => !catalog.has(name));
  for (const name of missing) catalog.set(name, { requires: 'prompt' });
  return { catalog, missing };
}
