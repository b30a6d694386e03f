import type { TlvNode } from './tlv-node.ts';

/** The first node with `tag` (either case), searching depth-first in document order. */
export function findTag(nodes: readonly TlvNode[], tag: string): TlvNode | undefined {
  const wanted = tag.toUpperCase();
  for (const node of nodes) {
    if (node.tag === wanted) return node;
    if (node.children !== undefined) {
      const found = findTag(node.children, wanted);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
