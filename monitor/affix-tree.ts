// A radix tree (compressed trie) of literal keys, each holding items, that finds every key which
// is a prefix of a value (or, built fromEnd, every key which is a suffix of it) in one walk down
// the value: O(length of the value + items found), however many keys it holds.
//
// A node keeps its children as a string of their first characters and a parallel array, scanned
// linearly: fan-out is small (a few dozen at most, the characters that can follow a prefix), and
// two contiguous arrays cost fewer cache misses per level than a hash map once the tree is large.

interface Node<T> {
  /** label is the edge text from the parent, in walking order (reversed for a suffix tree). */
  label: string;
  /** firsts holds the first character of each child's label; kids the children, in that order. */
  firsts: string;
  kids: Node<T>[];
  items: T[] | undefined;
}

function newNode<T>(label: string, items: T[] | undefined): Node<T> {
  return { label, firsts: '', kids: [], items };
}

function childAt<T>(node: Node<T>, c: number): number {
  const f = node.firsts;
  for (let j = 0; j < f.length; j++) if (f.charCodeAt(j) === c) return j;
  return -1;
}

/** AffixTree maps literal keys to lists of items and finds the keys that start (or end) a value. */
export class AffixTree<T> {
  private readonly root: Node<T> = newNode('', undefined);

  /** fromEnd makes keys suffixes rather than prefixes. */
  constructor(private readonly fromEnd: boolean) {}

  /** add files item under key (once: filing it again changes nothing). */
  add(key: string, item: T): void {
    const k = this.fromEnd ? reverse(key) : key;
    let node = this.root;
    let i = 0;
    while (i < k.length) {
      const j = childAt(node, k.charCodeAt(i));
      if (j < 0) {
        node.firsts += k[i];
        node.kids.push(newNode(k.slice(i), [item]));
        return;
      }
      let child = node.kids[j]!;
      const common = commonPrefixLength(child.label, k, i);
      if (common < child.label.length) child = this.split(node, j, common);
      node = child;
      i += common;
    }
    node.items ??= [];
    if (!node.items.includes(item)) node.items.push(item);
  }

  // split cuts the edge to parent.kids[j] after `at` characters and returns the new middle node.
  private split(parent: Node<T>, j: number, at: number): Node<T> {
    const child = parent.kids[j]!;
    const mid = newNode<T>(child.label.slice(0, at), undefined);
    child.label = child.label.slice(at);
    mid.firsts = child.label[0]!;
    mid.kids.push(child);
    parent.kids[j] = mid;
    return mid;
  }

  /** delete removes item from key, pruning emptied leaves, and reports whether it was there. */
  delete(key: string, item: T): boolean {
    const k = this.fromEnd ? reverse(key) : key;
    const path: Node<T>[] = [this.root];
    let node = this.root;
    let i = 0;
    while (i < k.length) {
      const j = childAt(node, k.charCodeAt(i));
      const child = j < 0 ? undefined : node.kids[j]!;
      if (child === undefined || !k.startsWith(child.label, i)) return false;
      node = child;
      path.push(node);
      i += child.label.length;
    }
    const at = node.items?.indexOf(item) ?? -1;
    if (at < 0) return false;
    node.items!.splice(at, 1);
    if (node.items!.length === 0) node.items = undefined;
    for (let d = path.length - 1; d > 0 && path[d]!.items === undefined && path[d]!.kids.length === 0; d--) {
      const parent = path[d - 1]!;
      const j = parent.kids.indexOf(path[d]!);
      parent.kids.splice(j, 1);
      parent.firsts = parent.firsts.slice(0, j) + parent.firsts.slice(j + 1);
    }
    return true;
  }

  /** collect appends to out every item whose key is a prefix (suffix, fromEnd) of value. */
  collect(value: string, out: T[]): void {
    const n = value.length;
    let node = this.root;
    let i = 0;
    if (node.items) for (const item of node.items) out.push(item);
    while (i < n) {
      const j = childAt(node, this.fromEnd ? value.charCodeAt(n - 1 - i) : value.charCodeAt(i));
      if (j < 0) return;
      const child = node.kids[j]!;
      if (!this.follows(child.label, value, i)) return;
      i += child.label.length;
      node = child;
      if (node.items) for (let k = 0; k < node.items.length; k++) out.push(node.items[k]!);
    }
  }

  // follows reports whether label continues value at walking position i.
  private follows(label: string, value: string, i: number): boolean {
    const n = value.length;
    if (i + label.length > n) return false;
    if (!this.fromEnd) return value.startsWith(label, i);
    for (let j = 1; j < label.length; j++) if (label.charCodeAt(j) !== value.charCodeAt(n - 1 - i - j)) return false;
    return true; // j = 0 was the child lookup
  }
}

function commonPrefixLength(label: string, key: string, from: number): number {
  let n = 0;
  while (n < label.length && from + n < key.length && label.charCodeAt(n) === key.charCodeAt(from + n)) n++;
  return n;
}

function reverse(s: string): string {
  let out = '';
  for (let i = s.length - 1; i >= 0; i--) out += s[i];
  return out;
}
