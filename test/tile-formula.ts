// tile-formula.ts computes tiles from scratch by the spec's definition, tlog-tiles "Merkle Tree":
// entry i of tile (l, n) is MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l]). It shares no code with the
// tile writer or reader, so the tests can hold them to it.
import { rootFromLeafHashes, type Hash } from '../tlog/merkle.ts';
import { formatTileData, type Tile } from '../tlog/tile.ts';

// Entry hashes are memoised per leaf list: each is the MTH of a fixed, complete range of leaves.
const memos = new WeakMap<readonly Hash[], Map<string, Hash>>();

/** tileHashesFromFormula returns the hashes of `tile` of the tree over `leaves`, by the spec's formula. */
export function tileHashesFromFormula(leaves: readonly Hash[], tile: Tile): Hash[] {
  let memo = memos.get(leaves);
  if (memo === undefined) memos.set(leaves, (memo = new Map<string, Hash>()));
  const span = 256 ** tile.level;
  const out: Hash[] = [];
  for (let i = 0; i < tile.width; i++) {
    const start = (Number(tile.index) * 256 + i) * span;
    const key = `${tile.level}/${start}`;
    let h = memo.get(key);
    if (h === undefined) memo.set(key, (h = rootFromLeafHashes(leaves.slice(start, start + span))));
    out.push(h);
  }
  return out;
}

/** tileDataFromFormula returns the bytes of `tile` of the tree over `leaves`, by the spec's formula. */
export function tileDataFromFormula(leaves: readonly Hash[], tile: Tile): Uint8Array {
  return formatTileData(tileHashesFromFormula(leaves, tile));
}
