/**
 * The `executors:` section of `weft.config.yaml`, written once: the config loader validates the
 * file with these schemas, `weft schema --config` prints them as JSON Schema, and the executors'
 * option types (`AgentExecutorOptions`, `LlmExecutorOptions`) extend the types inferred from them,
 * so a field added here is accepted in the file, described in the schema and typed in the options.
 */
import { z } from 'zod';
import { PERMISSION_MODES } from '../core/plan/plan-schema.js';

const baseUrl = z.string().url();
const apiKeyEnv = z.string().min(1);
const model = z.string().min(1);

/** `executors.claude|codex|gemini`: settings of an agent CLI executor. */
export const AgentSettingsSchema = z
  .object({
    bin: z
      .string()
      .min(1)
      .optional()
      .describe('The CLI binary: a name on PATH or a path. Default: claude, codex, gemini.'),
    model: model.optional().describe("Model when the task names none. Default: the CLI's own."),
    args: z.array(z.string()).optional().describe('Extra CLI arguments, added before the prompt.'),
    permissionMode: z
      .enum(PERMISSION_MODES)
      .optional()
      .describe('Permission mode when the task names none (e.g. acceptEdits). Default: edit files in the workspace.'),
    baseUrl: baseUrl
      .optional()
      .describe(
        'API base URL, for proxies and compatible servers (Claude, Gemini: the host; Codex: the API root with /v1).',
      ),
    apiKeyEnv: apiKeyEnv
      .optional()
      .describe("Name of the environment variable holding the API key, when not the CLI's own (never the key itself)."),
  })
  .strict();

/** `executors.anthropic|openai`: settings of an LLM API executor. */
export const LlmSettingsSchema = z
  .object({
    baseUrl: baseUrl
      .optional()
      .describe("API base URL, e.g. http://localhost:11434/v1 for Ollama. Default: the provider's."),
    apiKeyEnv: apiKeyEnv
      .optional()
      .describe(
        'Name of the environment variable holding the API key (never the key itself). ' +
          'Default: ANTHROPIC_API_KEY / OPENAI_API_KEY.',
      ),
    model: model.optional().describe('Model when the task names none.'),
  })
  .strict();

/** The whole `executors:` section: one entry per configurable executor (shell and fn take none). */
export const ExecutorsSettingsSchema = z
  .object({
    claude: AgentSettingsSchema.optional(),
    codex: AgentSettingsSchema.optional(),
    gemini: AgentSettingsSchema.optional(),
    anthropic: LlmSettingsSchema.optional(),
    openai: LlmSettingsSchema.optional(),
  })
  .strict()
  .describe('Settings per executor; API keys stay in the environment (apiKeyEnv names the variable).');

/** Settings of an agent CLI executor, as `weft.config.yaml` gives them. */
export type AgentSettings = z.infer<typeof AgentSettingsSchema>;
/** Settings of an LLM API executor, as `weft.config.yaml` gives them. */
export type LlmSettings = z.infer<typeof LlmSettingsSchema>;
/** The `executors:` section of `weft.config.yaml`. */
export type ExecutorsSettings = z.infer<typeof ExecutorsSettingsSchema>;
