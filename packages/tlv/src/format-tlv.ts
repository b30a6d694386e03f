import { fromHex } from '@amulet/bytes';
import { findDataObject } from './data-object.ts';
import { type DescribedTlv, describeTlv } from './describe-tlv.ts';
import type { TlvNode } from './tlv-node.ts';

/**
 * The pretty-printer: one line per data object, indented two spaces per level, with the tag, its
 * dictionary name and its value (masked unless `reveal`, see `maskTlv`). Text-format values that
 * are shown are followed by their printable text in quotes.
 *
 *     6F File Control Information (FCI) Template
 *       84 Dedicated File (DF) Name: 325041592E5359532E4444463031 "2PAY.SYS.DDF01"
 */
export function formatTlv(nodes: readonly TlvNode[], options: { reveal?: boolean } = {}): string {
  const lines: string[] = [];
  const walk = (described: readonly DescribedTlv[], depth: number): void => {
    for (const object of described) {
      const head = `${'  '.repeat(depth)}${object.tag} ${object.name ?? '(unknown tag)'}`;
      if (object.children !== undefined) {
        lines.push(head);
        walk(object.children, depth + 1);
      } else {
        lines.push(`${head}: ${object.value ?? ''}${object.masked ? '' : printable(object)}`);
      }
    }
  };
  walk(describeTlv(nodes, options), 0);
  return lines.join('\n');
}

/** ` "text"` for an an/ans value made only of printable ASCII, otherwise nothing. */
function printable(object: DescribedTlv): string {
  const format = findDataObject(object.tag)?.format;
  if ((format !== 'an' && format !== 'ans') || !object.value) return '';
  const bytes = fromHex(object.value);
  if (!bytes.every((byte) => byte >= 0x20 && byte <= 0x7e)) return '';
  return ` "${String.fromCharCode(...bytes)}"`;
}
