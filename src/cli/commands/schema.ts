import { writeFileSync } from 'node:fs';
import { planJsonSchema } from '../../core/plan/plan-schema.js';
import { configJsonSchema } from '../config.js';
import { EXIT } from '../exit-codes.js';
import { WeftError } from '../../core/errors.js';

/** `weft schema [--config] [-o file]`: the JSON Schema of plan files, or of `weft.config.yaml` with `--config`. */
export function schemaCommand(opts: { output?: string; config?: boolean }): number {
  const schema = opts.config === true ? configJsonSchema() : planJsonSchema();
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (opts.output === undefined) process.stdout.write(text);
  else {
    try {
      writeFileSync(opts.output, text);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new WeftError('WEFT_USAGE', `cannot write the schema to ${opts.output}: ${why}`, {
        cause: error,
        hint: 'pass -o a path in a folder that exists and you can write to',
      });
    }
  }
  return EXIT.ok;
}
