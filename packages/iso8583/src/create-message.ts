import { describeMessage } from './describe-message.ts';
import { formatMessage } from './format-message.ts';
import type { FieldValue, Iso8583Message } from './iso8583-message.ts';
import type { MessageSpec } from './message-spec.ts';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * A message that knows its spec, so that logging it never shows card data: `JSON.stringify`
 * gives the masked description and Node's `console.log` / `util.inspect` the masked text.
 * The spec is kept in a private field, so equality checks see only `mti` and `fields`.
 */
class SpecMessage implements Iso8583Message {
  readonly mti: string;
  readonly fields: Map<number, FieldValue>;
  readonly #spec: MessageSpec;

  constructor(spec: MessageSpec, mti: string, fields: Map<number, FieldValue>) {
    this.mti = mti;
    this.fields = fields;
    this.#spec = spec;
  }

  toJSON(): object {
    return describeMessage(this.#spec, this);
  }

  toString(): string {
    return formatMessage(this.#spec, this);
  }

  [INSPECT](): string {
    return formatMessage(this.#spec, this);
  }
}

/**
 * A new message of `spec`, masked whenever it is logged (`unpack` returns the same kind). The
 * fields map is the one given, so it can be filled in afterwards.
 */
export function createMessage(
  spec: MessageSpec,
  mti: string,
  fields: Map<number, FieldValue> = new Map(),
): Iso8583Message & { readonly fields: Map<number, FieldValue> } {
  return new SpecMessage(spec, mti, fields);
}
