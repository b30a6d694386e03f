import type { DescribedTlv } from '@amulet/tlv';
import { type DescribedField, type DescribeOptions, describeMessage } from './describe-message.ts';
import type { Iso8583Message } from './iso8583-message.ts';
import type { MessageSpec } from './message-spec.ts';

/**
 * The message as indented text, one field or data object a line, masked unless `reveal` is set:
 * what a log line or the command line shows.
 */
export function formatMessage(
  spec: MessageSpec,
  message: Iso8583Message,
  options: DescribeOptions = {},
): string {
  const described = describeMessage(spec, message, options);
  const lines = [`MTI ${described.mti}${described.mtiName === undefined ? '' : `  ${described.mtiName}`}`];
  for (const field of described.fields) formatField(field, '  ', lines);
  return lines.join('\n');
}

function formatField(field: DescribedField, indent: string, lines: string[]): void {
  const head = `${indent}${field.field.padStart(3)}  ${field.description}`;
  if (field.value !== undefined) lines.push(`${head}: ${field.value}`);
  else lines.push(`${head}:`);
  for (const node of field.tlv ?? []) formatTlv(node, `${indent}       `, lines);
  for (const subfield of field.subfields ?? []) formatField(subfield, `${indent}     `, lines);
}

function formatTlv(node: DescribedTlv, indent: string, lines: string[]): void {
  const name = node.name === undefined ? '' : ` ${node.name}`;
  lines.push(`${indent}${node.tag}${name}${node.value === undefined ? '' : `: ${node.value}`}`);
  for (const child of node.children ?? []) formatTlv(child, `${indent}  `, lines);
}
