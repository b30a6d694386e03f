import { Field, parseOriginalDataElements, transactionKey } from '@amulet/contracts';
import type { Iso8583Message } from '@amulet/iso8583';
import { text } from './interchange-codec.ts';

/**
 * The transactionKey of the authorization a reversal (0400/0420/0421) undoes: field 90's original
 * STAN, transmission date-time and acquiring institution, with the reversal's own terminal (41).
 * Undefined when field 90 is missing or malformed.
 */
export function originalAuthorizationKey(reversal: Iso8583Message): string | undefined {
  const value = text(reversal, Field.originalDataElements);
  if (!/^[0-9]{42}$/.test(value)) return undefined;
  const original = parseOriginalDataElements(value);
  return transactionKey({
    acquiringInstitutionId: original.acquiringInstitutionId,
    terminalId: text(reversal, Field.terminalId),
    stan: original.stan,
    transmissionDateTime: original.transmissionDateTime,
  });
}
