// The alerts HTTP surface, an express Router to mount under any prefix: the subscribe, confirm,
// unsubscribe and manage pages (HTML forms) and a JSON API for the same actions under /api/v1.
// Handlers parse, call one function, and map AlertsError codes to statuses (statusFor).
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { ErrorBody } from '../platform/http.ts';
import type { AlertsConfig } from './config.ts';
import type { AlertsContext } from './context.ts';
import { isAlertsError, type AlertsErrorCode } from './errors.ts';
import { addWebhook, markExpected, removeWebhook, replaceRules, sendTest, setDelivery, viewManage } from './manage.ts';
import { buttonPage, managePage, messagePage, subscribePage } from './pages.ts';
import { parseDelivery, parseEmail, parseLogs, parseRuleSpecs, parseSubscribeRequest, ruleSpecsFromForm } from './subscribe-request.ts';
import { confirmSubscription, requestManageLink, requestSubscription, unsubscribe } from './subscriptions.ts';

/** MAX_BODY_BYTES bounds every request body. */
export const MAX_BODY_BYTES = 64 * 1024;

const STATUS: Record<AlertsErrorCode, number> = {
  invalid_config: 500, malformed_request: 400, invalid_email: 400, invalid_rules: 400, too_many_rules: 400,
  rate_limited: 429, invalid_token: 403, not_found: 404, webhook_refused: 400, invalid_webhook: 400,
};

/** statusFor maps an error to its HTTP status (500 for anything that is not an AlertsError). */
export function statusFor(err: unknown): number {
  return isAlertsError(err) ? STATUS[err.code] : 500;
}

const CHECK_INBOX = 'If the address can receive alerts, a mail is on its way. Open the link in it and press the button to confirm. Nothing is sent before you confirm.';

/** AlertsRouterDeps are the process's resources the router uses (AlertsContext without the config). */
export type AlertsRouterDeps = Omit<AlertsContext, 'config'>;

/** createAlertsRouter returns the router of the pages and the API; mount it under any prefix. */
export function createAlertsRouter(config: AlertsConfig, deps: AlertsRouterDeps): Router {
  const ctx: AlertsContext = { config, ...deps };
  const r = Router();
  r.use(securityHeaders);
  r.use(express.urlencoded({ extended: false, limit: MAX_BODY_BYTES, parameterLimit: 50 }));
  r.use(express.json({ limit: MAX_BODY_BYTES }));
  const base = (req: Request) => req.baseUrl;
  const html = (fn: (req: Request, res: Response) => Promise<string>): RequestHandler => async (req, res) => {
    try {
      res.type('html').send(await fn(req, res));
    } catch (err) {
      sendError(ctx, res, err, 'html');
    }
  };
  const api = (status: number, fn: (req: Request) => Promise<unknown>): RequestHandler => async (req, res) => {
    try {
      res.status(status).json(await fn(req));
    } catch (err) {
      sendError(ctx, res, err, 'json');
    }
  };
  const form = (req: Request) => (typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {});
  const limits = ctx.config;

  r.get('/', html(async (req) => subscribePage(base(req))));
  r.post('/subscribe', html(async (req) => {
    const f = form(req);
    // The honeypot: a field people never see. A bot that fills it gets the usual answer, and nothing is sent.
    if (typeof f.website === 'string' && f.website !== '') return messagePage('Check your inbox', CHECK_INBOX);
    const body = { email: f.email, ...ruleSpecsFromForm(f), delivery: f.delivery ?? 'immediate', logs: f.follow_all_logs === '1' ? ['*'] : [] };
    await requestSubscription(ctx, parseSubscribeRequest(body, limits), req.ip);
    return messagePage('Check your inbox', CHECK_INBOX);
  }));
  r.post('/manage-link', html(async (req) => {
    await requestManageLink(ctx, parseEmail(form(req).email), req.ip);
    return messagePage('Check your inbox', 'If the address has alerts, a mail with a link to manage them is on its way.');
  }));
  r.get('/confirm', html(async (req) => buttonPage('Confirm your alerts', 'Press the button to start receiving Vigil alerts at this address.', `${base(req)}/confirm`, String(req.query.token ?? ''), 'Confirm')));
  r.post('/confirm', html(async (req) => {
    const { manageUrl } = await confirmSubscription(ctx, form(req).token);
    return messagePage('Subscription confirmed', 'Your alerts are active. Every alert mail has a link to manage or stop them.', manageUrl ? { href: manageUrl, label: 'Manage your alerts' } : undefined);
  }));
  r.get('/unsubscribe', html(async (req) => buttonPage('Unsubscribe', 'Press the button to stop all Vigil alerts to this address.', `${base(req)}/unsubscribe`, String(req.query.token ?? ''), 'Unsubscribe')));
  // RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" to the URL of the
  // List-Unsubscribe header, token in the query; the page's button posts the token in the form.
  r.post('/unsubscribe', html(async (req) => {
    await unsubscribe(ctx, req.query.token ?? form(req).token, 'unsubscribe');
    return messagePage('Unsubscribed', 'You will get no more alerts at this address.');
  }));
  r.get('/manage', html(async (req) => managePage(base(req), String(req.query.token ?? ''), await viewManage(ctx, req.query.token))));
  const manageAction = (path: string, fn: (req: Request, f: Record<string, unknown>) => Promise<string | undefined>) =>
    r.post(`/manage/${path}`, html(async (req) => {
      const f = form(req);
      const notice = await fn(req, f);
      if (path === 'unsubscribe') return messagePage('Unsubscribed', 'You will get no more alerts at this address.');
      return managePage(base(req), String(f.token ?? ''), await viewManage(ctx, f.token), notice);
    }));
  manageAction('rules', async (_req, f) => {
    await replaceRules(ctx, f.token, parseRuleSpecs(parseJsonField(f.rules), limits));
    return 'Rules saved.';
  });
  manageAction('delivery', async (_req, f) => {
    const logs = typeof f.logs === 'string' ? f.logs.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '') : [];
    await setDelivery(ctx, f.token, parseDelivery(f.delivery), parseLogs(logs, limits));
    return 'Delivery saved.';
  });
  manageAction('expected', async (_req, f) => {
    await markExpected(ctx, f.token, parseSeq(f.alert));
    return 'The signer was added to your policy.';
  });
  manageAction('test', async (_req, f) => {
    await sendTest(ctx, f.token);
    return 'A test alert is on its way.';
  });
  manageAction('webhooks', async (_req, f) => {
    const { secret } = await addWebhook(ctx, f.token, f.url);
    return `Webhook added. Verify each call's webhook-signature with the secret ${secret}.`;
  });
  manageAction('webhooks/remove', async (_req, f) => {
    await removeWebhook(ctx, f.token, f.id);
    return 'Webhook removed.';
  });
  manageAction('unsubscribe', async (_req, f) => {
    await unsubscribe(ctx, f.token, 'manage');
    return undefined;
  });

  // JSON API: the same answers whatever the address (202), errors as {code, message}.
  r.post('/api/v1/subscriptions', api(202, async (req) => {
    await requestSubscription(ctx, parseSubscribeRequest(req.body, limits), req.ip);
    return { status: 'pending', message: CHECK_INBOX };
  }));
  r.post('/api/v1/manage-link', api(202, async (req) => {
    await requestManageLink(ctx, parseEmail(form(req).email), req.ip);
    return { status: 'pending', message: 'If the address has alerts, a mail with a manage link is on its way.' };
  }));
  r.use(((err, _req, res, _next) => {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') return void res.status(413).json({ code: 'body_too_large', message: 'request body is too large' } satisfies ErrorBody);
    if (type !== undefined) return void res.status(400).json({ code: 'malformed_body', message: 'request body could not be read' } satisfies ErrorBody);
    sendError(ctx, res, err, 'json');
  }) satisfies ErrorRequestHandler);
  return r;
}

function sendError(ctx: AlertsContext, res: Response, err: unknown, as: 'html' | 'json'): void {
  const status = statusFor(err);
  if (status >= 500) ctx.logger.error({ err }, 'alerts request failed');
  if (status === 429) res.set('Retry-After', '3600');
  const code = isAlertsError(err) ? err.code : 'internal';
  const message = status >= 500 ? 'internal error' : (err as Error).message;
  if (as === 'json') res.status(status).json({ code, message } satisfies ErrorBody);
  else res.status(status).type('html').send(messagePage(status === 429 ? 'Too many requests' : 'That did not work', message));
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  });
  next();
};

function parseJsonField(v: unknown): unknown {
  try {
    return JSON.parse(typeof v === 'string' ? v : '');
  } catch {
    return { invalid: true }; // reported by parseRuleSpecs as not a known field
  }
}

function parseSeq(v: unknown): bigint {
  return typeof v === 'string' && /^[1-9][0-9]{0,18}$/.test(v) ? BigInt(v) : 0n;
}
