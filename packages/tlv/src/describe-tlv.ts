import { findDataObject } from './data-object.ts';
import { maskTlv } from './mask-tlv.ts';
import type { TlvNode } from './tlv-node.ts';

/** A data object ready to show or print as JSON: names from the dictionary, values as text. */
export interface DescribedTlv {
  readonly tag: string;
  /** The dictionary name; absent for a tag the dictionary does not know. */
  readonly name?: string;
  /** Upper-case hex, or the masked text when `masked` is true. */
  readonly value?: string;
  readonly masked?: true;
  readonly children?: readonly DescribedTlv[];
}

/**
 * The tree with dictionary names and hex values, each value masked as its dictionary entry says
 * (see `maskTlv`) unless `reveal` is set. With `reveal` the result is what `parseTlvJson` reads
 * back.
 */
export function describeTlv(nodes: readonly TlvNode[], options: { reveal?: boolean } = {}): DescribedTlv[] {
  return nodes.map((node) => {
    const name = findDataObject(node.tag)?.name;
    const named = name === undefined ? { tag: node.tag } : { tag: node.tag, name };
    if (node.children !== undefined) return { ...named, children: describeTlv(node.children, options) };
    const { text, masked } = maskTlv(node.tag, node.value ?? new Uint8Array(0), options);
    return masked ? { ...named, value: text, masked: true } : { ...named, value: text };
  });
}
