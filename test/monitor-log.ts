// A tlog-tiles log WITH entry bundles, served on loopback, for the monitor's tests: tiles built with
// tlog/tile-writer.ts, bundles with tlog/entry-bundle.ts, checkpoints signed by a key made here and
// cosigned by witnesses made here. Every partial tile and bundle of every published size is kept,
// as a real log's storage would. Tests tamper with it (replace a file, fork the history, serve a
// witness another view) to produce each kind of misbehaviour. Also: signed hashedrekord leaves.
import { createHash, randomBytes } from 'node:crypto';
import { parseCreateEntryRequest } from '../log/kinds/entry.ts';
import { encodeBase64 } from '../tlog/base64.ts';
import { formatCheckpoint } from '../tlog/checkpoint.ts';
import { newCosignatureSigner, signCosignature, type CosignatureSigner } from '../tlog/cosignature.ts';
import { encodeEntryBundle } from '../tlog/entry-bundle.ts';
import { hashLeaf, type Hash } from '../tlog/merkle.ts';
import { signNote } from '../tlog/note.ts';
import { generateEd25519Seed, type Ed25519Signer } from '../tlog/note-ed25519.ts';
import { formatVerifierKey, generateSignerKey } from '../tlog/note-key.ts';
import { NOTE_KEY_TYPE_COSIGNATURE_V1 } from '../tlog/note-key-id.ts';
import { TILE_WIDTH, formatEntriesPath, formatTilePath } from '../tlog/tile.ts';
import { EMPTY_TILE_EDGE, appendLeafHashes, rootFromTileEdge, type TileEdge } from '../tlog/tile-writer.ts';
import { witnessCheckpointPath } from '../tlog/witness-request.ts';
import { hashedRekordV2Request, newTestKey, type TestKey } from './log-requests.ts';
import { serveStaticFiles } from './tile-log-server.ts';

/** TestWitness is a cosigner with its policy line. */
export interface TestWitness {
  name: string;
  signer: CosignatureSigner;
  vkey: string;
}

/** newTestWitness makes a witness key named `name`. */
export function newTestWitness(name: string): TestWitness {
  const signer = newCosignatureSigner(name, generateEd25519Seed());
  return { name, signer, vkey: formatVerifierKey({ name, type: NOTE_KEY_TYPE_COSIGNATURE_V1, publicKey: signer.publicKey }) };
}

/** EntryLog is one history of a log; `files` is its storage (path → bytes). */
export class EntryLog {
  readonly files = new Map<string, Uint8Array>();
  readonly entries: Uint8Array[] = [];
  readonly roots = new Map<bigint, Hash>();
  #edge: TileEdge = EMPTY_TILE_EDGE;

  /** The log signs with `key` (fresh if none); `cosigners` cosign every checkpoint it publishes. */
  constructor(
    readonly origin: string,
    readonly key: { vkey: string; signer: Ed25519Signer } = generateSignerKey(origin),
    public cosigners: TestWitness[] = [],
  ) {}

  get size(): bigint {
    return this.#edge.size;
  }

  /** append logs `bodies`, writes tiles and bundles (partial ones for this size too) and publishes. */
  append(bodies: readonly Uint8Array[]): this {
    const from = this.entries.length;
    this.entries.push(...bodies);
    const { tiles, edge } = appendLeafHashes(this.#edge, bodies.map((b) => hashLeaf(b)));
    for (const t of tiles) this.files.set(formatTilePath(t.tile), t.data);
    this.#edge = edge;
    this.roots.set(edge.size, rootFromTileEdge(edge));
    const size = this.entries.length;
    for (let b = Math.floor(from / TILE_WIDTH); b * TILE_WIDTH < size; b++) {
      const slice = this.entries.slice(b * TILE_WIDTH, Math.min((b + 1) * TILE_WIDTH, size));
      this.files.set(formatEntriesPath({ index: BigInt(b), width: slice.length }), encodeEntryBundle(slice));
    }
    this.publish(edge.size);
    return this;
  }

  /** checkpointNote is the signed (and cosigned) checkpoint of a published size. */
  checkpointNote(size: bigint, cosigners: readonly TestWitness[] = this.cosigners): string {
    const root = this.roots.get(size);
    if (root === undefined) throw new Error(`size ${size} was never published`);
    const text = formatCheckpoint({ origin: this.origin, size, root });
    const t = BigInt(Math.floor(Date.now() / 1000));
    return signNote(text, [this.key.signer]) + cosigners.map((w) => signCosignature(w.signer, text, t)).join('');
  }

  /** publish serves the checkpoint of a published size. */
  publish(size: bigint): void {
    this.files.set('checkpoint', new TextEncoder().encode(this.checkpointNote(size)));
  }

  /** fork returns a log with the same key and the first `keep` entries, to grow another history. */
  fork(keep: number): EntryLog {
    return new EntryLog(this.origin, this.key, this.cosigners).append(this.entries.slice(0, keep));
  }
}

/** FileServer serves a files map over loopback HTTP under `<url>/`; `files` may be swapped. */
export interface FileServer {
  readonly url: string;
  files: Map<string, Uint8Array>;
  /** override answers a path with other bytes or a status. */
  readonly override: Map<string, Uint8Array | number>;
  /** bundleDelayMs delays every entry-bundle answer (to catch workers mid-range). */
  bundleDelayMs: number;
  close(): Promise<void>;
}

/** serveFiles starts a server on 127.0.0.1 serving `files` (404 for anything else). */
export async function serveFiles(files: Map<string, Uint8Array>, prefix = 'log'): Promise<FileServer> {
  const state = { files, override: new Map<string, Uint8Array | number>(), bundleDelayMs: 0 };
  const delay = async (path: string) => {
    if (state.bundleDelayMs > 0 && path.startsWith('tile/entries/')) await new Promise((r) => setTimeout(r, state.bundleDelayMs));
  };
  const server = await serveStaticFiles({ files: () => state.files, override: state.override, onRequest: delay }, prefix);
  return {
    url: server.url,
    get files() {
      return state.files;
    },
    set files(f: Map<string, Uint8Array>) {
      state.files = f;
    },
    override: state.override,
    get bundleDelayMs() {
      return state.bundleDelayMs;
    },
    set bundleDelayMs(ms: number) {
      state.bundleDelayMs = ms;
    },
    close: server.close,
  };
}

/** witnessFiles is what a witness's monitoring prefix serves: its latest cosigned note of `origin`. */
export function witnessFiles(origin: string, note: string): Map<string, Uint8Array> {
  return new Map([[witnessCheckpointPath(origin), new TextEncoder().encode(note)]]);
}

/**
 * signedLeaves returns `n` hashedrekord 0.0.2 leaves (the exact canonical bodies Vigil's log
 * stores) signed by `key`, each over a fresh random message.
 */
export function signedLeaves(key: TestKey, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const req = hashedRekordV2Request(key, randomBytes(32));
    out.push(parseCreateEntryRequest(JSON.stringify(req), { trust: null, integrationTime: new Date() }).canonicalBody);
  }
  return out;
}

export { newTestKey, type TestKey };

/** keyFingerprint is the monitor's fingerprint of a test key: hex SHA-256 of its SPKI. */
export async function keyFingerprint(key: TestKey): Promise<string> {
  return createHash('sha256').update(key.spki).digest('hex');
}

/** b64 is standard base64 (for notes built by hand in tests). */
export const b64 = encodeBase64;
