import { interchangeSpec } from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';

/**
 * A copy of `message` with some fields set (a value) or removed (`undefined`), and optionally
 * another MTI. The copy masks itself when logged, like every message of the interchange spec.
 */
export function editMessage(
  message: Iso8583Message,
  changes: Readonly<Record<number, FieldValue | undefined>>,
  mti: string = message.mti,
): Iso8583Message {
  const fields = new Map(message.fields);
  for (const [key, value] of Object.entries(changes)) {
    const field = Number(key);
    if (value === undefined) fields.delete(field);
    else fields.set(field, value);
  }
  return createMessage(interchangeSpec, mti, fields);
}

/** A response to `request`: its MTI with the function digit raised by one, and the fields named. */
export function responseTo(
  request: Iso8583Message,
  echo: readonly number[],
  changes: Readonly<Record<number, FieldValue | undefined>>,
): Iso8583Message {
  const fields = new Map<number, FieldValue>();
  for (const field of echo) {
    const value = request.fields.get(field);
    if (value !== undefined) fields.set(field, value);
  }
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) fields.delete(Number(key));
    else fields.set(Number(key), value);
  }
  const fn = Number(request.mti[2]) + 1;
  return createMessage(interchangeSpec, `${request.mti.slice(0, 2)}${fn}0`, fields);
}
