// Wiring of alerts: the only place that reads the environment, opens the database and the queue,
// picks the mail transport and starts the router and the worker. `vigil alerts serve` runs both,
// `vigil alerts work` only the worker; `vigil up` calls startAlerts and mounts the router.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Router } from 'express';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../platform/clock.ts';
import { openDb, type Db } from '../platform/db.ts';
import { createHttpApp, finishHttpApp, listen, type Listening } from '../platform/http.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { openQueue, type JobQueue } from '../platform/queue.ts';
import type { RuleSource } from '../monitor/rule-source.ts';
import { parseListen } from '../platform/config.ts';
import { startBounceListener, type BounceListener } from './bounces.ts';
import { loadConfig, mailDomainOf, type AlertsConfig, type ConfigArgs } from './config.ts';
import type { AlertsContext } from './context.ts';
import { AlertsError } from './errors.ts';
import { createAlertsRouter } from './http.ts';
import type { MailSettings } from './messages.ts';
import { newAlertsMetrics } from './metrics.ts';
import { createSubscriptionRuleSource } from './rule-source.ts';
import { migrateAlertsDb } from './schema.ts';
import { outboxTransport, smtpTransport, type MailTransport } from './transport.ts';
import { startAlertWorker, type AlertWorker, type SendJob } from './worker.ts';

/** StartAlertsDeps are the process-level resources alerts run on. */
export interface StartAlertsDeps {
  readonly db: Db;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly clock: Clock;
  /** queue carries send jobs (BullMQ in production); absent: messages are sent in this process. */
  readonly queue?: JobQueue<SendJob>;
  /** transport overrides the one the config picks (SMTP when smtpUrl is set, else the outbox folder). */
  readonly transport?: MailTransport;
  /** worker: false starts no worker (an API-only process); loop: false starts one that only runs when told (tests). */
  readonly worker?: boolean;
  readonly loop?: boolean;
}

/** StartedAlerts is running alerts without a listener: mount `router` anywhere. */
export interface StartedAlerts {
  readonly router: Router;
  readonly worker: AlertWorker | undefined;
  /** ruleSource gives the monitor the confirmed subscriptions' rules. */
  readonly ruleSource: RuleSource;
  readonly context: AlertsContext;
  stop(): Promise<void>;
}

/** mailSettingsOf reads the From domain and the DKIM key named by the config. */
export function mailSettingsOf(config: AlertsConfig): MailSettings {
  const domain = mailDomainOf(config.from);
  if (domain === undefined) throw new AlertsError('invalid_config', `the From address ${JSON.stringify(config.from)} has no domain`);
  if (config.dkimKeyFile === '') return { from: config.from, domain };
  const privateKey = readFileSync(config.dkimKeyFile, 'utf8');
  return { from: config.from, domain, dkim: { domainName: config.dkimDomain, keySelector: config.dkimSelector, privateKey } };
}

/** startAlerts migrates the database and starts the router and (unless told not to) the worker. */
export async function startAlerts(config: AlertsConfig, deps: StartAlertsDeps): Promise<StartedAlerts> {
  await migrateAlertsDb(deps.db);
  const transport = deps.transport ?? (config.smtpUrl ? smtpTransport(config.smtpUrl, { maxConnections: config.sendConcurrency }) : outboxTransport(config.outboxDir));
  let worker: AlertWorker | undefined;
  const context: AlertsContext = {
    config, db: deps.db, clock: deps.clock, logger: deps.logger, metrics: newAlertsMetrics(deps.registry), mail: mailSettingsOf(config),
    wake: () => worker?.wake(),
  };
  if (deps.worker !== false) worker = startAlertWorker(context, transport, { ...(deps.queue ? { queue: deps.queue } : {}), loop: deps.loop !== false });
  return {
    router: createAlertsRouter(config, context),
    worker,
    ruleSource: createSubscriptionRuleSource(deps.db),
    context,
    async stop() {
      await worker?.stop();
      transport.close();
    },
  };
}

/** RunningAlerts is a started alerts process; close() stops it in order. */
export interface RunningAlerts {
  readonly url: string | undefined;
  close(): Promise<void>;
}

/**
 * runAlerts is `vigil alerts serve` (role 'serve': pages and API plus a worker) and `vigil alerts
 * work` (role 'work': the worker only). Prints `listening on <url>` or `working` on stdout when up.
 */
export async function runAlerts(role: 'serve' | 'work', args: ConfigArgs, env: NodeJS.ProcessEnv = process.env): Promise<RunningAlerts> {
  const config = loadConfig(env, args);
  const logger = createLogger('alerts', env.VIGIL_LOG_LEVEL ?? 'info');
  const db = await openDb(config.databaseUrl ? { url: config.databaseUrl, ...(config.databaseSchema ? { schema: config.databaseSchema } : {}) } : { dataDir: join(config.dataDir, 'db') });
  const registry = createMetricsRegistry({ component: 'alerts' });
  const queue = config.redisUrl ? await openQueue<SendJob>({ name: 'vigil-alerts-send', redisUrl: config.redisUrl, attempts: 3 }) : undefined;
  let alerts: StartedAlerts | undefined;
  let server: Listening | undefined;
  let bounces: BounceListener | undefined;
  try {
    alerts = await startAlerts(config, { db, logger, registry, clock: systemClock, ...(queue ? { queue } : {}) });
    if (config.bounceListen !== '') {
      const [host, port] = parseListen(config.bounceListen, []);
      bounces = await startBounceListener(alerts.context, host, port);
    }
    // `work` listens only when given --listen, and then serves /metrics alone.
    if (role === 'serve' || args.listen !== undefined) {
      const app = createHttpApp({ component: 'alerts', logger, metrics: registry });
      if (role === 'serve') app.use(alerts.router);
      finishHttpApp(app, logger);
      server = await listen(app, config.listenHost, config.listenPort);
    }
  } catch (err) {
    await bounces?.close();
    await alerts?.stop();
    await queue?.close();
    await db.close();
    throw err;
  }
  logger.info({ role, url: server?.url, bounces: bounces?.url, storage: db.kind, mail: config.smtpUrl ? 'smtp' : 'outbox' }, 'alerts started');
  process.stdout.write(role === 'serve' ? `listening on ${server!.url}\n` : 'working\n');
  return {
    url: server?.url,
    async close() {
      await server?.close();
      await bounces?.close();
      await alerts.stop();
      await queue?.close();
      await db.close();
    },
  };
}
