// The witness's HTTP surface (c2sp.org/tlog-witness), thin: read the bounded body, call the node,
// write its answer to the byte. The app can be served alone (main.ts) or mounted under a prefix
// (`vigil up` serves each witness under /witness/<name>/ on one port); the submission and the
// monitoring prefix are both the mount point.
//
//   POST /add-checkpoint              tlog-witness add-checkpoint
//   GET  /<hex sha256(origin)>/checkpoint   latest cosigned checkpoint (monitoring), 404 if none
//   GET  /metrics                     Prometheus, from the registry given
//   GET  /                            {name, vkey, origins} as JSON
import express, { type Express, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import { createHttpApp, finishHttpApp, type ErrorBody } from '../platform/http.ts';
import type { Logger } from '../platform/logger.ts';
import { ADD_CHECKPOINT_STATUS, WITNESS_TEXT_CONTENT_TYPE } from './add-checkpoint.ts';
import { isWitnessError } from './errors.ts';
import type { WitnessAnswer, WitnessNode } from './witness-node.ts';

/** WitnessAppConfig is what the HTTP layer needs from WitnessConfig. */
export interface WitnessAppConfig {
  /** maxBodyBytes bounds the add-checkpoint body read from the socket, in bytes. */
  readonly maxBodyBytes: number;
}

/**
 * WitnessAppDeps are the app's collaborators. `registry` gets the HTTP duration histogram and is
 * served at /metrics: give each witness its own registry (createHttpApp registers fixed names).
 */
export interface WitnessAppDeps {
  readonly node: WitnessNode;
  readonly logger: Logger;
  readonly registry?: Registry;
}

const ORIGIN_HASH = /^[0-9a-f]{64}$/;
const EMPTY = new Uint8Array(0);

/**
 * createWitnessApp returns the witness's Express app. Every answer carries
 * `X-Content-Type-Options: nosniff`; add-checkpoint answers are written with the node's exact
 * Content-Type (Express would append a charset to `text/x.tlog.size`, which strict clients such as
 * sigsum-go refuse).
 */
export function createWitnessApp(config: WitnessAppConfig, deps: WitnessAppDeps): Express {
  const { node, logger } = deps;
  const outer = express();
  outer.disable('x-powered-by');
  outer.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  const app = createHttpApp({ component: 'witness', logger, ...(deps.registry ? { metrics: deps.registry } : {}) });
  // The Content-Type of a request is unspecified (tlog-witness), so any is read, as raw bytes. No
  // inflation: a compressed body could expand far past the limit before it is refused.
  const raw = express.raw({ type: () => true, limit: config.maxBodyBytes, inflate: false });
  const readBody = (req: Request, res: Response): Promise<Uint8Array> =>
    new Promise((resolve, reject) => raw(req, res, (err?: unknown) => (err ? reject(err) : resolve(Buffer.isBuffer(req.body) ? req.body : EMPTY))));

  app.post('/add-checkpoint', async (req, res) => {
    if (node.isOverloaded()) return sendAnswer(res, node.overloaded());
    let body: Uint8Array;
    try {
      body = await readBody(req, res);
    } catch (err) {
      const tooLarge = (err as { type?: string }).type === 'entity.too.large';
      const message = tooLarge ? `request body is larger than ${config.maxBodyBytes} bytes` : `couldn't read the request body: ${(err as Error).message}`;
      return sendAnswer(res, node.refuseBody(tooLarge ? 'body_too_large' : 'unreadable_body', message));
    }
    sendAnswer(res, await node.addCheckpoint(body));
  });

  app.get('/:originHash/checkpoint', async (req, res) => {
    const hash = req.params.originHash;
    try {
      const note = ORIGIN_HASH.test(hash) ? await node.cosignedCheckpoint(hash) : undefined;
      if (note === undefined) return sendText(res, 404, 'no checkpoint cosigned for this log\n');
      res.setHeader('Cache-Control', 'no-cache');
      sendText(res, 200, note);
    } catch (err) {
      logger.error({ err }, "couldn't read a cosigned checkpoint");
      res.status(statusFor(err)).json({ code: 'internal', message: 'internal error' } satisfies ErrorBody);
    }
  });

  app.get('/', (_req, res) => {
    res.json(node.status());
  });

  finishHttpApp(app, logger);
  outer.use(app);
  return outer;
}

/** statusFor maps a failure of a read to its status: the core's table, else 500. */
function statusFor(err: unknown): number {
  return isWitnessError(err) ? ADD_CHECKPOINT_STATUS[err.code] : 500;
}

/** sendAnswer writes a node answer exactly: status, Content-Type, Retry-After, body. */
function sendAnswer(res: Response, a: WitnessAnswer): void {
  if (a.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(a.retryAfterSeconds));
  sendText(res, a.status, a.body, a.contentType);
}

function sendText(res: Response, status: number, text: string, contentType = WITNESS_TEXT_CONTENT_TYPE): void {
  const bytes = Buffer.from(text, 'utf8');
  res.statusCode = status;
  // setHeader, not res.type()/res.set(): those rewrite the value (adding "; charset=utf-8").
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}
