import { writeFileSync } from 'node:fs';
import { planJsonSchema } from '../../core/plan/plan-schema.js';
import { EXIT } from '../exit-codes.js';

export function schemaCommand(opts: { output?: string }): number {
  const text = `${JSON.stringify(planJsonSchema(), null, 2)}\n`;
  if (opts.output === undefined) process.stdout.write(text);
  else writeFileSync(opts.output, text);
  return EXIT.ok;
}
