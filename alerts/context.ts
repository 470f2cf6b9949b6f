// AlertsContext is what the alerts functions run on: the configuration and the process's resources.
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { AlertsConfig } from './config.ts';
import type { MailSettings } from './messages.ts';
import type { AlertsMetrics } from './metrics.ts';

/** AlertsContext is shared by the HTTP handlers and the worker of one process. */
export interface AlertsContext {
  readonly config: AlertsConfig;
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: AlertsMetrics;
  readonly mail: MailSettings;
  /** wake asks the worker to look for due messages now (a confirmation mail was queued). */
  readonly wake: () => void;
}

/** linkFor is the absolute URL of an alerts page with a token, e.g. linkFor(ctx, 'confirm', t). */
export function linkFor(ctx: AlertsContext, page: 'confirm' | 'manage' | 'unsubscribe', token: string): string {
  return `${ctx.config.publicUrl}/${page}?token=${encodeURIComponent(token)}`;
}
