// The watching side of `vigil up`: the monitor following the log, the search API over what it
// indexed, and alerts, embedded (no Redis): one PGlite database in DIR/monitor/db shared by the
// monitor and alerts (alerts read the monitor's findings outbox), the in-process job queue and the
// local leader elector. The monitor reads the log like any outside monitor, over HTTP on loopback
// (checkpoint, tiles), and checks published checkpoints against the log's key and its witness
// policy as the running log serves them; its rules are the confirmed alert subscriptions.
//
// Start order: database; monitor migrations (alerts read monitor_findings); alerts (their rule
// source); monitor. Close order: the reverse.
import express, { type Express, type Router } from 'express';
import type { Clock } from '../platform/clock.ts';
import { openDb, type Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { Registry } from 'prom-client';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { openQueue } from '../platform/queue.ts';
import type { MonitorFinding, MonitorStatus } from '../log/status-page.ts';
import { defaultAlertsConfig } from '../alerts/config.ts';
import { startAlerts, type StartedAlerts } from '../alerts/main.ts';
import { parseMonitorConfig, type MonitorConfig } from '../monitor/config.ts';
import { localElector } from '../monitor/leader.ts';
import { MONITOR_QUEUE_NAME, searchDeps, startMonitor, type StartedMonitor } from '../monitor/main.ts';
import { newMonitorMetrics } from '../monitor/metrics.ts';
import { migrateMonitor } from '../monitor/schema.ts';
import { createSearchRouter } from '../monitor/search-http.ts';
import { SEARCH_MIGRATIONS } from '../monitor/search-index.ts';
import { monitorCursor, type RangeJob } from '../monitor/state.ts';

/** UP_MONITOR_POLL_INTERVAL_MS is how often the embedded monitor polls the log's checkpoint. */
export const UP_MONITOR_POLL_INTERVAL_MS = 1000;
/** UP_RECENT_FINDINGS is how many findings the status page lists. */
export const UP_RECENT_FINDINGS = 10;

/** UpWatchOptions name the log to follow and where things are. */
export interface UpWatchOptions {
  /** dataDir is DIR: the database goes in DIR/monitor/db, mail in DIR/outbox. */
  readonly dataDir: string;
  readonly dbDir: string;
  /** url is the loopback URL of the port (the monitor reads the log there). */
  readonly url: string;
  /** publicUrl is where people reach the port (alert mail links). */
  readonly publicUrl: string;
  /** log is the log to follow: its key, witness policy and the witnesses' monitoring URLs. */
  readonly log: { readonly origin: string; readonly vkey: string; readonly witnessPolicy: string; readonly witnessUrls: readonly string[] };
  /** logSize returns the log's latest tree size (for the monitor's lag). */
  readonly logSize: () => Promise<bigint>;
}

/** UpWatch is the running monitor, search API and alerts. */
export interface UpWatch {
  readonly db: Db;
  /** searchRouter serves GET /api/v1/search; mount it at the root. */
  readonly searchRouter: Router;
  /** alertsApp serves the alerts pages and API; mount it at /alerts. */
  readonly alertsApp: Express;
  readonly alerts: StartedAlerts;
  readonly monitorStatus: () => Promise<MonitorStatus | undefined>;
  /** registries hold the monitor's and alerts' metrics (no process defaults), for the port's /metrics. */
  readonly registries: readonly Registry[];
  close(): Promise<void>;
}

/** upMonitorConfig is the embedded monitor's configuration: the one log, from index 0. */
export function upMonitorConfig(opts: UpWatchOptions): MonitorConfig {
  const log = { origin: opts.log.origin, url: `${opts.url}/api/v2`, verifierKeys: [opts.log.vkey], witnessPolicy: opts.log.witnessPolicy, witnessUrls: opts.log.witnessUrls, entryFormat: 'rekor', startIndex: '0' };
  return parseMonitorConfig({ logs: [log], pollIntervalMs: UP_MONITOR_POLL_INTERVAL_MS, workerConcurrency: 2 }, { baseDir: opts.dataDir, env: {}, dataDir: opts.dbDir });
}

/** startUpWatch starts the monitor, the search API and alerts (see the top of this file). */
export async function startUpWatch(opts: UpWatchOptions, deps: { logger: Logger; clock: Clock }): Promise<UpWatch> {
  const config = upMonitorConfig(opts);
  const db = await openDb({ dataDir: opts.dbDir });
  let alerts: StartedAlerts | undefined;
  let monitor: StartedMonitor | undefined;
  const queue = await openQueue<RangeJob>({ name: MONITOR_QUEUE_NAME });
  try {
    await migrateMonitor(db, SEARCH_MIGRATIONS);
    const alertsLogger = deps.logger.child({ component: 'alerts' });
    const alertsRegistry = createMetricsRegistry({ component: 'alerts' }, false);
    alerts = await startAlerts(defaultAlertsConfig({ publicUrl: `${opts.publicUrl}/alerts`, dataDir: opts.dataDir }), {
      db, logger: alertsLogger, registry: alertsRegistry, clock: deps.clock,
    });
    const logger = deps.logger.child({ component: 'monitor' });
    const monitorRegistry = createMetricsRegistry({ component: 'monitor' }, false);
    const metrics = newMonitorMetrics(monitorRegistry);
    monitor = await startMonitor(config, { db, queue, elector: localElector(), rules: alerts.ruleSource, metrics, logger, clock: deps.clock });
    const alertsApp = express();
    alertsApp.disable('x-powered-by');
    alertsApp.use(alerts.router);
    const started = { alerts, monitor };
    return {
      db,
      searchRouter: createSearchRouter(searchDeps(config, db, logger)),
      alertsApp,
      alerts,
      monitorStatus: () => readMonitorStatus(db, opts.log.origin, opts.logSize),
      registries: [monitorRegistry, alertsRegistry],
      async close() {
        await started.monitor.stop();
        await started.alerts.stop();
        await queue.close();
        await db.close();
      },
    };
  } catch (err) {
    await monitor?.stop();
    await alerts?.stop();
    await queue.close();
    await db.close();
    throw err;
  }
}

/** readMonitorStatus is what the status page shows of the monitor: its lag and the newest findings. */
export async function readMonitorStatus(db: Db, origin: string, logSize: () => Promise<bigint>): Promise<MonitorStatus | undefined> {
  const cursor = await monitorCursor(db, origin);
  if (cursor === undefined) return undefined;
  const size = await logSize();
  const rows = await db.query<{ kind: string; summary: string; log_origin: string; entry_index: bigint | null; observed_at: Date }>(
    'SELECT kind, summary, log_origin, entry_index, observed_at FROM monitor_findings ORDER BY seq DESC LIMIT $1',
    [UP_RECENT_FINDINGS],
  );
  const recentFindings: MonitorFinding[] = rows.map((r) => ({ kind: r.kind, summary: r.summary, logOrigin: r.log_origin, index: r.entry_index, observedAt: r.observed_at }));
  return { lagEntries: size > cursor ? size - cursor : 0n, recentFindings };
}
