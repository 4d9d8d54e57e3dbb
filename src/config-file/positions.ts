import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/**
 * The 1-based line of a key path in a parsed YAML (or JSON) document: the line of the deepest key
 * of the path that exists. Pointing at the key, not the value, names the right line also for a
 * missing key (its parent's line) and for a value that is a block on the following lines.
 */
export function lineOfPath(
  doc: Document,
  lines: LineCounter,
  path: readonly (string | number)[],
): number {
  let node: unknown = doc.contents;
  let at: Node | null = isNode(node) ? node : null;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) break;
      if (isNode(pair.key)) at = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!isNode(item)) break;
      at = item;
      node = item;
    } else break;
  }
  return at?.range ? lines.linePos(at.range[0]).line : 1;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function isNode(value: unknown): value is Node {
  return isMap(value) || isSeq(value) || isScalar(value);
}
