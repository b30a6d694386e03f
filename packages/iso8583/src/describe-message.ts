import { type DescribedTlv, findDataObject, maskTlv, type TlvNode } from '@amulet/tlv';
import { type CompiledField, compileSpec } from './compile-spec.ts';
import type { FieldValue, Iso8583Message } from './iso8583-message.ts';
import { maskValue } from './mask-value.ts';
import type { MessageSpec } from './message-spec.ts';
import { describeMti } from './mti.ts';

/** One field ready to show or print as JSON. */
export interface DescribedField {
  /** Field or subfield number. */
  readonly field: string;
  readonly description: string;
  /** Text fields as they stand, binary fields as upper-case hex, or the masked text. */
  readonly value?: string;
  readonly masked?: true;
  /** BER-TLV composite fields: the data objects with their EMV names. */
  readonly tlv?: readonly DescribedTlv[];
  /** Positional composite fields. */
  readonly subfields?: readonly DescribedField[];
}

export interface DescribedMessage {
  readonly mti: string;
  /** What the MTI means, when it is four digits. */
  readonly mtiName?: string;
  readonly fields: readonly DescribedField[];
}

export interface DescribeOptions {
  /** Show sensitive values in clear. Default false: they are masked. */
  readonly reveal?: boolean;
}

/**
 * The message with each field's description, sensitive values masked as the spec marks them
 * (field 55's data objects as the EMV dictionary marks them) unless `reveal` is set. With
 * `reveal`, `messageFromJson` reads the result back.
 */
export function describeMessage(
  spec: MessageSpec,
  message: Iso8583Message,
  options: DescribeOptions = {},
): DescribedMessage {
  const compiled = compileSpec(spec);
  const reveal = options.reveal === true;
  const fields: DescribedField[] = [];
  for (const number of [...message.fields.keys()].sort((a, b) => a - b)) {
    const field = compiled.fields[number];
    const value = message.fields.get(number)!;
    fields.push(
      field === undefined
        ? { field: String(number), description: 'not in the spec', value: '[not shown]', masked: true }
        : describeField(field, value, reveal),
    );
  }
  const mtiName = /^[0-9]{4}$/.test(message.mti) ? describeMti(message.mti) : undefined;
  return mtiName === undefined ? { mti: message.mti, fields } : { mti: message.mti, mtiName, fields };
}

function describeField(field: CompiledField, value: FieldValue, reveal: boolean): DescribedField {
  const head = { field: field.path[field.path.length - 1]!, description: field.spec.description };
  const sensitivity = field.spec.sensitivity ?? 'public';
  if (field.kind === 'tlv' && Array.isArray(value)) {
    return { ...head, tlv: describeTlvField(value as readonly TlvNode[], sensitivity !== 'public', reveal) };
  }
  if (field.kind === 'positional' && value instanceof Map) {
    const subfields = field.subfields
      .filter((subfield) => value.has(subfield.path[subfield.path.length - 1]!))
      .map((subfield) =>
        describeField(subfield, value.get(subfield.path[subfield.path.length - 1]!)!, reveal),
      );
    return { ...head, subfields };
  }
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const shown = maskValue(value, sensitivity, reveal);
    return shown.masked ? { ...head, value: shown.text, masked: true } : { ...head, value: shown.text };
  }
  return { ...head, value: '[not shown: the value does not match the spec]', masked: true };
}

/** Data objects masked by the EMV dictionary; in a sensitive field, unknown tags are hidden too. */
function describeTlvField(nodes: readonly TlvNode[], hideUnknown: boolean, reveal: boolean): DescribedTlv[] {
  return nodes.map((node): DescribedTlv => {
    const name = findDataObject(node.tag)?.name;
    const named = name === undefined ? { tag: node.tag } : { tag: node.tag, name };
    if (node.children !== undefined)
      return { ...named, children: describeTlvField(node.children, hideUnknown, reveal) };
    const value = node.value ?? new Uint8Array(0);
    if (!reveal && hideUnknown && name === undefined) {
      return { ...named, value: `[${value.length} bytes masked]`, masked: true };
    }
    const { text, masked } = maskTlv(node.tag, value, { reveal });
    return masked ? { ...named, value: text, masked: true } : { ...named, value: text };
  });
}
