// in-toto.ts reads the subjects of an in-toto Statement (github.com/in-toto/attestation, spec/v1:
// Statement {_type, subject: [ResourceDescriptor {name, uri, digest}], predicateType, predicate};
// v0.1 subjects have only name and digest). A subject whose name or uri is a purl
// ("pkg:npm/%40scope/name@1.0.0", as npm provenance and GitHub attestations write them) becomes a
// namespace; its sha256/sha384/sha512 digests become artifact digests.
//
// Log leaves do not carry DSSE payloads (dsse 0.0.1 and 0.0.2 bodies keep only payloadHash), so
// this runs only when a caller has the envelope and it hashes to the entry's payloadHash.
import { MonitorError } from './errors.ts';
import type { ArtifactDigest } from './signing-event.ts';

/** MAX_STATEMENT_BYTES bounds a statement read for subjects (1 MiB). */
export const MAX_STATEMENT_BYTES = 1 << 20;
/** MAX_SUBJECTS bounds the subjects read from one statement. */
export const MAX_SUBJECTS = 1024;

/** StatementSubjects are what an in-toto statement's subjects contribute to a SigningEvent. */
export interface StatementSubjects {
  digests: ArtifactDigest[];
  purls: string[];
}

const STATEMENT_TYPES = new Set(['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1']);
const HEX_LENGTH: Readonly<Record<ArtifactDigest['algorithm'], number>> = { sha256: 64, sha384: 96, sha512: 128 };
const MAX_PURL_LENGTH = 2048;

/**
 * parseStatementSubjects reads payload (attacker-controlled) as an in-toto Statement and returns
 * its subjects' digests and purls, deduplicated. A payload that is not a JSON statement has no
 * subjects (DSSE carries other things too); a statement over MAX_STATEMENT_BYTES or with more than
 * MAX_SUBJECTS subjects throws MonitorError('unparseable_entry'), since dropping subjects would let
 * a signing escape a namespace's watch.
 */
export function parseStatementSubjects(payload: Uint8Array): StatementSubjects {
  const out: StatementSubjects = { digests: [], purls: [] };
  if (payload.length > MAX_STATEMENT_BYTES) {
    throw new MonitorError('unparseable_entry', `DSSE payload is ${payload.length} bytes, over the limit of ${MAX_STATEMENT_BYTES}`);
  }
  let statement: unknown;
  try {
    statement = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return out;
  }
  if (!isObject(statement) || typeof statement._type !== 'string' || !STATEMENT_TYPES.has(statement._type)) return out;
  const subjects = statement.subject;
  if (!Array.isArray(subjects)) return out;
  if (subjects.length > MAX_SUBJECTS) {
    throw new MonitorError('unparseable_entry', `in-toto statement has ${subjects.length} subjects, over the limit of ${MAX_SUBJECTS}`);
  }
  const seen = new Set<string>();
  for (const s of subjects) {
    if (!isObject(s)) continue;
    for (const p of [s.name, s.uri]) {
      if (typeof p === 'string' && p.length <= MAX_PURL_LENGTH && p.slice(0, 4).toLowerCase() === 'pkg:' && !seen.has(p)) {
        seen.add(p);
        out.purls.push(p);
      }
    }
    if (isObject(s.digest)) addDigests(s.digest, out.digests, seen);
  }
  return out;
}

function addDigests(digest: Record<string, unknown>, out: ArtifactDigest[], seen: Set<string>): void {
  for (const algorithm of ['sha256', 'sha384', 'sha512'] as const) {
    const v = digest[algorithm];
    if (typeof v !== 'string' || v.length !== HEX_LENGTH[algorithm] || !/^[0-9a-fA-F]+$/.test(v)) continue;
    const hex = v.toLowerCase();
    if (seen.has(`${algorithm}:${hex}`)) continue;
    seen.add(`${algorithm}:${hex}`);
    out.push({ algorithm, hex });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
