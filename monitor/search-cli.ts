// `vigil search`: query a monitor's search API and print what verifies. Every result's leaf is
// proved into its log's checkpoint and re-parsed here (search-verify.ts) before anything is
// printed; one result that fails stops the command with exit status 1.
import type { Command } from 'commander';
import { errorMessage } from '../log/errors.ts';
import type { NoteVerifier } from '../tlog/note.ts';
import { parseVerifierKey } from '../tlog/note-key.ts';
import { isMonitorError, MonitorError } from './errors.ts';
import { parseTimeParam } from './search-http.ts';
import { verifySearchResult, type VerifiedResult } from './search-verify.ts';
import type { SearchQuery } from './search.ts';

/** MAX_RESPONSE_BYTES bounds a search response read by the client (100 results of ≤ 64 KiB, base64). */
export const MAX_RESPONSE_BYTES = 16 << 20;
/** SEARCH_TIMEOUT_MS bounds one search request. */
export const SEARCH_TIMEOUT_MS = 30_000;

/** SearchCliOptions are `vigil search`'s options as commander parses them. */
export interface SearchCliOptions {
  url: string;
  digest?: string;
  identity?: string;
  identityPrefix?: string;
  issuer?: string;
  namespace?: string;
  key?: string;
  since?: string;
  until?: string;
  log?: string;
  limit?: string;
  cursor?: string;
  logKey?: string[];
  json?: boolean;
}

/** SearchCliResult is one page of verified results. */
export interface SearchCliResult {
  results: VerifiedResult[];
  nextCursor: string | null;
}

function queryOf(o: SearchCliOptions): { query: SearchQuery; params: URLSearchParams } {
  const params = new URLSearchParams();
  const q: SearchQuery = {};
  const set = (name: string, value: string | undefined, apply: (v: string) => void) => {
    if (value === undefined) return;
    params.set(name, value);
    apply(value);
  };
  set('digest', o.digest, (v) => (q.digest = v));
  set('identity', o.identity, (v) => (q.identity = v));
  set('identity_prefix', o.identityPrefix, (v) => (q.identityPrefix = v));
  set('issuer', o.issuer, (v) => (q.issuer = v));
  set('namespace', o.namespace, (v) => (q.namespace = v));
  set('key', o.key, (v) => (q.keyFingerprint = v));
  set('since', o.since, (v) => (q.sinceSec = parseTimeParam(v, 'since')));
  set('until', o.until, (v) => (q.untilSec = parseTimeParam(v, 'until')));
  set('log', o.log, (v) => (q.log = v));
  set('limit', o.limit, () => undefined);
  set('cursor', o.cursor, () => undefined);
  return { query: q, params };
}

function logKeysOf(vkeys: readonly string[]): Map<string, NoteVerifier[]> {
  // A vkey's name is the log's origin for Vigil and Rekor v2 logs; openCheckpoint checks the origin.
  const byOrigin = new Map<string, NoteVerifier[]>();
  for (const vkey of vkeys) {
    let v: NoteVerifier;
    try {
      v = parseVerifierKey(vkey);
    } catch (err) {
      throw new MonitorError('invalid_search', `--log-key ${JSON.stringify(vkey.slice(0, 80))} is not a verifier key: ${errorMessage(err)}`, { cause: err });
    }
    byOrigin.set(v.name, [...(byOrigin.get(v.name) ?? []), v]);
  }
  return byOrigin;
}

async function fetchPage(url: URL): Promise<{ results: unknown[]; next_cursor: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(SEARCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
  } catch (err) {
    throw new MonitorError('search_failed', `couldn't reach ${url.origin}: ${errorMessage(err)}`, { cause: err });
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > MAX_RESPONSE_BYTES) throw new MonitorError('search_failed', `the response is over ${MAX_RESPONSE_BYTES} bytes`);
  let body: any;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new MonitorError('search_failed', `the server answered ${res.status} with a body that is not JSON`);
  }
  if (res.status === 400) throw new MonitorError('invalid_search', `the server refused the query: ${String(body?.message).slice(0, 500)}`);
  if (!res.ok) throw new MonitorError('search_failed', `the server answered ${res.status}: ${String(body?.message).slice(0, 500)}`);
  if (!Array.isArray(body?.results)) throw new MonitorError('search_failed', 'the response has no results list');
  return body;
}

/**
 * runSearch queries the search API at o.url and verifies every result (throws MonitorError
 * 'unverified_result' at the first that fails, 'invalid_search' for bad options, 'search_failed'
 * when the server cannot be used).
 */
export async function runSearch(o: SearchCliOptions): Promise<SearchCliResult> {
  const { query, params } = queryOf(o);
  const logKeys = logKeysOf(o.logKey ?? []);
  let url: URL;
  try {
    url = new URL('api/v1/search', o.url.endsWith('/') ? o.url : `${o.url}/`);
  } catch {
    throw new MonitorError('invalid_search', `--url ${JSON.stringify(o.url)} is not a URL`);
  }
  url.search = params.toString();
  const page = await fetchPage(url);
  const results = page.results.map((r) => verifySearchResult(r, query, logKeys));
  return { results, nextCursor: typeof page.next_cursor === 'string' ? page.next_cursor : null };
}

/** formatResultsJson renders verified results as JSON (bigints as decimal strings). */
export function formatResultsJson(out: SearchCliResult): string {
  const results = out.results.map((r) => ({
    log_origin: r.event.logOrigin,
    index: String(r.event.index),
    entry_kind: r.event.entryKind,
    identity: r.event.identity,
    key_fingerprint: r.event.keyFingerprint,
    artifact_digests: r.event.artifactDigests,
    namespaces: r.event.namespaces,
    signed_at: r.event.certificateNotBeforeSec ?? null,
    verified: { tree_size: String(r.treeSize), checkpoint_signature: r.signatureChecked, unchecked_criteria: r.unchecked },
  }));
  return `${JSON.stringify({ results, next_cursor: out.nextCursor }, null, 2)}\n`;
}

/** formatResultsTable renders verified results as an aligned text table. */
export function formatResultsTable(out: SearchCliResult): string {
  const rows = [['LOG', 'INDEX', 'KIND', 'IDENTITY', 'ISSUER', 'DIGEST', 'SIGNED AT']];
  for (const r of out.results) {
    const e = r.event;
    const signed = e.certificateNotBeforeSec === undefined ? '-' : new Date(e.certificateNotBeforeSec * 1000).toISOString();
    const digest = e.artifactDigests[0] ? `${e.artifactDigests[0].algorithm}:${e.artifactDigests[0].hex.slice(0, 16)}…` : '-';
    rows.push([e.logOrigin, String(e.index), e.entryKind, e.identity.san, e.identity.kind === 'key' ? '-' : e.identity.issuer, digest, signed]);
  }
  // Values come from certificates (attacker-controlled): control characters are shown escaped.
  const clean = rows.map((row) => row.map((c) => c.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)));
  const widths = clean[0]!.map((_, i) => Math.max(...clean.map((row) => row[i]!.length)));
  return clean.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/**
 * registerSearchCommands adds `vigil search --url URL [--digest D] [--identity I] [--identity-prefix P]
 * [--issuer U] [--namespace N] [--key FP] [--since T] [--until T] [--log ORIGIN] [--limit N]
 * [--cursor C] [--log-key VKEY]... [--json]`.
 */
export function registerSearchCommands(program: Command): void {
  program
    .command('search')
    .description("search a monitor's index; every result is proved into its log's checkpoint and re-parsed before it is printed")
    .requiredOption('--url <url>', 'the monitor search API base URL, e.g. http://127.0.0.1:8080')
    .option('--digest <hex>', 'artifact digest (hex, optionally sha256:/sha384:/sha512: prefixed)')
    .option('--identity <san>', 'signer identity: email, URI SAN or key fingerprint (exact, normalised)')
    .option('--identity-prefix <prefix>', 'signer identity prefix (at least 4 characters)')
    .option('--issuer <url>', 'OIDC issuer URL')
    .option('--namespace <ns>', 'namespace: purl (any version), repository URI or email domain')
    .option('--key <fingerprint>', 'key fingerprint: hex SHA-256 of the DER public key')
    .option('--since <time>', 'signed at or after: Unix seconds or RFC 3339')
    .option('--until <time>', 'signed at or before: Unix seconds or RFC 3339')
    .option('--log <origin>', 'only this log')
    .option('--limit <n>', 'results per page (1-100, default 20)')
    .option('--cursor <cursor>', 'continue after a previous page (printed as next cursor)')
    .option('--log-key <vkey>', "a log's checkpoint verifier key (repeatable); checkpoints of logs without one are not signature-checked", (v: string, acc: string[] = []) => [...acc, v])
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: SearchCliOptions) => {
      try {
        const out = await runSearch(opts);
        process.stdout.write(opts.json ? formatResultsJson(out) : formatResultsTable(out));
        const unsigned = new Set(out.results.filter((r) => !r.signatureChecked).map((r) => r.event.logOrigin));
        for (const origin of unsigned) process.stderr.write(`warning: no --log-key for ${origin}: its checkpoint signature was not checked\n`);
        if (!opts.json && out.nextCursor !== null) process.stderr.write(`next cursor: ${out.nextCursor}\n`);
      } catch (err) {
        process.stderr.write(`vigil search: ${errorMessage(err)}\n`);
        process.exit(isMonitorError(err, 'invalid_search') ? 2 : 1);
      }
    });
}
