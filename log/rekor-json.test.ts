import { describe, expect, it } from 'vitest';
import { describeVectors, readVectorJson } from '../test/vectors.ts';
import { decodeBase64, decodeHex, encodeHex } from '../tlog/base64.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { hashLeaf } from '../tlog/merkle.ts';
import { parseVerifierKey } from '../tlog/note-key.ts';
import { verifyInclusion } from '../tlog/proof.ts';
import { isLogError } from './errors.ts';
import {
  formatConsistencyProof, formatEntryUuid, formatLogInfo, formatTransparencyLogEntry, formatV1LogEntry, parseEntryUuid, rekorLogIds,
} from './rekor-json.ts';
import { computeLogId } from './set.ts';

// The response body of a real rekor-tiles CreateEntry on log2025-1.rekor.sigstore.dev, as recorded
// by sigstore/sigstore-js @ 249c70e0, packages/sign/src/__tests__/external/rekor-v2.test.ts; the
// same entry is the first vector of shared/vectors/rekor/rekor-v2-inclusion.json.
const REKOR_V2_RESPONSE = {
  logIndex: '412114',
  logId: { keyId: 'zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=' },
  kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
  integratedTime: '0',
  inclusionPromise: null,
  inclusionProof: {
    logIndex: '412114',
    rootHash: '+8vUkEgBK/ansexBUomzocaWoPEmPIzxJC/y+xNMQN4=',
    treeSize: '412115',
    hashes: [
      'KIoYVJ0TqmaEkFboP7YWTjSh8vFjVECmokcTOAByfIM=', 'Umf0h0cK2hegTzNnSgsXszyiA4bp5OvEvP+GrWq3C8w=', 'vNQeSNBfepYZI2Ez3ViKdCft0JH87ZS8IGKwixxUVjc=',
      'JBAugd5awOqmHXIKgz1MOjlR5f37VqmP0bWoRVcHX5M=', 'xYH2mAxGxfOgvSOLnItT2LsJt+Z2a2egjf8QJFwK7jA=', 'PbZWM3NitzChx9A22m/kddDtzh2bAKX5Fy7j76l3z2k=',
      'sKX9Sbsahvw5DiC2oP6pbZsDi1NzuNS1nIULXkCC57o=', 'pfTCxXHnCM253jwYxVJcuUhmoTTtDxznn92QhN0M4Ws=', 'cJ8uk2ZvZyfg+HRILKOHcyHu2pvI8Fz3R1MyMvyzWtA=',
    ],
    checkpoint: {
      envelope: 'log2025-1.rekor.sigstore.dev\n412115\n+8vUkEgBK/ansexBUomzocaWoPEmPIzxJC/y+xNMQN4=\n\n— log2025-1.rekor.sigstore.dev zxGZFahCZ/+MqTjH4rC5MWcdLDWbpetE5l30RZfQc4BQkRjWSoKipEUPjvHENeZDHIlAsuezJcLzUVvItpNjaSRoMAs=\n',
    },
  },
  canonicalizedBody:
    'eyJhcGlWZXJzaW9uIjoiMC4wLjIiLCJraW5kIjoiaGFzaGVkcmVrb3JkIiwic3BlYyI6eyJoYXNoZWRSZWtvcmRWMDAyIjp7ImRhdGEiOnsiYWxnb3JpdGhtIjoiU0hBMl8yNTYiLCJkaWdlc3QiOiI1ZEoyU2FrVWVPWFk0dXQxaEJIUG9teitoVG42dGMwS1R6Y0dvc0ErZXBFPSJ9LCJzaWduYXR1cmUiOnsiY29udGVudCI6Ik1FWUNJUURjSk84Mm56MXJydHUxRHhTcHJ1WDFvZ0p1bThkbDRJaUdCTVB6M2pZY2JnSWhBS3dROHdOdTFPbjhwWWZoQUpDSzhPcVQwT09HVGgveUFRK0FuL2UzZC9kVSIsInZlcmlmaWVyIjp7ImtleURldGFpbHMiOiJQS0lYX0VDRFNBX1AyNTZfU0hBXzI1NiIsInB1YmxpY0tleSI6eyJyYXdCeXRlcyI6Ik1Ga3dFd1lIS29aSXpqMENBUVlJS29aSXpqMERBUWNEUWdBRTBxOVErdGRHMTk1Q1hLZm1VeDFZYXR2Wi9tTjNyaGpwT2ZtMWx2c2tXcHJIOVB4cGU5WGM2TGpFSmJCY1ZQaHV0a2ZVdkJCOVJEays0MlNORTYvNXhnPT0ifX19fX19',
};

interface RekorV2Vector {
  log_index: number;
  tree_size: number;
  root_hash_b64: string;
  inclusion_proof_b64: string[];
  checkpoint_note: string;
  log_vkey: string;
  entry_b64: string;
  leaf_hash_hex: string;
}

function provenFrom(v: RekorV2Vector) {
  return {
    index: BigInt(v.log_index),
    body: decodeBase64(v.entry_b64),
    integratedTime: 0,
    checkpoint: v.checkpoint_note,
    size: BigInt(v.tree_size),
    root: decodeBase64(v.root_hash_b64),
    inclusionProof: v.inclusion_proof_b64.map((h) => decodeBase64(h)),
  };
}

describeVectors('formatTransparencyLogEntry (shared/vectors/rekor/rekor-v2-inclusion.json)', () => {
  const { vectors } = readVectorJson<{ vectors: RekorV2Vector[] }>('rekor/rekor-v2-inclusion.json');

  it('writes what rekor-tiles wrote for the same entry, member for member', () => {
    const v = vectors[0]!;
    const vkey = parseVerifierKey(v.log_vkey);
    const ids = rekorLogIds(computeLogId(vkey.name, vkey.publicKey));
    const tle = formatTransparencyLogEntry(ids, { kind: 'hashedrekord', apiVersion: '0.0.2' }, provenFrom(v));
    expect(JSON.stringify(tle)).toBe(JSON.stringify(REKOR_V2_RESPONSE));
  });

  it('gives entries that verify as a client verifies them, for every real entry', () => {
    for (const v of vectors) {
      const vkey = parseVerifierKey(v.log_vkey);
      const ids = rekorLogIds(computeLogId(vkey.name, vkey.publicKey));
      const tle = formatTransparencyLogEntry(ids, { kind: 'hashedrekord', apiVersion: '0.0.2' }, provenFrom(v));
      const leaf = hashLeaf(decodeBase64(tle.canonicalizedBody));
      expect(encodeHex(leaf)).toBe(v.leaf_hash_hex);
      // Root and size from the verified checkpoint, index from the top level (CLIENTS.md).
      const cp = openCheckpoint(tle.inclusionProof.checkpoint.envelope, [vkey], { origin: vkey.name }).checkpoint;
      verifyInclusion(leaf, BigInt(tle.logIndex), cp.size, tle.inclusionProof.hashes.map((h) => decodeBase64(h)), cp.root);
      expect(encodeHex(decodeBase64(tle.logId.keyId).subarray(0, 4))).toBe(vkey.keyId.toString(16).padStart(8, '0'));
    }
  });
});

describe('Rekor v1 shapes', () => {
  const ids = rekorLogIds(decodeHex('cf1199155bddd051268d1f16ac5c0c75c009f6fb5a63f4177f8e18d7051e3fa0'));
  const leaf = decodeHex('d8528bd7a2162203357792a5766ffc9d41e62d7b80d3919e3b4f2fb35fed9d50');

  it('names entries by tree ID and leaf hash, and parses 64- and 80-hex UUIDs', () => {
    expect(ids.treeId).toBe(0x4f1199155bddd051n);
    const uuid = formatEntryUuid(ids, leaf);
    expect(uuid).toBe('4f1199155bddd051d8528bd7a2162203357792a5766ffc9d41e62d7b80d3919e3b4f2fb35fed9d50');
    expect(parseEntryUuid(ids, uuid)).toEqual(leaf);
    expect(parseEntryUuid(ids, uuid.slice(16))).toEqual(leaf);
    expect(parseEntryUuid(ids, uuid.toUpperCase())).toEqual(leaf);
    expect(parseEntryUuid(ids, `0000000000000001${uuid.slice(16)}`)).toBeUndefined();
    for (const bad of ['', uuid.slice(1), `${uuid}0`, `${uuid.slice(0, -1)}g`, ` ${uuid.slice(16)}`, `${uuid.slice(8)}`]) {
      expect(() => parseEntryUuid(ids, bad)).toThrow(/64 or 80 hex digits/);
    }
  });

  it('formats LogEntry, LogInfo and ConsistencyProof with hex hashes and JSON numbers', () => {
    const e = { index: 7n, body: new TextEncoder().encode('{}'), integratedTime: 1_795_000_000, checkpoint: 'cp\n', size: 9n, root: leaf, inclusionProof: [leaf, leaf] };
    const uuid = formatEntryUuid(ids, hashLeaf(e.body));
    expect(formatV1LogEntry(ids, uuid, e, new Uint8Array([1, 2]))).toEqual({
      [uuid]: {
        body: 'e30=',
        integratedTime: 1_795_000_000,
        logID: encodeHex(ids.logId),
        logIndex: 7,
        verification: {
          signedEntryTimestamp: 'AQI=',
          inclusionProof: { logIndex: 7, rootHash: encodeHex(leaf), treeSize: 9, hashes: [encodeHex(leaf), encodeHex(leaf)], checkpoint: 'cp\n' },
        },
      },
    });
    expect(formatLogInfo(ids, { checkpoint: 'cp\n', size: 9n, root: leaf })).toEqual({ rootHash: encodeHex(leaf), treeSize: 9, signedTreeHead: 'cp\n', treeID: '5697503320615014481' });
    expect(formatConsistencyProof({ lastRoot: leaf, proof: [leaf] })).toEqual({ rootHash: encodeHex(leaf), hashes: [encodeHex(leaf)] });
    let err: unknown;
    try {
      formatV1LogEntry(ids, uuid, { ...e, index: 2n ** 53n }, new Uint8Array(0));
    } catch (e2) {
      err = e2;
    }
    expect(isLogError(err, 'invalid_argument')).toBe(true);
  });
});
