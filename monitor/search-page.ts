// The search page (GET /search): a form (by digest, identity, identity prefix, namespace or issuer)
// whose results are fetched on the server from the search JSON API (search-http.ts, GET
// /api/v1/search) and checked as `vigil search` checks them (search-verify.ts: the inclusion proof
// against the checkpoint's root, the checkpoint's signature with the log's key when the page knows
// it, the re-parsed leaf against the query) before they are shown. What is shown is the re-parsed
// entry and its proof, never the server's description of it. Everything from the API (and so from
// log entries) is escaped by platform/page.ts `html`. No script is needed.
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../platform/logger.ts';
import { html, renderPage, sendPage, type SafeHtml } from '../platform/page.ts';
import type { NoteVerifier } from '../tlog/note.ts';
import type { InclusionProofJson } from './search-http.ts';
import { MAX_SEARCH_VALUE_LENGTH, type SearchQuery } from './search.ts';
import { verifySearchResult, type VerifiedResult } from './search-verify.ts';

/** SEARCH_PAGE_LIMIT is the number of results per page. */
export const SEARCH_PAGE_LIMIT = 20;
/** MAX_SEARCH_RESPONSE_BYTES bounds the API answer the page reads (100 results with proofs fit). */
export const MAX_SEARCH_RESPONSE_BYTES = 8 << 20;
/** DEFAULT_SEARCH_FETCH_TIMEOUT_MS bounds one call of the API. */
export const DEFAULT_SEARCH_FETCH_TIMEOUT_MS = 10_000;

/** SEARCH_BY are the criteria the form offers: API parameter → label and SearchQuery field. */
export const SEARCH_BY = {
  digest: { label: 'Artifact digest', field: 'digest' },
  identity: { label: 'Identity (exact)', field: 'identity' },
  identity_prefix: { label: 'Identity prefix', field: 'identityPrefix' },
  namespace: { label: 'Namespace (purl, repository, email domain)', field: 'namespace' },
  issuer: { label: 'OIDC issuer', field: 'issuer' },
} as const satisfies Record<string, { label: string; field: keyof SearchQuery }>;

type SearchBy = keyof typeof SEARCH_BY;

/** SearchPageDeps is where the page finds the API and the log keys it checks checkpoints with. */
export interface SearchPageDeps {
  /** searchUrl is the absolute URL of GET /api/v1/search. */
  searchUrl: string;
  /** logKeys maps a log origin to the verifiers of its checkpoints; a log not here is proved but its signature is not checked. */
  logKeys: ReadonlyMap<string, readonly NoteVerifier[]>;
  logger: Logger;
  fetchTimeoutMs?: number;
}

/** SearchForm is the page's query, read from the URL (caller input). */
export interface SearchForm {
  by: SearchBy;
  q: string;
  cursor: string | undefined;
}

/** ShownResult is one result: verified (with its raw proof for display) or the reason it failed. */
export type ShownResult =
  | { ok: true; verified: VerifiedResult; proof: InclusionProofJson }
  | { ok: false; label: string; reason: string };

function one(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** parseSearchForm reads by, q and cursor; returns an error message for input the page refuses. */
export function parseSearchForm(query: Request['query']): SearchForm | { error: string } {
  for (const name of ['by', 'q', 'cursor']) {
    if (query[name] !== undefined && typeof query[name] !== 'string') return { error: `${name} must be given once, as text` };
  }
  const by = one(query.by) ?? 'identity';
  const q = (one(query.q) ?? '').trim();
  const cursor = one(query.cursor);
  if (!Object.hasOwn(SEARCH_BY, by)) return { error: `unknown search field (accepted: ${Object.keys(SEARCH_BY).join(', ')})` };
  if (q.length > MAX_SEARCH_VALUE_LENGTH || (cursor !== undefined && cursor.length > MAX_SEARCH_VALUE_LENGTH)) return { error: 'the query is too long' };
  return { by: by as SearchBy, q, cursor: cursor === '' ? undefined : cursor };
}

function searchParams(f: SearchForm, extra: Record<string, string> = {}): URLSearchParams {
  const p = new URLSearchParams({ [f.by]: f.q, ...extra });
  if (f.cursor !== undefined) p.set('cursor', f.cursor);
  return p;
}

/** SearchAnswer is the API's answer as the page uses it. */
export type SearchAnswer = { kind: 'results'; results: unknown[]; nextCursor: string | undefined } | { kind: 'refused'; message: string } | { kind: 'unavailable'; message: string };

/** fetchSearch calls the API (its answer is untrusted: bounded, shape-checked, verified later). */
export async function fetchSearch(f: SearchForm, deps: SearchPageDeps): Promise<SearchAnswer> {
  let res: globalThis.Response;
  try {
    res = await fetch(`${deps.searchUrl}?${searchParams(f, { limit: String(SEARCH_PAGE_LIMIT) })}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(deps.fetchTimeoutMs ?? DEFAULT_SEARCH_FETCH_TIMEOUT_MS),
    });
  } catch (err) {
    deps.logger.warn({ err }, "couldn't reach the search API");
    return { kind: 'unavailable', message: 'search is not running' };
  }
  const text = await res.text();
  if (text.length > MAX_SEARCH_RESPONSE_BYTES) return { kind: 'unavailable', message: 'the search API answered too much' };
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  if (res.status === 400 && typeof body?.message === 'string') return { kind: 'refused', message: body.message.slice(0, 500) };
  if (res.status === 404) return { kind: 'unavailable', message: 'search is not running' };
  if (res.status !== 200 || body === undefined || !Array.isArray(body.results)) return { kind: 'unavailable', message: `the search API answered ${res.status}` };
  const next = typeof body.next_cursor === 'string' ? body.next_cursor : undefined;
  return { kind: 'results', results: body.results.slice(0, SEARCH_PAGE_LIMIT), nextCursor: next };
}

/** verifyShown checks each result as `vigil search` does (search-verify.ts). */
export function verifyShown(results: readonly unknown[], f: SearchForm, deps: SearchPageDeps): ShownResult[] {
  const query: SearchQuery = { [SEARCH_BY[f.by].field]: f.q };
  return results.map((r, i) => {
    try {
      const verified = verifySearchResult(r, query, deps.logKeys);
      // The proof verified, so its fields are the strings verifySearchResult decoded.
      const proof = (r as { inclusion_proof: InclusionProofJson }).inclusion_proof;
      return { ok: true, verified, proof };
    } catch (err) {
      return { ok: false, label: `result ${i + 1}`, reason: (err as Error).message };
    }
  });
}

function renderForm(f: SearchForm | undefined): SafeHtml {
  const by = f?.by ?? 'identity';
  const options = Object.entries(SEARCH_BY).map(([k, v]) => html`<option value="${k}"${k === by ? html` selected` : ''}>${v.label}</option>`);
  return html`<form class="search" method="get" action="/search">
<select name="by" aria-label="search by">${options}</select>
<input type="text" name="q" value="${f?.q ?? ''}" placeholder="sha256:… or alice@example.com or https://github.com/org/repo/…" aria-label="query" autofocus>
<button type="submit">Search</button></form>`;
}

function renderResult(s: ShownResult): SafeHtml {
  if (!s.ok) return html`<tr class="unverified"><td colspan="5"><span class="bad">${s.label} does not verify and is not shown:</span> ${s.reason}</td></tr>`;
  const e = s.verified.event;
  const at = e.integratedTimeSec ?? e.certificateNotBeforeSec;
  const signed = s.verified.signatureChecked ? html`<span class="ok">checkpoint signed by the log's key</span>` : html`<span class="muted">checkpoint signature not checked (unknown log key)</span>`;
  return html`<tr class="result" data-index="${String(e.index)}">
<td><code>${e.logOrigin}</code><br>#${String(e.index)} · ${e.entryKind}</td>
<td><code>${e.identity.san}</code>${e.identity.kind === 'key' ? '' : html`<br><span class="muted">${e.identity.issuer}</span>`}</td>
<td>${e.artifactDigests.map((d) => html`<code>${d.algorithm}:${d.hex}</code><br>`)}</td>
<td>${at === undefined ? html`<span class="muted">—</span>` : html`<time datetime="${new Date(at * 1000).toISOString()}">${new Date(at * 1000).toISOString()}</time>`}</td>
<td><span class="ok proof-ok">included in tree of size ${String(s.verified.treeSize)}</span><br>${signed}
<details><summary>Inclusion proof (${s.proof.hashes.length} hashes)</summary>
<p>Root hash <code>${s.proof.root_hash}</code></p><ol>${s.proof.hashes.map((h) => html`<li><code>${h}</code></li>`)}</ol>
<pre>${s.proof.checkpoint}</pre></details></td></tr>`;
}

/** renderSearchPage renders the form, and the results or a message. */
export function renderSearchPage(f: SearchForm | undefined, answer: SearchAnswer | { kind: 'error'; message: string } | undefined, shown: readonly ShownResult[]): SafeHtml {
  let out: SafeHtml | string = html`<p class="muted">Results are proved into their log's tree and checked against the query before they are shown; <code>vigil search</code> does the same on your machine.</p>`;
  if (answer?.kind === 'error' || answer?.kind === 'refused') out = html`<p class="bad" id="search-error">${answer.message}</p>`;
  if (answer?.kind === 'unavailable') out = html`<p class="muted" id="search-error">${answer.message}</p>`;
  if (answer?.kind === 'results' && f !== undefined) {
    const next = answer.nextCursor === undefined ? '' : html`<p><a id="next-page" href="/search?${searchParams({ ...f, cursor: answer.nextCursor }, { by: f.by, q: f.q }).toString()}">Next page</a></p>`;
    out = shown.length === 0
      ? html`<p class="muted" id="no-results">No results.</p>`
      : html`<section><table id="results"><thead><tr><th>Entry</th><th>Signer</th><th>Artifact</th><th>Signed at</th><th>Proof</th></tr></thead><tbody>${shown.map(renderResult)}</tbody></table>${next}</section>`;
  }
  return renderPage('Search', html`${renderForm(f)}${out}`);
}

/** createSearchPage returns the router of GET /search. */
export function createSearchPage(deps: SearchPageDeps): Router {
  const router = express.Router();
  router.get('/search', async (req: Request, res: Response) => {
    const f = parseSearchForm(req.query);
    if ('error' in f) return sendPage(res, 400, renderSearchPage(undefined, { kind: 'error', message: f.error }, []));
    if (f.q === '') return sendPage(res, 200, renderSearchPage(f, undefined, []));
    const answer = await fetchSearch(f, deps);
    const shown = answer.kind === 'results' ? verifyShown(answer.results, f, deps) : [];
    const status = answer.kind === 'results' ? 200 : answer.kind === 'refused' ? 400 : 503;
    sendPage(res, status, renderSearchPage(f, answer, shown));
  });
  return router;
}
