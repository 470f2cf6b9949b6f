// The JSON shapes of the Rekor-compatible API (research notes 1.1, 2.1, 5.5): Rekor v1's LogEntry
// map, LogInfo and ConsistencyProof (hex hashes, JSON numbers), and rekor-tiles' v2
// TransparencyLogEntry in protobuf JSON (lowerCamelCase names, int64 as decimal strings, bytes as
// standard base64). Pure formatting: the HTTP layer passes in what the log returned.
import { decodeHex, encodeBase64, encodeHex } from '../tlog/base64.ts';
import type { Hash } from '../tlog/merkle.ts';
import { LogError } from './errors.ts';
import type { EntryApiVersion, EntryKind } from './kinds/verified-entry.ts';
import { LOG_ID_BYTES } from './set.ts';

/** RekorLogIds names the log to Rekor clients: its 32-byte log ID and its Rekor tree ID. */
export interface RekorLogIds {
  /** logId is the full C2SP key ID of the checkpoint key (set.ts, computeLogId). */
  readonly logId: Uint8Array;
  /**
   * treeId stands for Rekor's Trillian tree ID (GET /api/v1/log `treeID`, the 16-hex prefix of
   * 80-hex entry UUIDs): the first 8 bytes of the log ID with the top bit cleared, a positive int64
   * that names this log and key and needs no storage.
   */
  readonly treeId: bigint;
}

/** rekorLogIds derives the tree ID from a log ID. */
export function rekorLogIds(logId: Uint8Array): RekorLogIds {
  if (logId.length !== LOG_ID_BYTES) throw new LogError('invalid_argument', `a log ID is ${LOG_ID_BYTES} bytes`);
  const first = Buffer.from(logId.buffer, logId.byteOffset, 8).readBigUInt64BE();
  return { logId, treeId: first & 0x7fff_ffff_ffff_ffffn };
}

/** ProvenEntry is an entry with its place in the log and an inclusion proof against `checkpoint`. */
export interface ProvenEntry {
  readonly index: bigint;
  /** body is the canonical body: the exact leaf bytes. */
  readonly body: Uint8Array;
  /** integratedTime is the Unix time, in seconds, of the batch that integrated the entry. */
  readonly integratedTime: number;
  readonly checkpoint: string;
  readonly size: bigint;
  readonly root: Hash;
  /** inclusionProof is the RFC 9162 audit path, leaf to root. */
  readonly inclusionProof: readonly Hash[];
}

/** formatEntryUuid is Rekor's EntryID: 16 hex digits of the tree ID, then the 64-hex leaf hash. */
export function formatEntryUuid(ids: RekorLogIds, leafHash: Hash): string {
  return ids.treeId.toString(16).padStart(16, '0') + encodeHex(leafHash);
}

const UUID = /^(?:[0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/;

/**
 * parseEntryUuid reads an entry UUID from a request path (attacker-controlled): 64 hex digits (the
 * leaf hash) or 80 (tree ID then leaf hash, Rekor's EntryID). Returns the leaf hash, or undefined
 * when an 80-digit UUID names another tree (no such entry here). Throws LogError
 * 'invalid_argument' for anything else.
 */
export function parseEntryUuid(ids: RekorLogIds, uuid: string): Hash | undefined {
  if (!UUID.test(uuid)) throw new LogError('invalid_argument', 'an entry UUID is 64 or 80 hex digits');
  const leaf = uuid.slice(-64);
  if (uuid.length === 80 && BigInt(`0x${uuid.slice(0, 16)}`) !== ids.treeId) return undefined;
  return decodeHex(leaf);
}

/** jsonNumber turns a uint64 into a JSON number, refusing values a double cannot hold exactly. */
function jsonNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new LogError('invalid_argument', `${what} ${v} does not fit a JSON number`);
  return Number(v);
}

/** RekorV1Entry is the value of a v1 LogEntry map (openapi.yaml LogEntry). */
export interface RekorV1Entry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: { logIndex: number; rootHash: string; treeSize: number; hashes: string[]; checkpoint: string };
  };
}

/**
 * formatV1LogEntry returns Rekor v1's `{<uuid>: LogEntry}` for an entry and its SET. There is one
 * shard, so the global and the shard-local index are the same.
 */
export function formatV1LogEntry(ids: RekorLogIds, uuid: string, e: ProvenEntry, set: Uint8Array): Record<string, RekorV1Entry> {
  const logIndex = jsonNumber(e.index, 'log index');
  return {
    [uuid]: {
      body: encodeBase64(e.body),
      integratedTime: e.integratedTime,
      logID: encodeHex(ids.logId),
      logIndex,
      verification: {
        signedEntryTimestamp: encodeBase64(set),
        inclusionProof: {
          logIndex,
          rootHash: encodeHex(e.root),
          treeSize: jsonNumber(e.size, 'tree size'),
          hashes: e.inclusionProof.map(encodeHex),
          checkpoint: e.checkpoint,
        },
      },
    },
  };
}

/** TransparencyLogEntryJson is dev.sigstore.rekor.v1.TransparencyLogEntry in protobuf JSON. */
export interface TransparencyLogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  /** inclusionPromise is always null: v2 entries carry no SET (rekor-tiles writes the null). */
  inclusionPromise: null;
  inclusionProof: {
    logIndex: string;
    rootHash: string;
    treeSize: string;
    hashes: string[];
    checkpoint: { envelope: string };
  };
  canonicalizedBody: string;
}

/**
 * formatTransparencyLogEntry returns the v2 response for an entry, member for member as rekor-tiles
 * writes it: integratedTime "0" and inclusionPromise null (v2 entries carry no SET; clients get
 * their time from an RFC 3161 timestamp), logId.keyId the full 32-byte log ID in base64.
 */
export function formatTransparencyLogEntry(
  ids: RekorLogIds,
  kind: { kind: EntryKind; apiVersion: EntryApiVersion },
  e: ProvenEntry,
): TransparencyLogEntryJson {
  const logIndex = e.index.toString();
  return {
    logIndex,
    logId: { keyId: encodeBase64(ids.logId) },
    kindVersion: { kind: kind.kind, version: kind.apiVersion },
    integratedTime: '0',
    inclusionPromise: null,
    inclusionProof: {
      logIndex,
      rootHash: encodeBase64(e.root),
      treeSize: e.size.toString(),
      hashes: e.inclusionProof.map(encodeBase64),
      checkpoint: { envelope: e.checkpoint },
    },
    canonicalizedBody: encodeBase64(e.body),
  };
}

/** LogInfoJson is Rekor v1's GET /api/v1/log answer (one shard: no inactiveShards). */
export interface LogInfoJson {
  rootHash: string;
  treeSize: number;
  signedTreeHead: string;
  treeID: string;
}

/** formatLogInfo returns Rekor v1's LogInfo for the latest checkpoint. */
export function formatLogInfo(ids: RekorLogIds, latest: { checkpoint: string; size: bigint; root: Hash }): LogInfoJson {
  return {
    rootHash: encodeHex(latest.root),
    treeSize: jsonNumber(latest.size, 'tree size'),
    signedTreeHead: latest.checkpoint,
    treeID: ids.treeId.toString(),
  };
}

/** ConsistencyProofJson is Rekor v1's GET /api/v1/log/proof answer. */
export interface ConsistencyProofJson {
  /** rootHash is the root of the tree of lastSize, hex. */
  rootHash: string;
  hashes: string[];
}

/** formatConsistencyProof returns Rekor v1's ConsistencyProof. */
export function formatConsistencyProof(p: { lastRoot: Hash; proof: readonly Hash[] }): ConsistencyProofJson {
  return { rootHash: encodeHex(p.lastRoot), hashes: p.proof.map(encodeHex) };
}
