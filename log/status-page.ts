// The status page (GET / for browsers) and its numbers as JSON (GET /status.json): the log's tree
// size, the published (witnessed) checkpoint and who cosigned it, each witness with its latest
// cosigned size, the monitor's lag and recent findings, and a chart of entries per minute drawn
// from the log's checkpoint history. The monitor is reached through an injected function, so the
// page works (showing "not running") before a monitor is wired. Every value that came from outside
// (witness answers, finding summaries) is escaped by platform/page.ts `html`.
import express, { type Request, type Response, type Router } from 'express';
import type { Clock } from '../platform/clock.ts';
import type { Queryable } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { html, renderPage, sendPage, wantsHtml, type SafeHtml } from '../platform/page.ts';
import { formatKeyId, parseNote } from '../tlog/note.ts';
import { entriesPerMinute, readCheckpointHistory, type MinuteBucket } from './checkpoint-history.ts';
import type { Log } from './log.ts';
import type { Publisher } from './publisher.ts';
import { renderEntriesChart } from './status-chart.ts';

/** CHART_MINUTES is how many minutes the entries-per-minute chart shows. */
export const CHART_MINUTES = 60;
/** MAX_SHOWN_FINDINGS bounds the recent findings listed. */
export const MAX_SHOWN_FINDINGS = 20;

/** MonitorFinding is one recent finding as the status page lists it. */
export interface MonitorFinding {
  kind: string;
  /** summary is one line; it may quote attacker-controlled entry fields (escaped when shown). */
  summary: string;
  logOrigin: string;
  index: bigint | null;
  observedAt: Date;
}

/** MonitorStatus is what the monitor reports to the status page. */
export interface MonitorStatus {
  /** lagEntries is how many entries of the log the monitor has not processed yet. */
  lagEntries: bigint;
  /** recentFindings are the newest findings, newest first. */
  recentFindings: readonly MonitorFinding[];
}

/** StatusPageDeps is what the page reads. monitorStatus absent or answering undefined: "not running". */
export interface StatusPageDeps {
  log: Pick<Log, 'origin' | 'getCheckpoint'>;
  publisher: Pick<Publisher, 'published' | 'witnesses' | 'policy'>;
  db: Queryable;
  clock: Clock;
  logger: Logger;
  monitorStatus?: () => Promise<MonitorStatus | undefined>;
}

/** WitnessRow is one witness of the policy as the page shows it. */
export interface WitnessRow {
  name: string;
  url: string;
  cosignedSize: bigint | undefined;
  lastResult: string | undefined;
  /** cosignedPublished says whether its cosignature is on the published checkpoint. */
  cosignedPublished: boolean;
}

/** StatusView is everything the status page shows, read once per request. */
export interface StatusView {
  origin: string;
  treeSize: bigint;
  published: { size: bigint; quorumMet: boolean; cosigners: string[]; note: string };
  witnesses: WitnessRow[];
  monitor: MonitorStatus | undefined;
  chart: MinuteBucket[];
  now: Date;
}

// cosignerNames lists which policy witnesses signed the published note (matched by key name and
// ID, as the publisher keyed them); the note was verified before it was stored.
function cosignerNames(note: string, deps: StatusPageDeps): string[] {
  const refs = new Set(parseNote(note).signatures.map((s) => `${s.name}+${formatKeyId(s.keyId)}`));
  return deps.publisher.policy.witnesses.filter((w) => refs.has(w.keyRef)).map((w) => w.name);
}

// monitorOf asks the monitor; a monitor that fails to answer is shown as not running, and logged.
async function monitorOf(deps: StatusPageDeps): Promise<MonitorStatus | undefined> {
  if (deps.monitorStatus === undefined) return undefined;
  try {
    return await deps.monitorStatus();
  } catch (err) {
    deps.logger.warn({ err }, "couldn't read the monitor's status for the status page");
    return undefined;
  }
}

/** readStatusView reads the numbers of the status page. */
export async function readStatusView(deps: StatusPageDeps): Promise<StatusView> {
  const now = new Date(deps.clock.nowMs());
  const [latest, published, history, monitor] = await Promise.all([
    deps.log.getCheckpoint(),
    deps.publisher.published(),
    readCheckpointHistory(deps.db, new Date(now.getTime() - CHART_MINUTES * 60_000)),
    monitorOf(deps),
  ]);
  const cosigners = cosignerNames(published.note, deps);
  const witnesses = deps.publisher.witnesses().map((w) => ({
    name: w.name, url: w.url, cosignedSize: w.knownSize, lastResult: w.last?.result, cosignedPublished: cosigners.includes(w.name),
  }));
  return {
    origin: deps.log.origin, treeSize: latest.size, now, witnesses, monitor,
    published: { size: published.size, quorumMet: published.quorumMet, cosigners, note: published.note },
    chart: entriesPerMinute(history, now, CHART_MINUTES),
  };
}

/** formatStatusJson is GET /status.json: the page's numbers, sizes as decimal strings. */
export function formatStatusJson(v: StatusView): Record<string, unknown> {
  return {
    origin: v.origin,
    tree_size: String(v.treeSize),
    published_size: String(v.published.size),
    published_quorum_met: v.published.quorumMet,
    published_cosigners: v.published.cosigners,
    published_cosigner_count: v.published.cosigners.length,
    witnesses: v.witnesses.map((w) => ({ name: w.name, url: w.url, cosigned_size: w.cosignedSize === undefined ? null : String(w.cosignedSize), last_result: w.lastResult ?? null })),
    monitor_lag: v.monitor === undefined ? 'not running' : String(v.monitor.lagEntries),
    entries_last_hour: String(v.chart.reduce((t, b) => t + b.entries, 0n)),
  };
}

// card is one headline number; the script refreshes it from the /status.json field `key`.
function card(label: string, value: string, key: string, id = key): SafeHtml {
  return html`<div class="card"><div class="label">${label}</div><div class="value" data-status="${key}" id="${id}">${value}</div></div>`;
}

function renderWitnesses(v: StatusView): SafeHtml {
  const rows = v.witnesses.map((w) => html`<tr data-witness="${w.name}">
<td><code>${w.name}</code></td><td><code>${w.url}</code></td>
<td class="num cosigned-size">${w.cosignedSize === undefined ? '—' : String(w.cosignedSize)}</td>
<td>${w.cosignedPublished ? html`<span class="ok">yes</span>` : html`<span class="muted">no</span>`}</td>
<td>${w.lastResult === undefined ? html`<span class="muted">not asked yet</span>` : w.lastResult === 'cosigned' ? html`<span class="ok">cosigned</span>` : html`<span class="bad">${w.lastResult}</span>`}</td></tr>`);
  return html`<section><h2>Witnesses</h2><table><thead><tr><th>Name</th><th>URL</th><th>Latest cosigned size</th><th>On published checkpoint</th><th>Last submission</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function renderMonitor(v: StatusView): SafeHtml {
  if (v.monitor === undefined) return html`<section id="monitor"><h2>Monitor</h2><p class="muted">not running</p></section>`;
  const findings = v.monitor.recentFindings.slice(0, MAX_SHOWN_FINDINGS).map((f) => html`<tr>
<td><time datetime="${f.observedAt.toISOString()}">${f.observedAt.toISOString()}</time></td><td><code>${f.kind}</code></td>
<td><code>${f.logOrigin}</code>${f.index === null ? '' : html` #${String(f.index)}`}</td><td>${f.summary}</td></tr>`);
  return html`<section id="monitor"><h2>Monitor</h2>
<p>Lag: <strong data-status="monitor_lag" id="monitor_lag">${String(v.monitor.lagEntries)}</strong> entries behind the log.</p>
<h2>Recent findings</h2>
${findings.length === 0 ? html`<p class="muted">No findings.</p>` : html`<table id="findings"><thead><tr><th>Observed</th><th>Kind</th><th>Entry</th><th>Summary</th></tr></thead><tbody>${findings}</tbody></table>`}
</section>`;
}

/** renderStatusPage renders the page of `v`. */
export function renderStatusPage(v: StatusView): SafeHtml {
  const p = v.published;
  const quorum = p.quorumMet ? html`<span class="ok">witnessed</span>` : html`<span class="bad">not witnessed</span>`;
  const body = html`<p class="muted">Log <code>${v.origin}</code> · as of <time datetime="${v.now.toISOString()}">${v.now.toISOString()}</time></p>
<div class="cards">
${card('Tree size', String(v.treeSize), 'tree_size')}
${card('Published size', String(p.size), 'published_size')}
${card('Cosigners', String(p.cosigners.length), 'published_cosigner_count')}
${card('Monitor lag', v.monitor === undefined ? 'not running' : String(v.monitor.lagEntries), 'monitor_lag', 'monitor_lag_card')}
</div>
<section id="published"><h2>Published checkpoint</h2>
<p>Size <strong>${String(p.size)}</strong>, ${quorum}; cosigned by ${p.cosigners.length === 0 ? html`<span class="muted">no witness</span>` : p.cosigners.map((c, i) => html`${i > 0 ? ', ' : ''}<code>${c}</code>`)}.</p>
<details><summary>Signed note</summary><pre>${p.note}</pre></details></section>
${renderWitnesses(v)}
<section><h2>Entries per minute (last ${CHART_MINUTES} minutes, UTC)</h2>${renderEntriesChart(v.chart)}</section>
${renderMonitor(v)}`;
  return renderPage('Status', body);
}

/**
 * createStatusPage returns the router of GET / (the page, for requests whose Accept names
 * text/html; any other request goes on to the next handler, e.g. the log's API) and GET
 * /status.json. A read failure answers 503 (logged).
 */
export function createStatusPage(deps: StatusPageDeps): Router {
  const router = express.Router();
  const fail = (res: Response, err: unknown) => {
    deps.logger.error({ err }, "couldn't read the status page's numbers");
    res.setHeader('Retry-After', '1');
    res.status(503).json({ code: 'unavailable', message: "couldn't read the log's status; retry later" });
  };
  router.get('/', async (req: Request, res: Response, next) => {
    if (!wantsHtml(req)) return next();
    try {
      sendPage(res, 200, renderStatusPage(await readStatusView(deps)));
    } catch (err) {
      fail(res, err);
    }
  });
  router.get('/status.json', async (_req: Request, res: Response) => {
    try {
      res.setHeader('Cache-Control', 'no-store');
      res.json(formatStatusJson(await readStatusView(deps)));
    } catch (err) {
      fail(res, err);
    }
  });
  return router;
}
