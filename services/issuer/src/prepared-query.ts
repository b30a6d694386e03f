import type { CompiledQuery, Kysely } from 'kysely';
import type { IssuerSchema } from './schema.ts';

const marker = '\u0000amulet-argument\u0000';

/**
 * A query compiled once per database and reused: Kysely builds it with a marker in place of each
 * argument, and later calls only fill the parameters in. The hot path (an approval runs seven
 * statements) then pays for no query compilation. The builder must use each argument as a
 * bound value (never in an identifier or a list), which is what Kysely does with plain values.
 */
export function prepareQuery<A extends object>(
  build: (db: Kysely<IssuerSchema>, args: A) => CompiledQuery,
): (db: Kysely<IssuerSchema>, args: A) => CompiledQuery {
  const cache = new WeakMap<Kysely<IssuerSchema>, Prepared>();
  return (db, args) => {
    let prepared = cache.get(db);
    if (prepared === undefined) {
      prepared = prepare(build(db, placeholders as A));
      cache.set(db, prepared);
    }
    // A plain loop over precomputed slots: this runs for every statement of every authorization.
    const values = args as Record<string, unknown>;
    const { names, constants } = prepared;
    const parameters = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      parameters[i] = name === undefined ? constants[i] : values[name];
    }
    return { sql: prepared.sql, parameters } as unknown as CompiledQuery;
  };
}

/** Per parameter, the argument it takes (or undefined) and the constant it keeps otherwise. */
interface Prepared {
  readonly sql: string;
  readonly names: readonly (string | undefined)[];
  readonly constants: readonly unknown[];
}

const placeholders: object = new Proxy(
  {},
  { get: (_target, key) => (typeof key === 'string' ? `${marker}${key}` : undefined) },
);

function prepare(compiled: CompiledQuery): Prepared {
  const isArgument = (p: unknown): p is string => typeof p === 'string' && p.startsWith(marker);
  return {
    sql: compiled.sql,
    names: compiled.parameters.map((p) => (isArgument(p) ? p.slice(marker.length) : undefined)),
    constants: compiled.parameters.map((p) => (isArgument(p) ? undefined : p)),
  };
}
