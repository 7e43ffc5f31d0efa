import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { z } from 'zod';
import { ConfigValidationError, PlanValidationError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import { describeZodIssue, valueAt, type RawIssue } from '../core/plan/schema-issues.js';
import { locateIssues, parseYamlDocument } from '../plan/load-plan.js';
import { ExecutorsSettingsSchema } from '../executors/index.js';
import { WorkspaceSchema, WorkspaceSetupSchema } from '../core/plan/workspace-schema.js';

const PriceSchema = z
  .object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cacheRead: z.number().nonnegative().optional(),
    cacheWrite: z.number().nonnegative().optional(),
  })
  .strict();

const DispatchSchema = z
  .object({
    redis: z.string().describe('redis://host:port[/db] of the queue the workers take tasks from.'),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .optional()
      .describe("Key prefix of the queues (the workers' `--prefix`). @default weft"),
    gitRemote: z
      .string()
      .optional()
      .describe(
        'A git remote (URL, or path of a bare repository) the coordinator and `weft worker --clone` workers share: tasks in worktrees travel through it, as `weft run --git-remote` does.',
      ),
  })
  .strict();

/** The executors that answer a prompt, so can plan: every configurable one. */
const PLANNERS = Object.keys(ExecutorsSettingsSchema.shape) as [string, ...string[]];

/** `weft.config.yaml` in the project folder: settings that belong to a machine or team, not a plan. */
export const ConfigSchema = z
  .object({
    database: z
      .string()
      .regex(/^(postgres(ql)?:\/\/\S+|sqlite:\S*|memory:)$/i, 'expected postgres://…, sqlite:<file> or memory:')
      .optional()
      .describe(
        'Journal store: a postgres:// URL shared by several machines, sqlite:<file>, or memory: (nothing kept); default SQLite in .weft/.',
      ),
    planner: z
      .enum(PLANNERS)
      .optional()
      .describe('Executor that writes plans from goals (an agent CLI or an LLM API; shell and fn cannot plan).'),
    dispatch: DispatchSchema.optional().describe(
      'Run tasks on remote workers (`weft worker`) through this Redis, as `weft run --dispatch` does.',
    ),
    pricing: z
      .record(z.string(), PriceSchema)
      .optional()
      .describe('USD per million tokens by model-id prefix, overriding the built-in table.'),
    executors: ExecutorsSettingsSchema.optional(),
    workspace: WorkspaceSchema.optional().describe(
      "How worktrees are made ready (a shared set-up, files to copy in); a plan's own `workspace` wins.",
    ),
  })
  .strict();

/** The settings in `weft.config.yaml`, validated. */
export type WeftConfig = z.infer<typeof ConfigSchema>;

/** The JSON Schema of `weft.config.yaml`, generated from {@link ConfigSchema} (`weft schema --config`). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://weft.dev/schema/config.json', title: 'weft config (weft.config.yaml)' };
}

/** The config file's name, in the project folder. */
export const CONFIG_FILE = 'weft.config.yaml';

/** Fields a mapping at `path` of the config may have, for "did you mean". */
function knownFieldsAt(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return Object.keys(ConfigSchema.shape);
  if (path[0] === 'executors' && path.length === 1) return Object.keys(ExecutorsSettingsSchema.shape);
  if (path[0] === 'executors' && path.length === 2) {
    const entries: Readonly<Record<PropertyKey, z.ZodOptional | undefined>> = ExecutorsSettingsSchema.shape;
    const settings = entries[path[1] as PropertyKey]?.unwrap();
    return settings instanceof z.ZodObject ? Object.keys(settings.shape) : [];
  }
  if (path[0] === 'dispatch' && path.length === 1) return Object.keys(DispatchSchema.shape);
  if (path[0] === 'pricing' && path.length === 2) return Object.keys(PriceSchema.shape);
  if (path[0] === 'workspace' && path.length === 1) return Object.keys(WorkspaceSchema.shape);
  if (path[0] === 'workspace' && path[1] === 'setup' && path.length === 2) {
    return Object.keys(WorkspaceSetupSchema.shape);
  }
  return [];
}

/** Every problem in the config, with where it is and how to fix it. */
function configIssues(error: z.ZodError, raw: unknown): RawIssue[] {
  return error.issues.flatMap((issue): RawIssue[] => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownFieldsAt(path);
      return issue.keys.map((key) => {
        const hint = closest(key, known);
        return {
          path: [...path, key],
          field: [...path, key].join('.'),
          message: `unknown field "${key}"`,
          fix: hint === undefined ? `remove it (known fields: ${known.join(', ')})` : `did you mean "${hint}"?`,
        };
      });
    }
    const given = valueAt(raw, path);
    const near =
      issue.code === 'invalid_value' && typeof given === 'string'
        ? closest(given, issue.values.map(String))
        : undefined;
    return [
      {
        path,
        field: path.join('.') || '(top)',
        message: describeZodIssue(issue, raw, path),
        fix:
          near === undefined
            ? 'see `weft schema --config`, or "What to configure" in the README'
            : `did you mean "${near}"?`,
      },
    ];
  });
}

/** The YAML of the config file; a syntax error is the config's problem, not a plan's. */
function parseConfigYaml(text: string, shown: string): ReturnType<typeof parseYamlDocument> {
  try {
    return parseYamlDocument(text, shown);
  } catch (error) {
    if (error instanceof PlanValidationError) throw new ConfigValidationError(error.issues, { cause: error });
    throw error;
  }
}

/** The config file's text; a folder of that name or a file weft may not read is one line, not a crash. */
function readConfigText(file: string, shown: string): string {
  const refuse = (message: string, fix: string, cause?: unknown): never => {
    throw new ConfigValidationError([{ file: shown, message, fix }], { cause });
  };
  if (!statSync(file).isFile())
    refuse('not a regular file (a folder?)', `make ${CONFIG_FILE} a YAML file, or remove it for the defaults`);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    return refuse(
      `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      'let this user read it (chmod u+r), or remove it for the defaults',
      error,
    );
  }
}

/** `weft.config.yaml` in `projectDir`, validated; every problem comes back at once, one line each with its position. */
export function loadConfig(projectDir: string): WeftConfig {
  const file = join(projectDir, CONFIG_FILE);
  if (!existsSync(file)) return {};
  // Named from where weft was started (`-C app` from above it: app/weft.config.yaml), so a terminal or editor finds it.
  const near = relative(process.cwd(), file);
  const shown = near.startsWith('..') || isAbsolute(near) ? file : near;
  const { doc, lines, raw } = parseConfigYaml(readConfigText(file, shown), shown);
  const parsed = ConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ConfigValidationError(locateIssues(configIssues(parsed.error, raw), doc, lines, shown));
  }
  return parsed.data;
}
