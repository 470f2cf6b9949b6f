// merkle-probes.ts reads transparency-dev/merkle's probe files (testdata/inclusion, consistency,
// subtreeinclusion, subtreeconsistency): each a JSON { probes: [...] } of verifier inputs and
// whether the verifier must refuse them.
import { b64, readVectorText } from './vectors.ts';

/**
 * readProbes parses the probes of a vector file. The files carry uint64 values above 2^53 (e.g.
 * 2^64 − 1) that JSON.parse would round, so the integer fields named in `bigintFields` are quoted
 * before parsing; the probe holds them as decimal strings, to read back with BigInt.
 */
export function readProbes<T>(rel: string, bigintFields: readonly string[]): T[] {
  if (bigintFields.length === 0 || !bigintFields.every((f) => /^\w+$/.test(f))) {
    throw new Error(`readProbes: bad field names ${JSON.stringify(bigintFields)}`);
  }
  const quote = new RegExp(`("(?:${bigintFields.join('|')})"\\s*:\\s*)(\\d+)`, 'g');
  const text = readVectorText(rel).replace(quote, '$1"$2"');
  return (JSON.parse(text) as { probes: T[] }).probes;
}

/** probeHash decodes a probe's base64 hash; a missing one (null) is the empty byte string. */
export function probeHash(s: string | null | undefined): Uint8Array {
  return b64(s ?? '');
}

/** probeProof decodes a probe's proof; a missing proof is empty and a missing hash in it is empty. */
export function probeProof(p: Array<string | null> | null): Uint8Array[] {
  return (p ?? []).map(probeHash);
}
