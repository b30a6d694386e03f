import type { CompiledQuery, Kysely } from 'kysely';
import type { IssuerSchema } from './schema.ts';

type Slot = { readonly argument: string } | { readonly value: unknown };

const marker = '\u0000amulet-argument\u0000';

/**
 * A query compiled once per database and reused: Kysely builds it with a marker in place of each
 * argument, and later calls only fill the parameters in. The hot path (an authorization runs about
 * ten statements) then pays for no query compilation. The builder must use each argument as a
 * bound value (never in an identifier or a list), which is what Kysely does with plain values.
 */
export function prepareQuery<A extends object>(
  build: (db: Kysely<IssuerSchema>, args: A) => CompiledQuery,
): (db: Kysely<IssuerSchema>, args: A) => CompiledQuery {
  const cache = new WeakMap<Kysely<IssuerSchema>, { sql: string; slots: readonly Slot[] }>();
  return (db, args) => {
    let prepared = cache.get(db);
    if (prepared === undefined) {
      const placeholders = new Proxy(
        {},
        { get: (_target, key) => (typeof key === 'string' ? `${marker}${key}` : undefined) },
      ) as A;
      const compiled = build(db, placeholders);
      prepared = {
        sql: compiled.sql,
        slots: compiled.parameters.map((p) =>
          typeof p === 'string' && p.startsWith(marker) ? { argument: p.slice(marker.length) } : { value: p },
        ),
      };
      cache.set(db, prepared);
    }
    const values = args as Record<string, unknown>;
    const parameters = prepared.slots.map((slot) =>
      'argument' in slot ? values[slot.argument] : slot.value,
    );
    return { sql: prepared.sql, parameters } as unknown as CompiledQuery;
  };
}
