import type { Node as YamlNode } from 'yaml';
import { SECRET_NAME } from '../core/redact.js';
import { yamlPackage } from '../plan/yaml-package.js';

/**
 * The values under secret-looking keys in a JSON or YAML text (`"api_key": "…"`, `db: { password: … }`),
 * every scalar below such a key (`credentials: { user: …, pass: … }`) too: as read, and as written in
 * the file (`"a\nb"` escaped, which is what a task that prints the file shows); a value of several
 * lines (a PEM key in a `|` block) whole and line by line. A text that does not parse holds what
 * could be read of it.
 *
 * @example
 * structuredSecrets('{"api_key": "sk-123456", "url": "http://x"}') // ['sk-123456']
 */
export function structuredSecrets(text: string): string[] {
  const { parseAllDocuments, isMap, isSeq, isScalar } = yamlPackage();
  const found: string[] = [];
  const take = (node: unknown, secret: boolean): void => {
    if (isMap(node))
      for (const { key, value } of node.items)
        take(value, secret || (isScalar(key) && SECRET_NAME.test(String(key.value))));
    else if (isSeq(node)) for (const item of node.items) take(item, secret);
    else if (secret && isScalar(node) && node.value !== null) {
      const value = String(node.value);
      const range = (node as YamlNode).range ?? undefined;
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
      // As written: `"a\nb"` with its escape, `0x1F` not 31; a block's lines are its value's.
      const written =
        range === undefined || node.type?.startsWith('BLOCK') === true
          ? value
          : text.slice(range[0] + quoted, range[1] - quoted);
      found.push(
        value,
        written,
        ...(value.includes('\n')
          ? value
              .split('\n')
              .map((l) => l.trim())
              .filter(Boolean)
          : []),
      );
    }
  };
  for (const doc of parseAllDocuments(text, { uniqueKeys: false })) take(doc.contents, false);
  return [...new Set(found)];
}
