// SQL access to hash tiles and entry bundles. Each tile position (level, index) and each bundle
// index holds one row: its widest content so far (schema.ts explains why). Writes only ever widen a
// row, never rewrite a full one, and fail loudly if a row is not as the writer expected.
import type { Queryable } from '../platform/db.ts';
import { TILE_WIDTH } from '../tlog/tile.ts';
import { LogError } from './errors.ts';
import { formatIntArray, packBytes } from './sql-batch.ts';

/** TilePosition names a tile row: its level and index, whatever its width. */
export interface TilePosition {
  level: number;
  index: bigint;
}

/** StoredTile is a tile row: its position, its current width and its 32·width bytes. */
export interface StoredTile extends TilePosition {
  width: number;
  data: Uint8Array;
}

/** StoredBundle is a bundle row: index, number of entries (width) and the encoded bundle. */
export interface StoredBundle {
  index: bigint;
  width: number;
  data: Uint8Array;
}

/** readTiles returns the stored rows at the given positions (missing ones are left out). */
export async function readTiles(q: Queryable, positions: readonly TilePosition[]): Promise<StoredTile[]> {
  if (positions.length === 0) return [];
  const rows = await q.query<{ level: number; idx: bigint; width: number; data: Uint8Array }>(
    `SELECT t.level, t.idx, t.width, t.data FROM log_tiles t
     JOIN unnest($1::smallint[], $2::bigint[]) AS p(level, idx) ON t.level = p.level AND t.idx = p.idx`,
    [formatIntArray(positions.map((p) => p.level)), formatIntArray(positions.map((p) => p.index))],
  );
  return rows.map((r) => ({ level: Number(r.level), index: r.idx, width: Number(r.width), data: r.data }));
}

/**
 * writeTiles stores tiles in one statement: a new position is inserted, an existing one replaced
 * only by a wider tile. Throws 'corrupt_state' if any row was not written (a full tile rewritten,
 * or a partial narrowed: the caller's view of the tree is stale).
 */
export async function writeTiles(q: Queryable, tiles: readonly StoredTile[]): Promise<void> {
  if (tiles.length === 0) return;
  for (const t of tiles) {
    if (t.width < 1 || t.width > TILE_WIDTH || t.data.length !== 32 * t.width) {
      throw new LogError('invalid_argument', `tile ${t.level}/${t.index} of width ${t.width} has ${t.data.length} bytes`);
    }
  }
  const packed = packBytes(tiles.map((t) => t.data));
  const rows = await q.query(
    `INSERT INTO log_tiles (level, idx, width, data)
     SELECT t.level, t.idx, t.width, substring($4::bytea FROM t.off + 1 FOR t.width * 32)
     FROM unnest($1::smallint[], $2::bigint[], $3::smallint[], $5::int[]) AS t(level, idx, width, off)
     ON CONFLICT (level, idx) DO UPDATE SET width = EXCLUDED.width, data = EXCLUDED.data
       WHERE log_tiles.width < EXCLUDED.width
     RETURNING 1`,
    [
      formatIntArray(tiles.map((t) => t.level)),
      formatIntArray(tiles.map((t) => t.index)),
      formatIntArray(tiles.map((t) => t.width)),
      packed.blob,
      packed.offsets,
    ],
  );
  if (rows.length !== tiles.length) {
    throw new LogError('corrupt_state', `wrote ${rows.length} of ${tiles.length} tiles: a stored tile is wider than expected`);
  }
}

/** readBundle returns the bundle row at index, or undefined. */
export async function readBundle(q: Queryable, index: bigint): Promise<StoredBundle | undefined> {
  const rows = await q.query<{ idx: bigint; width: number; data: Uint8Array }>(
    'SELECT idx, width, data FROM log_bundles WHERE idx = $1',
    [index],
  );
  const r = rows[0];
  return r && { index: r.idx, width: Number(r.width), data: r.data };
}

/** writeBundles stores bundles with the rules of writeTiles ('corrupt_state' likewise). */
export async function writeBundles(q: Queryable, bundles: readonly StoredBundle[]): Promise<void> {
  if (bundles.length === 0) return;
  for (const b of bundles) {
    if (b.width < 1 || b.width > TILE_WIDTH) throw new LogError('invalid_argument', `bundle width ${b.width} is not in 1..256`);
  }
  const packed = packBytes(bundles.map((b) => b.data));
  const rows = await q.query(
    `INSERT INTO log_bundles (idx, width, data)
     SELECT b.idx, b.width, substring($3::bytea FROM b.off + 1 FOR b.len)
     FROM unnest($1::bigint[], $2::smallint[], $4::int[], $5::int[]) AS b(idx, width, off, len)
     ON CONFLICT (idx) DO UPDATE SET width = EXCLUDED.width, data = EXCLUDED.data
       WHERE log_bundles.width < EXCLUDED.width
     RETURNING 1`,
    [
      formatIntArray(bundles.map((b) => b.index)),
      formatIntArray(bundles.map((b) => b.width)),
      packed.blob,
      packed.offsets,
      packed.lengths,
    ],
  );
  if (rows.length !== bundles.length) {
    throw new LogError('corrupt_state', `wrote ${rows.length} of ${bundles.length} bundles: a stored bundle is wider than expected`);
  }
}
