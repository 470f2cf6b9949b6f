// Findings about a log itself (not about a signer): 'log-misbehaviour' carries the signed notes
// that prove it (two checkpoints that cannot both be honest, a note whose signature fails, a
// checkpoint whose tiles do not hold an entry); 'health' says the monitor cannot advance. Keys come
// from the facts, so a condition that persists across polls is one finding, not one per poll.
import { createHash } from 'node:crypto';
import { logFindingKey, type Finding } from './findings.ts';

/** NoteEvidence is a signed note and where it came from (the log, or a witness's URL). */
export interface NoteEvidence {
  source: string;
  note: string;
}

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex');

function logFinding(
  kind: 'log-misbehaviour' | 'health',
  origin: string,
  facts: string,
  summary: string,
  details: Record<string, unknown>,
  now: Date,
): Finding {
  return { key: logFindingKey(kind, origin, facts), kind, logOrigin: origin, index: null, ruleId: null, subscriberId: null, summary, details, observedAt: now };
}

/** badSignatureFinding: the log served a checkpoint that does not verify with its key(s). */
export function badSignatureFinding(origin: string, evidence: NoteEvidence, reason: string, now: Date): Finding {
  return logFinding('log-misbehaviour', origin, `bad-signature\n${digest(evidence.note)}`, `checkpoint from ${evidence.source} does not verify with the log's key: ${reason}`, { check: 'bad_signature', reason, notes: [evidence] }, now);
}

/** noQuorumFinding: a checkpoint lacks the witness policy's quorum of valid cosignatures. */
export function noQuorumFinding(origin: string, size: bigint, evidence: NoteEvidence, cosignedBy: readonly string[], now: Date): Finding {
  return logFinding(
    'health',
    origin,
    `no-quorum\n${digest(evidence.note)}`,
    `checkpoint of size ${size} lacks the witness quorum (valid cosignatures from: ${cosignedBy.join(', ') || 'none'}); the monitor does not advance`,
    { check: 'no_quorum', size: size.toString(), cosignedBy, notes: [evidence] },
    now,
  );
}

/**
 * inconsistentFinding: two checkpoints, each validly signed by the log, that cannot both be
 * honest (a rewritten history, a same-size fork, a split view shown to a witness).
 */
export function inconsistentFinding(
  origin: string,
  check: 'inconsistent' | 'split_view',
  a: NoteEvidence,
  b: NoteEvidence,
  reason: string,
  now: Date,
): Finding {
  const [x, y] = [digest(a.note), digest(b.note)].sort();
  const what = check === 'split_view' ? 'split view' : 'inconsistent checkpoints';
  return logFinding('log-misbehaviour', origin, `${check}\n${x}\n${y}`, `${what}: ${reason}`, { check, reason, notes: [a, b] }, now);
}

/** badTreeFinding: a tile or an entry bundle does not authenticate against a verified checkpoint. */
export function badTreeFinding(
  origin: string,
  check: 'bad_tile' | 'bad_entries',
  where: string,
  evidence: NoteEvidence,
  reason: string,
  now: Date,
): Finding {
  return logFinding('log-misbehaviour', origin, `${check}\n${where}\n${digest(evidence.note)}`, `${where} does not match the verified checkpoint: ${reason}`, { check, where, reason, notes: [evidence] }, now);
}

/** unreachableFinding: the log has not answered with a verifiable checkpoint for too long. */
export function unreachableFinding(origin: string, lastSize: bigint | undefined, sinceMs: number, reason: string, now: Date): Finding {
  const since = new Date(sinceMs).toISOString();
  return logFinding(
    'health',
    origin,
    `unreachable\n${lastSize ?? 'none'}\n${since}`,
    `no verifiable checkpoint since ${since} (last verified size ${lastSize ?? 'none'}): ${reason}`,
    { check: 'unreachable', lastSize: lastSize?.toString() ?? null, since, reason },
    now,
  );
}
