import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { Histogram, type Registry } from 'prom-client';
import type { Logger } from './logger.ts';

/** ErrorBody is the JSON our own endpoints answer 4xx/5xx with (protocol endpoints follow their spec). */
export interface ErrorBody {
  code: string;
  message: string;
}

/** HttpAppOptions configures createHttpApp. */
export interface HttpAppOptions {
  component: string;
  logger: Logger;
  metrics?: Registry;
}

/**
 * createHttpApp returns an Express app with the plumbing every component shares: no
 * X-Powered-By, a request duration histogram labelled by route and status, and `/metrics` when a
 * registry is given. Routes are added by the component's http.ts; call finishHttpApp last.
 */
export function createHttpApp(opts: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  if (opts.metrics) {
    app.use(timeRequests(opts.component, newRequestDurationHistogram(opts.metrics)));
    const registry = opts.metrics;
    app.get('/metrics', async (_req, res) => {
      res.set('Content-Type', registry.contentType).send(await registry.metrics());
    });
  }
  return app;
}

/**
 * newRequestDurationHistogram registers `vigil_http_request_duration_seconds` (labels component,
 * route, method, status) in registry: the one definition for Express apps (createHttpApp) and for
 * plain node:http handlers (the witness). Once per registry: the name is fixed.
 */
export function newRequestDurationHistogram(registry: Registry): Histogram<'component' | 'route' | 'method' | 'status'> {
  return new Histogram({
    name: 'vigil_http_request_duration_seconds',
    help: 'HTTP request duration by component, route and status.',
    labelNames: ['component', 'route', 'method', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
}

function timeRequests(component: string, duration: Histogram): RequestHandler {
  return (req, res, next) => {
    const end = duration.startTimer();
    res.on('finish', () => {
      // The route pattern, never the raw path, so labels stay bounded.
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      end({ component, route: String(route), method: req.method, status: String(res.statusCode) });
    });
    next();
  };
}

/**
 * finishHttpApp adds the JSON 404 and the last-resort error handler: body-parser failures become
 * 400/413 with a reason, anything else is logged and answered 500 without details.
 */
export function finishHttpApp(app: Express, logger: Logger): void {
  app.use((req, res) => {
    res.status(404).json({ code: 'not_found', message: `no such resource: ${req.method} ${req.path}` } satisfies ErrorBody);
  });
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      res.status(413).json({ code: 'body_too_large', message: 'request body is too large' } satisfies ErrorBody);
    } else if (type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported') {
      res.status(400).json({ code: 'malformed_body', message: `request body could not be read: ${(err as Error).message}` } satisfies ErrorBody);
    } else {
      logger.error({ err, method: req.method, path: req.path }, 'unhandled error in request');
      if (!res.headersSent) res.status(500).json({ code: 'internal', message: 'internal error' } satisfies ErrorBody);
    }
  };
  app.use(onError);
}

/** Listening is a started HTTP server. */
export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * listen serves app on host:port (port 0 picks a free one) and resolves once it accepts. app is any
 * node:http request listener: an Express app, or a plain handler such as the witness's.
 */
export function listen(app: RequestListener, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = createServer(app);
    server.listen(port, host);
    server.keepAliveTimeout = 65_000;
    server.once('error', reject);
    server.once('listening', () => {
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        url: `http://${h}:${addr.port}`,
        close: () => new Promise<void>((res, rej) => {
          server.close((err) => (err ? rej(err) : res()));
          server.closeAllConnections();
        }),
      });
    });
  });
}
