// Pull mode, for logs that do not push (omniwitness's "tiles feeder"): the witness fetches a
// tlog-tiles log's checkpoint, and when it is newer than the one it cosigned, builds the
// consistency proof itself from the log's tiles and submits it to its own add-checkpoint path, so
// that every rule and the compare-and-swap apply exactly as for a pushed request.
//
// Nothing the log serves is trusted: the checkpoint's signature is verified with the followed
// log's keys before its tiles are read, and every tile is authenticated against that checkpoint's
// root (TileHashReader). A proof built from the new tree that does not lead back to the root the
// witness cosigned before is refused by the core (422): a fork, logged as evidence.
import { readBodyBounded } from '../platform/http-body.ts';
import type { Logger } from '../platform/logger.ts';
import { openCheckpoint, type Checkpoint } from '../tlog/checkpoint.ts';
import { equalBytes, type Hash } from '../tlog/merkle.ts';
import { proveConsistency } from '../tlog/proof.ts';
import { TILE_WIDTH, formatTilePath, type Tile } from '../tlog/tile.ts';
import { TileHashReader, type FetchTile } from '../tlog/tile-hash-reader.ts';
import { formatAddCheckpointRequest } from '../tlog/witness-request.ts';
import { HASH_SIZE } from '../tlog/merkle.ts';
import type { PullConfig } from './config.ts';
import type { PullResult, WitnessMetrics } from './metrics.ts';
import type { WitnessStore } from './store.ts';
import type { FollowedLog } from './witness-config.ts';
import type { WitnessNode } from './witness-node.ts';

/** PullDeps are what polling needs; main.ts wires them. */
export interface PullDeps {
  readonly node: Pick<WitnessNode, 'addCheckpoint'>;
  readonly store: WitnessStore;
  readonly logger: Logger;
  readonly metrics: WitnessMetrics;
  /** timeoutMs bounds each HTTP fetch (checkpoint or tile), in milliseconds. */
  readonly timeoutMs: number;
  /** maxCheckpointBytes bounds the fetched checkpoint note, in bytes. */
  readonly maxCheckpointBytes: number;
}

/**
 * PullOutcome is the result of one poll: the metrics label and a reason for the log. Results:
 * cosigned (a newer checkpoint was cosigned), up_to_date, conflict (a pushed request moved the
 * state meanwhile), refused (the core refused it: a fork, a split view, extension lines),
 * stale (the log serves an older checkpoint than the one cosigned), fetch_failed, bad_checkpoint
 * (no valid log signature), bad_tiles (a tile did not authenticate), store_failed.
 */
export interface PullOutcome {
  readonly result: PullResult;
  readonly message: string;
  /** size is the fetched checkpoint's size, once its signature verified. */
  readonly size?: bigint;
}

/** PullTarget is one log to poll: the followed log and where it publishes. */
export interface PullTarget {
  readonly log: FollowedLog;
  readonly pull: PullConfig;
}

/**
 * pullCheckpoint polls one log once: fetch `<url>/checkpoint`, verify it with the log's keys,
 * compare with the stored state, and if it is newer submit `old <stored size>`, the proof built
 * from authenticated tiles, and the checkpoint to the node. Never throws; counts and logs.
 */
export async function pullCheckpoint(target: PullTarget, deps: PullDeps): Promise<PullOutcome> {
  const outcome = await pollOnce(target, deps).catch(
    (err: unknown): PullOutcome => ({ result: 'fetch_failed', message: `couldn't poll: ${messageOf(err)}` }),
  );
  const { origin } = target.log;
  deps.metrics.pulls.inc({ origin, result: outcome.result });
  const fields = { origin, result: outcome.result, size: outcome.size?.toString(), reason: outcome.message };
  if (outcome.result === 'refused' || outcome.result === 'bad_tiles' || outcome.result === 'bad_checkpoint') {
    deps.logger.error(fields, 'pulled log failed verification');
  } else if (outcome.result === 'fetch_failed' || outcome.result === 'stale' || outcome.result === 'store_failed') {
    deps.logger.warn(fields, 'pulled log could not be witnessed');
  } else {
    deps.logger.debug(fields, 'polled log');
  }
  return outcome;
}

async function pollOnce({ log, pull }: PullTarget, deps: PullDeps): Promise<PullOutcome> {
  const fetched = await fetchCheckpoint(log, pull, deps);
  if ('result' in fetched) return fetched;
  const { note, checkpoint: { size, root } } = fetched;
  let latest: Awaited<ReturnType<WitnessStore['getLatest']>>;
  try {
    latest = await deps.store.getLatest(log.origin);
  } catch (err) {
    return { result: 'store_failed', size, message: `couldn't read the cosigned state: ${messageOf(err)}` };
  }
  if (latest !== undefined && size < latest.size) {
    return { result: 'stale', size, message: `log serves size ${size}, older than the cosigned ${latest.size}` };
  }
  if (latest !== undefined && size === latest.size && equalBytes(root, latest.root)) {
    return { result: 'up_to_date', size, message: 'no new checkpoint' };
  }
  const oldSize = latest?.size ?? 0n;
  let proof: Hash[] = [];
  if (oldSize > 0n && oldSize < size) {
    // Every tile is authenticated against the NEW checkpoint, whose signature verified; whether
    // the proof leads back to the stored root is the core's check (422 if not: a fork).
    const reader = new TileHashReader({ size, root }, tileFetcher(pull.url, deps.timeoutMs));
    try {
      proof = await proveConsistency(oldSize, size, reader);
    } catch (err) {
      return { result: 'bad_tiles', size, message: `couldn't build the consistency proof ${oldSize} → ${size} from tiles: ${messageOf(err)}` };
    }
  }
  const body = new TextEncoder().encode(formatAddCheckpointRequest({ oldSize, proof, checkpointNote: note }));
  const answer = await deps.node.addCheckpoint(body, 'pull');
  if (answer.status === 200) return { result: 'cosigned', size, message: `cosigned size ${size}` };
  // A 409 means a pushed request moved the state meanwhile: the next poll starts from it.
  const result = answer.status === 409 ? 'conflict' : 'refused';
  return { result, size, message: `add-checkpoint answered ${answer.status}: ${answer.body.trim()}` };
}

// fetchCheckpoint fetches `<url>/checkpoint` and verifies it with the followed log's keys.
async function fetchCheckpoint(log: FollowedLog, pull: PullConfig, deps: PullDeps): Promise<{ note: string; checkpoint: Checkpoint } | PullOutcome> {
  let note: string;
  try {
    note = new TextDecoder('utf-8', { fatal: true }).decode(await fetchBounded(`${pull.url}/checkpoint`, deps.maxCheckpointBytes, deps.timeoutMs));
  } catch (err) {
    return { result: 'fetch_failed', message: `couldn't fetch the checkpoint: ${messageOf(err)}` };
  }
  try {
    // note is attacker-controlled until its signature verifies.
    return { note, checkpoint: openCheckpoint(note, log.verifiers, { origin: log.origin }).checkpoint };
  } catch (err) {
    return { result: 'bad_checkpoint', message: `checkpoint does not verify: ${messageOf(err)}` };
  }
}

/**
 * tileFetcher fetches `<url>/tile/<L>/<N>[.p/<W>]`. A partial tile that is gone (404) is read from
 * the full tile that replaced it, cut to its width (tlog-tiles, "Partial Tiles"); the reader
 * authenticates whatever comes back.
 */
export function tileFetcher(url: string, timeoutMs: number): FetchTile {
  const get = (tile: Tile) => fetchBounded(`${url}/${formatTilePath(tile)}`, TILE_WIDTH * HASH_SIZE, timeoutMs);
  return async (tile) => {
    try {
      return await get(tile);
    } catch (err) {
      if (tile.width === TILE_WIDTH || !(err instanceof HttpStatusError) || err.status !== 404) throw err;
      const full = await get({ ...tile, width: TILE_WIDTH });
      return full.subarray(0, tile.width * HASH_SIZE);
    }
  };
}

/** HttpStatusError is a fetch answered with a status other than 200. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(readonly url: string, readonly status: number) {
    super(`GET ${url}: HTTP ${status}`);
  }
}

/**
 * fetchBounded GETs `url` and returns its body, failing (without reading further) once it passes
 * maxBytes, when the status is not 200 (HttpStatusError), or after timeoutMs for the whole fetch.
 */
export async function fetchBounded(url: string, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, { signal, headers: { accept: '*/*' } });
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    throw new HttpStatusError(url, res.status);
  }
  const body = await readBodyBounded(res, maxBytes);
  if (body === undefined) throw new Error(`GET ${url}: body is over the ${maxBytes}-byte limit`);
  return body;
}

/** Pulling is a running set of pollers. */
export interface Pulling {
  /** stop cancels future polls and waits for those running. */
  stop(): Promise<void>;
}

/**
 * startPulling polls each target at once and then every pull.intervalMs after the previous poll
 * ended, so polls of one log never overlap. `onPoll` (tests, tools) sees every outcome.
 */
export function startPulling(targets: readonly PullTarget[], deps: PullDeps, onPoll?: (t: PullTarget, o: PullOutcome) => void): Pulling {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const schedule = (t: PullTarget, delayMs: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      const p = pullCheckpoint(t, deps).then((o) => {
        onPoll?.(t, o);
        if (!stopped) schedule(t, t.pull.intervalMs);
      });
      running.add(p);
      void p.finally(() => running.delete(p));
    }, delayMs);
    timers.add(timer);
  };
  for (const t of targets) schedule(t, 0);
  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all(running);
    },
  };
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}
