import { join } from 'node:path';
import type { Store } from '../core/ports/store.js';
import { WeftError } from '../core/errors.js';
import { storeError } from './journal-rules.js';
import { MemoryStore } from './memory-store.js';
import { SqliteStore } from './sqlite-store.js';

export interface OpenStoreOptions {
  /**
   * Where the journal lives: `memory:`, `postgres://…` / `postgresql://…` (`?schema=name` picks
   * the schema, default `weft`), or `sqlite:<file>`.
   * @default the `WEFT_DATABASE_URL` environment variable, else SQLite in `dir`
   */
  readonly url?: string;
  /** The project's weft folder; the SQLite journal is `<dir>/weft.db`. */
  readonly dir: string;
  /** Where `WEFT_DATABASE_URL` is read from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Opens the journal the configuration names. The one place that picks a store adapter; the CLI
 * calls it with `dir` set to the project's `.weft/`.
 * @example const store = await openStore({ dir: '.weft' }); // .weft/weft.db, unless WEFT_DATABASE_URL is set
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const env = options.env ?? process.env;
  const url = nonEmpty(options.url) ?? nonEmpty(env.WEFT_DATABASE_URL);
  if (url === undefined) return new SqliteStore({ path: join(options.dir, 'weft.db') });
  if (url === 'memory:') return new MemoryStore();
  if (/^postgres(ql)?:\/\//i.test(url)) {
    // pg loads only for teams that use it.
    const { PostgresStore } = await import('./postgres-store.js');
    return PostgresStore.open(postgresOptions(url));
  }
  if (url.startsWith('sqlite:'))
    return new SqliteStore({ path: url.slice('sqlite:'.length) || join(options.dir, 'weft.db') });
  throw new WeftError('WEFT_CONFIG_INVALID', `unknown journal URL \`${url.replace(/\/\/[^@/]*@/, '//***@')}\``, {
    hint: 'use memory:, postgres://user@host/db, or sqlite:<file> (or leave it unset for .weft/weft.db)',
  });
}

/** Takes weft's own `schema` parameter out of the URL; the rest goes to `pg` as it is. */
function postgresOptions(url: string): { url: string; schema?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw storeError(
      'the PostgreSQL URL cannot be parsed',
      error,
      'write it as postgres://user:password@host:5432/database',
    );
  }
  const schema = parsed.searchParams.get('schema');
  if (schema === null) return { url };
  parsed.searchParams.delete('schema');
  return { url: parsed.toString(), schema };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
