// What an alert says about a finding, read from the finding's `details` (monitor/findings.ts). The
// details carry the signing event as the monitor parsed it: every string in it was chosen by
// whoever signed the entry, so each value is read with its type checked, cut to a bound and
// cleaned of control, line-breaking and bidirectional characters (which could fake lines or
// reorder text in a security mail) before any template sees it.
import type { StoredFinding } from '../monitor/findings.ts';

/** MAX_FACT_LENGTH bounds each value shown in a mail. */
export const MAX_FACT_LENGTH = 300;

/** AlertClass separates alerts about signers from alerts about logs (worded apart). */
export type AlertClass = 'signer' | 'log-security' | 'log-health';

/** FindingFacts are the labelled, cleaned facts of one finding, in the order a mail shows them. */
export interface FindingFacts {
  seq: bigint;
  key: string;
  alertClass: AlertClass;
  kind: StoredFinding['kind'];
  /** headline is the one line saying what happened. */
  headline: string;
  /** facts are [label, value] rows: log, index, time, identity, issuer, workflow, digest, namespace. */
  facts: [string, string][];
  /** reason says why the entry was unexpected, or what the log did; may be empty. */
  reason: string;
  /** evidence is pretty JSON of a log finding's details (signed notes), cleaned; empty for entry findings. */
  evidence: string;
  /** entryUrl links to the entry with its inclusion proof; undefined for log findings. */
  entryUrl: string | undefined;
  /** signer is what "mark as expected" adds to a policy (unexpected-signer findings only). */
  signer: { issuer: string; san: string; workflow?: string } | undefined;
}

/** cleanText makes attacker-controlled text safe to show on one line: escapes controls, cuts to max. */
export function cleanText(value: string, max = MAX_FACT_LENGTH): string {
  // C0/C1 controls, line and paragraph separators, bidi embeddings/overrides/isolates, BOM.
  const cleaned = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}

/** findingFacts reads the facts of a finding; entryLink is the link template ({origin}, {index}). */
export function findingFacts(f: StoredFinding, entryLink: string): FindingFacts {
  // The monitor stores entry findings as { event: SigningEvent, value, reason } (monitor/worker.ts).
  const d: Record<string, unknown> = { ...obj(f.details.event), reason: f.details.reason, value: f.details.value };
  const identity = obj(d.identity);
  const ci = obj(identity.ci);
  const alertClass: AlertClass = f.kind === 'log-misbehaviour' ? 'log-security' : f.kind === 'health' ? 'log-health' : 'signer';
  const facts: [string, string][] = [['log', cleanText(f.logOrigin)]];
  if (f.index !== null) facts.push(['entry index', f.index.toString()]);
  const timeSec = typeof d.integratedTimeSec === 'number' && Number.isFinite(d.integratedTimeSec) ? d.integratedTimeSec : undefined;
  facts.push(timeSec !== undefined ? ['time', `${isoOrEmpty(timeSec * 1000)} (integrated by the log)`] : ['time', `${f.observedAt.toISOString()} (seen by the monitor)`]);
  if (d.entryKind === 'precertificate') facts.push(['entry', 'precertificate: the CA logged a certificate it issued for this identity']);
  push(facts, 'identity', str(identity.san));
  push(facts, 'issuer', str(identity.issuer));
  push(facts, 'workflow', str(ci.workflowRef) ?? str(ci.workflow));
  push(facts, 'repository', str(ci.repository));
  push(facts, 'key fingerprint', identity.kind === 'key' ? undefined : str(d.keyFingerprint));
  for (const a of arr(d.artifactDigests).slice(0, 5)) push(facts, 'artifact digest', `${str(obj(a).algorithm) ?? '?'}:${str(obj(a).hex) ?? '?'}`);
  for (const n of arr(d.namespaces).slice(0, 5)) push(facts, 'namespace', str(obj(n).value));
  const san = str(identity.san);
  const issuer = str(identity.issuer);
  const workflow = str(ci.workflow);
  return {
    seq: f.seq,
    key: f.key,
    alertClass,
    kind: f.kind,
    headline: headlineOf(f, str(identity.san), str(d.value)),
    facts,
    reason: cleanText(str(d.reason) ?? '', 1000),
    evidence: alertClass === 'signer' ? '' : evidenceOf(f.details),
    entryUrl: f.index === null ? undefined : entryLink.replaceAll('{origin}', encodeURI(f.logOrigin)).replaceAll('{index}', f.index.toString()),
    signer: f.kind === 'unexpected-signer' && san !== undefined && issuer !== undefined && identity.kind !== 'key'
      ? { issuer: raw(identity.issuer), san: raw(identity.san), ...(workflow !== undefined ? { workflow: raw(ci.workflow) } : {}) }
      : undefined,
  };
}

// headlineOf says what happened in one line; the monitor's summary (its reason) follows as "why".
function headlineOf(f: StoredFinding, san: string | undefined, value: string | undefined): string {
  const where = `in ${cleanText(f.logOrigin, 100)} at index ${f.index ?? '?'}`;
  const who = san ?? 'someone';
  switch (f.kind) {
    case 'unexpected-signer': return `Unexpected signer ${who} for ${value ?? 'a namespace you protect'} ${where}`;
    case 'identity-used': return `Your watched identity ${value ?? who} signed an entry ${where}`;
    case 'namespace-used': return `${who} signed for your watched namespace ${value ?? ''} ${where}`;
    case 'key-used': return `Your watched key ${value ?? ''} signed an entry ${where}`;
    default: return cleanText(f.summary, 300);
  }
}

function evidenceOf(d: Record<string, unknown>): string {
  const text = JSON.stringify(d, null, 2) ?? '';
  const cut = text.length > 8000 ? `${text.slice(0, 8000)}\n…` : text;
  // Keep the line structure of the pretty JSON; JSON already escapes controls inside strings.
  return cut.split('\n').map((l) => cleanText(l, 2000)).join('\n');
}

function push(facts: [string, string][], label: string, value: string | undefined): void {
  if (value !== undefined && value !== '') facts.push([label, value]);
}

function isoOrEmpty(ms: number): string {
  const t = new Date(ms);
  return Number.isNaN(t.getTime()) ? '' : t.toISOString();
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? cleanText(v) : undefined;
}

// raw returns the value as the log has it (bounded), for a policy: a cleaned copy would not match.
function raw(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, 1024) : '';
}
