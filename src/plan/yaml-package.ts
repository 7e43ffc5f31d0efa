import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/**
 * The `yaml` package, loaded on first use. A plan is read by `JSON.parse` or js-yaml; the `yaml`
 * package (~50 ms of start-up) is needed only for text js-yaml is not sure of and for the
 * positions of an error, so `weft run`, `validate` and `estimate` of a good plan never load it.
 * Its `node` export is CommonJS, so `require` gives the same module an `import` would.
 */
export function yamlPackage(): typeof Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return loaded;
}
