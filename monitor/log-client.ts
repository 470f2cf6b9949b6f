// Reading a followed log over HTTP (C2SP tlog-tiles) and its witnesses' latest cosigned
// checkpoints (C2SP tlog-witness monitoring path). Everything fetched is attacker-controlled and
// bounded in size and time; the callers verify it (signatures, TileHashReader, bundle checks).
import { readBodyBounded } from '../platform/http-body.ts';
import { encodeEntryBundle, MAX_ENTRY_SIZE, parseEntryBundle } from '../tlog/entry-bundle.ts';
import { HASH_SIZE } from '../tlog/merkle.ts';
import { TILE_WIDTH, formatEntriesPath, formatTilePath, type BundleId } from '../tlog/tile.ts';
import type { FetchTile } from '../tlog/tile-hash-reader.ts';
import { witnessCheckpointPath } from '../tlog/witness-request.ts';
import { MonitorError } from './errors.ts';

/** MAX_CHECKPOINT_BYTES bounds a fetched checkpoint note (a checkpoint with 100 signatures fits). */
export const MAX_CHECKPOINT_BYTES = 64 * 1024;
/** MAX_BUNDLE_BYTES bounds a fetched entry bundle: 256 entries of at most 64 KiB with their lengths. */
export const MAX_BUNDLE_BYTES = TILE_WIDTH * (MAX_ENTRY_SIZE + 2);

/**
 * LogClient reads one log. Errors: MonitorError 'fetch_failed' (network, timeout, a status other
 * than 200, a body over its bound), with `status` set when the server answered; callers retry.
 */
export interface LogClient {
  fetchCheckpoint(): Promise<string>;
  fetchTile: FetchTile;
  /** fetchBundle returns the bundle's bytes at its width; a partial bundle that is gone is cut from the full one. */
  fetchBundle(bundle: BundleId): Promise<Uint8Array>;
  /** fetchWitnessCheckpoint returns a witness's latest cosigned note for the log, or undefined on 404. */
  fetchWitnessCheckpoint(witnessUrl: string): Promise<string | undefined>;
}

/** FetchFailed is a MonitorError 'fetch_failed' with the HTTP status when there was one. */
export class FetchFailed extends MonitorError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, cause?: unknown) {
    super('fetch_failed', message, { cause });
    this.status = status;
  }
}

/** createLogClient reads the log at `url` (its tlog-tiles prefix) for `origin`. */
export function createLogClient(log: { origin: string; url: string }, timeoutMs: number): LogClient {
  const get = (path: string, max: number) => fetchBounded(`${log.url}/${path}`, max, timeoutMs);
  return {
    async fetchCheckpoint() {
      return decodeText(await get('checkpoint', MAX_CHECKPOINT_BYTES), 'checkpoint');
    },
    async fetchTile(tile) {
      // tlog-tiles "Partial Tiles": a partial tile may be gone once the full one exists.
      try {
        return await get(formatTilePath(tile), TILE_WIDTH * HASH_SIZE);
      } catch (err) {
        if (tile.width === TILE_WIDTH || !(err instanceof FetchFailed) || err.status !== 404) throw err;
        const full = await get(formatTilePath({ ...tile, width: TILE_WIDTH }), TILE_WIDTH * HASH_SIZE);
        return full.subarray(0, tile.width * HASH_SIZE);
      }
    },
    async fetchBundle(bundle) {
      try {
        return await get(formatEntriesPath(bundle), MAX_BUNDLE_BYTES);
      } catch (err) {
        if (bundle.width === TILE_WIDTH || !(err instanceof FetchFailed) || err.status !== 404) throw err;
        const full = await get(formatEntriesPath({ ...bundle, width: TILE_WIDTH }), MAX_BUNDLE_BYTES);
        // The full bundle's first `width` entries are the partial bundle's; a malformed full
        // bundle is left for the caller's verification to refuse.
        let entries: Uint8Array[];
        try {
          entries = parseEntryBundle(full);
        } catch {
          return full;
        }
        return encodeEntryBundle(entries.slice(0, bundle.width));
      }
    },
    async fetchWitnessCheckpoint(witnessUrl) {
      try {
        return decodeText(await fetchBounded(`${witnessUrl}/${witnessCheckpointPath(log.origin)}`, MAX_CHECKPOINT_BYTES, timeoutMs), 'witness checkpoint');
      } catch (err) {
        if (err instanceof FetchFailed && err.status === 404) return undefined;
        throw err;
      }
    },
  };
}

function decodeText(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new FetchFailed(`${what} is not UTF-8`, undefined, err);
  }
}

/**
 * fetchBounded GETs `url` and returns its body; FetchFailed when the status is not 200, the body
 * passes maxBytes (it stops reading), or the whole fetch takes longer than timeoutMs.
 */
export async function fetchBounded(url: string, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new FetchFailed(`couldn't fetch ${url}: ${(err as Error).message}`, undefined, err);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    throw new FetchFailed(`couldn't fetch ${url}: HTTP ${res.status}`, res.status);
  }
  let body: Uint8Array | undefined;
  try {
    body = await readBodyBounded(res, maxBytes);
  } catch (err) {
    throw new FetchFailed(`couldn't fetch ${url}: ${(err as Error).message}`, undefined, err);
  }
  if (body === undefined) throw new FetchFailed(`couldn't fetch ${url}: body over ${maxBytes} bytes`);
  return body;
}
