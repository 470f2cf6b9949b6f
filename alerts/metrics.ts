// The alerts metrics, registered on the registry they are given (never prom-client's global one).
// Labels are bounded enums: never an address, a URL or a subscriber id.
import { Counter, Gauge, type Registry } from 'prom-client';

/** SendResult labels one attempt: sent, failed (given up), retried (will try again), unknown (may have been sent; never resent). */
export type SendResult = 'sent' | 'failed' | 'retried' | 'unknown' | 'dropped';

/** AlertsMetrics are the vigil_alerts_* metrics. */
export interface AlertsMetrics {
  /** mails counts mail attempts by message kind and result. */
  readonly mails: Counter<'kind' | 'result'>;
  /** webhooks counts webhook calls by result; 'refused' is a call to an address the operator does not allow. */
  readonly webhooks: Counter<'result'>;
  /** webhooksDisabled counts webhooks disabled after repeated failure. */
  readonly webhooksDisabled: Counter;
  /** rateLimited counts confirmation requests refused or silenced by a limit: 'address' or 'client'. */
  readonly rateLimited: Counter<'limit'>;
  /** findings counts findings the worker consumed, by kind. */
  readonly findings: Counter<'kind'>;
  /** cursor is the seq of the last finding consumed. */
  readonly cursor: Gauge;
  /** lateBounces counts delivery status notifications per message: bounce, duplicate (bounced already), ignored (not a permanent failure). */
  readonly lateBounces: Counter<'result'>;
}

/** newAlertsMetrics registers the alerts metrics on `registry`. */
export function newAlertsMetrics(registry: Registry): AlertsMetrics {
  const registers = [registry];
  return {
    mails: new Counter({ name: 'vigil_alerts_mails_total', help: 'Mail attempts by kind (alert, digest, confirm, manage-link, test) and result.', labelNames: ['kind', 'result'], registers }),
    webhooks: new Counter({ name: 'vigil_alerts_webhooks_total', help: 'Webhook calls by result (sent, failed, retried, refused, dropped).', labelNames: ['result'], registers }),
    webhooksDisabled: new Counter({ name: 'vigil_alerts_webhooks_disabled_total', help: 'Webhooks disabled after repeated failed calls.', registers }),
    rateLimited: new Counter({ name: 'vigil_alerts_rate_limited_total', help: 'Confirmation requests over a limit, by limit (address, client).', labelNames: ['limit'], registers }),
    findings: new Counter({ name: 'vigil_alerts_findings_consumed_total', help: 'Findings read from the monitor outbox, by kind.', labelNames: ['kind'], registers }),
    cursor: new Gauge({ name: 'vigil_alerts_findings_cursor_seq', help: 'Seq of the last finding the alert worker consumed.', registers }),
    lateBounces: new Counter({ name: 'vigil_alerts_late_bounces_total', help: 'Delivery status notifications received per message, by result (bounce, duplicate, ignored).', labelNames: ['result'], registers }),
  };
}
