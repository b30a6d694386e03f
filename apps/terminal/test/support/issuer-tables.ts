import type { Engine } from '@amulet/store';
import { CompiledQuery } from 'kysely';

/** Issuer-side facts about one authorization, read from the issuer's own tables. */
export interface IssuerAuthorization {
  readonly state: string;
  readonly kind: string;
  readonly amountMinor: number;
  readonly heldMinor: number;
}

/** Every purchase and stand-in advice the issuer recorded (not ID&V), by transaction key (the @amulet/contracts key). */
export async function issuerAuthorizations(engine: Engine): Promise<Map<string, IssuerAuthorization>> {
  const rows = await engine.read.all<{
    transaction_key: string;
    state: string;
    kind: string;
    amount_minor: number | string;
    held_minor: number | string;
  }>(
    CompiledQuery.raw(
      "SELECT transaction_key, state, kind, amount_minor, held_minor FROM issuer_authorizations WHERE kind IN ('purchase', 'advice')",
    ),
  );
  return new Map(
    rows.map((r) => [
      r.transaction_key,
      { state: r.state, kind: r.kind, amountMinor: Number(r.amount_minor), heldMinor: Number(r.held_minor) },
    ]),
  );
}

/** Every reversal the issuer recorded: original key -> outcome. */
export async function issuerReversals(engine: Engine): Promise<Map<string, string>> {
  const rows = await engine.read.all<{ original_key: string; outcome: string }>(
    CompiledQuery.raw('SELECT original_key, outcome FROM issuer_reversals'),
  );
  return new Map(rows.map((r) => [r.original_key, r.outcome]));
}

/** How many release postings each authorization has (a reversal's effect on the ledger). */
export async function issuerReleaseCounts(engine: Engine): Promise<Map<string, number>> {
  const rows = await engine.read.all<{ authorization_id: string; n: number | string }>(
    CompiledQuery.raw(
      "SELECT authorization_id, COUNT(*) AS n FROM issuer_postings WHERE kind = 'release' GROUP BY authorization_id",
    ),
  );
  return new Map(rows.map((r) => [r.authorization_id, Number(r.n)]));
}
