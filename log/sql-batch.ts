// Passing many rows to one SQL statement. Both drivers bind a top-level Uint8Array natively (pg
// sends it in binary), but neither binds arrays of byte strings through our Db interface, so a
// batch travels as one concatenated byte string plus integer arrays of offsets and lengths, and SQL
// cuts it apart with substring(). One statement per batch, never one per row.

/** PackedBytes is a list of byte strings as one blob, with 0-based offsets and lengths. */
export interface PackedBytes {
  blob: Uint8Array;
  /** offsets is a PostgreSQL int[] literal: the 0-based offset of each part. */
  offsets: string;
  /** lengths is a PostgreSQL int[] literal: the length of each part. */
  lengths: string;
}

/** packBytes concatenates parts into one blob and describes where each part is. */
export function packBytes(parts: readonly Uint8Array[]): PackedBytes {
  let total = 0;
  for (const p of parts) total += p.length;
  const blob = new Uint8Array(total);
  const offsets: number[] = [];
  const lengths: number[] = [];
  let at = 0;
  for (const p of parts) {
    blob.set(p, at);
    offsets.push(at);
    lengths.push(p.length);
    at += p.length;
  }
  return { blob, offsets: formatIntArray(offsets), lengths: formatIntArray(lengths) };
}

/** concatHashes joins 32-byte hashes into one blob: part i is substring(blob FROM 32·i + 1 FOR 32). */
export function concatHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const blob = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => blob.set(h, i * 32));
  return blob;
}

/** formatIntArray renders integers (numbers or bigints) as a PostgreSQL array literal `{1,2,3}`. */
export function formatIntArray(values: readonly (number | bigint)[]): string {
  return `{${values.join(',')}}`;
}

/**
 * HASH_LIST_SQL selects the hashes of a concatHashes blob ($1) of $2 hashes as rows of `h`, for
 * `WHERE leaf_hash IN (…)`; the planner probes the unique index once per hash.
 */
export const HASH_LIST_SQL = 'SELECT substring($1::bytea FROM i * 32 + 1 FOR 32) AS h FROM generate_series(0, $2::int - 1) AS i';
