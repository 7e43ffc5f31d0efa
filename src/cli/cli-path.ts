import { fileURLToPath } from 'node:url';

/**
 * This installation's `weft` entry, for starting weft again in a process of its own (a run started
 * from the dashboard or the MCP server, a resume): `dist/cli/main.js` beside this module in tsc's
 * output, `dist/bin/main.js` in the bundle the binary is (scripts/bundle-cli.mjs puts every chunk
 * beside its entry). Only a module in `src/cli/` may say `./main.js`: elsewhere the two differ.
 */
export const CLI_PATH = fileURLToPath(new URL('./main.js', import.meta.url));
