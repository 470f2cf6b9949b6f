// The alerts component's one error class. Codes are stable: they label metrics and select HTTP
// statuses in alerts/http.ts. A mail server's or a webhook receiver's refusal is not an error of
// ours: it is recorded on the message (alerts/messages.ts) and counted.

/**
 * AlertsErrorCode names every way the alerts component refuses input or fails.
 * - invalid_config: the configuration is incomplete or malformed (alerts/config.ts).
 * - malformed_request: a request body or form is not of the documented shape.
 * - invalid_email: the address is not a plain addr-spec of at most 254 characters.
 * - invalid_rules: a watch rule or policy does not validate (monitor/rules.ts says why).
 * - too_many_rules: more rules, policies, logs or webhooks than one subscriber may hold.
 * - rate_limited: too many confirmation mails from this client address.
 * - invalid_token: a confirm, manage or unsubscribe token is unknown, used or expired.
 * - not_found: the alert or webhook named is not the subscriber's.
 * - webhook_refused: the webhook URL resolves to a loopback, private or link-local address.
 * - invalid_webhook: the webhook URL is not an http(s) URL without credentials.
 */
export type AlertsErrorCode =
  | 'invalid_config'
  | 'malformed_request'
  | 'invalid_email'
  | 'invalid_rules'
  | 'too_many_rules'
  | 'rate_limited'
  | 'invalid_token'
  | 'not_found'
  | 'webhook_refused'
  | 'invalid_webhook';

/** AlertsError is the one error class of alerts/, with a code, a message and an optional cause. */
export class AlertsError extends Error {
  override readonly name = 'AlertsError';
  readonly code: AlertsErrorCode;

  constructor(code: AlertsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** isAlertsError reports whether err is an AlertsError, optionally with the given code. */
export function isAlertsError(err: unknown, code?: AlertsErrorCode): err is AlertsError {
  return err instanceof AlertsError && (code === undefined || err.code === code);
}

/** errorMessage is err's message, or its string form when it is not an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
