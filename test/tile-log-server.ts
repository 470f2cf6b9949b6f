// A tlog-tiles log served statically over loopback HTTP, for readers of other people's logs
// (witness pull mode): tiles built with tlog/tile-writer.ts, checkpoints signed with a key made in
// the test, every partial tile of every published size kept, as a real log's storage would be.
// Tests can tamper with what is served: replace a path's bytes, delete it, or answer an error.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatCheckpoint } from '../tlog/checkpoint.ts';
import { hashLeaf, type Hash } from '../tlog/merkle.ts';
import { signNote } from '../tlog/note.ts';
import type { Ed25519Signer } from '../tlog/note-ed25519.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { formatTilePath } from '../tlog/tile.ts';
import { EMPTY_TILE_EDGE, appendLeafHashes, rootFromTileEdge, type TileEdge } from '../tlog/tile-writer.ts';

/** TileLog is one history of a log, growing by `grow`, whose storage is `files` (path → bytes). */
export class TileLog {
  readonly origin: string;
  readonly vkey: string;
  readonly files = new Map<string, Uint8Array>();
  readonly #signer: Ed25519Signer;
  readonly #tag: string;
  #edge: TileEdge = EMPTY_TILE_EDGE;
  #roots = new Map<bigint, Hash>();

  /** The log signs with `key` (a fresh one if none) and names its leaves with `tag`. */
  constructor(origin: string, tag: string, key: { vkey: string; signer: Ed25519Signer } = generateSignerKey(origin)) {
    this.origin = origin;
    this.vkey = key.vkey;
    this.#signer = key.signer;
    this.#tag = tag;
  }

  /** size is the published tree size. */
  get size(): bigint {
    return this.#edge.size;
  }

  /** key is the log's signing key, to build a fork (same key, another history). */
  get key(): { vkey: string; signer: Ed25519Signer } {
    return { vkey: this.vkey, signer: this.#signer };
  }

  /** grow appends leaves up to `size` (leaf i of tag t is hashLeaf("t i")), writes the tiles and publishes the checkpoint. */
  grow(size: number, tagFrom?: { tag: string; fromIndex: number }): this {
    const leaves: Hash[] = [];
    for (let i = Number(this.#edge.size); i < size; i++) {
      const tag = tagFrom !== undefined && i >= tagFrom.fromIndex ? tagFrom.tag : this.#tag;
      leaves.push(hashLeaf(new TextEncoder().encode(`${tag} ${i}`)));
    }
    const { tiles, edge } = appendLeafHashes(this.#edge, leaves);
    for (const t of tiles) this.files.set(formatTilePath(t.tile), t.data);
    this.#edge = edge;
    this.#roots.set(edge.size, rootFromTileEdge(edge));
    this.publish(edge.size);
    return this;
  }

  /** checkpointNote is the signed checkpoint of a size this log published. */
  checkpointNote(size: bigint): string {
    const root = this.#roots.get(size);
    if (root === undefined) throw new Error(`size ${size} was never published`);
    return signNote(formatCheckpoint({ origin: this.origin, size, root }), [this.#signer]);
  }

  /** publish serves the checkpoint of an earlier published size (a lagging or rolled-back log). */
  publish(size: bigint): void {
    this.files.set('checkpoint', new TextEncoder().encode(this.checkpointNote(size)));
  }
}

/** TileLogServer serves `log.files` under `<url>/`; `override` answers chosen paths differently. */
export interface TileLogServer {
  /** url is the log's tlog-tiles prefix. */
  readonly url: string;
  /** log is what is served; swap it to serve another history. */
  log: TileLog;
  /** override maps a path to bytes to serve instead, or to a status to answer. */
  readonly override: Map<string, Uint8Array | number>;
  /** fetched lists the paths requested, in order. */
  readonly fetched: string[];
  close(): Promise<void>;
}

/** StaticFiles is what serveStaticFiles answers from; it is read again at every request. */
export interface StaticFiles {
  /** files maps a path under the prefix to its bytes. */
  files(): ReadonlyMap<string, Uint8Array>;
  /** override maps a path to bytes to serve instead, or to a status to answer. */
  readonly override: ReadonlyMap<string, Uint8Array | number>;
  /** onRequest sees every request's path (empty outside the prefix) before it is answered. */
  onRequest?(path: string): void | Promise<void>;
}

/**
 * serveStaticFiles starts an HTTP server on 127.0.0.1 answering `<url>/<path>` from `source` (404
 * for a path it does not have); close() drops open connections too.
 */
export async function serveStaticFiles(source: StaticFiles, prefix = 'log'): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const url = req.url ?? '';
    const path = url.startsWith(`/${prefix}/`) ? url.slice(prefix.length + 2) : '';
    await source.onRequest?.(path);
    const data = source.override.get(path) ?? source.files().get(path);
    if (typeof data === 'number' || data === undefined) {
      res.writeHead(typeof data === 'number' ? data : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length }).end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${prefix}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** serveTileLog starts an HTTP server on 127.0.0.1 serving `log` at `/<prefix>/`. */
export async function serveTileLog(log: TileLog, prefix = 'log'): Promise<TileLogServer> {
  const state = { log, override: new Map<string, Uint8Array | number>(), fetched: [] as string[] };
  const server = await serveStaticFiles({ files: () => state.log.files, override: state.override, onRequest: (path) => void state.fetched.push(path) }, prefix);
  return {
    url: server.url,
    get log() {
      return state.log;
    },
    set log(l: TileLog) {
      state.log = l;
    },
    override: state.override,
    fetched: state.fetched,
    close: server.close,
  };
}
