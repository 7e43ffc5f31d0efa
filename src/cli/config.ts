import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { WeftError } from '../core/errors.js';

const PriceSchema = z.object({ input: z.number().nonnegative(), output: z.number().nonnegative(), cacheRead: z.number().nonnegative().optional(), cacheWrite: z.number().nonnegative().optional() }).strict();

const ExecutorConfigSchema = z
  .object({
    baseUrl: z.string().url().optional().describe('API base URL, e.g. http://localhost:11434/v1 for Ollama.'),
    apiKeyEnv: z.string().optional().describe('Name of the environment variable holding the API key (the key itself never goes in this file).'),
    model: z.string().optional(),
    bin: z.string().optional().describe('Path of the agent CLI binary.'),
    permissionMode: z.string().optional(),
    args: z.array(z.string()).optional().describe('Extra CLI arguments.'),
  })
  .strict();

/** `weft.config.yaml` in the project folder: settings that belong to a machine or team, not a plan. */
export const ConfigSchema = z
  .object({
    database: z.string().optional().describe('Journal store: a postgres:// URL shared by several machines; default SQLite in .weft/.'),
    planner: z.string().optional().describe('Executor that writes plans from goals.'),
    pricing: z.record(z.string(), PriceSchema).optional().describe('USD per million tokens by model-id prefix, overriding the built-in table.'),
    executors: z.record(z.string(), ExecutorConfigSchema).optional(),
  })
  .strict();

export type WeftConfig = z.infer<typeof ConfigSchema>;

export const CONFIG_FILE = 'weft.config.yaml';

export function loadConfig(projectDir: string): WeftConfig {
  const file = join(projectDir, CONFIG_FILE);
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new WeftError('WEFT_USAGE', `${CONFIG_FILE}: bad YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  const parsed = ConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WeftError('WEFT_USAGE', `${CONFIG_FILE} ${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid'}`, { hint: 'see the Configuration section of the README' });
  }
  return parsed.data;
}
