// The witness's HTTP surface (c2sp.org/tlog-witness), thin: read the bounded body, call the node,
// write its answer to the byte. It is a plain node:http request listener, without Express on the
// hot path (routing and middleware were ~10–15% of a request's CPU): served alone (main.ts,
// platform/http.ts listen) or mounted under a prefix by an Express app (`vigil up` serves each witness under
// /witness/<name>/ on one port with `app.use(path, handler)`, which makes req.url relative to the
// mount point). The submission and the monitoring prefix are both the mount point.
//
//   POST /add-checkpoint              tlog-witness add-checkpoint
//   GET  /<hex sha256(origin)>/checkpoint   latest cosigned checkpoint (monitoring), 404 if none
//   GET  /metrics                     Prometheus, from the registry given
//   GET  /                            {name, vkey, origins} as JSON
//
// The answers are those the Express app this replaced gave: paths match case-insensitively with
// an optional final slash, GET routes answer HEAD, anything else is a JSON 404.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { newRequestDurationHistogram, type ErrorBody } from '../platform/http.ts';
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
 * WitnessAppDeps are the handler's collaborators. `registry` gets the HTTP duration histogram and
 * is served at /metrics: give each witness its own registry (the histogram has a fixed name).
 */
export interface WitnessAppDeps {
  readonly node: WitnessNode;
  readonly logger: Logger;
  readonly registry?: Registry;
}

/**
 * WitnessHandler is a node:http request listener; as Express middleware it never calls `next`
 * (every path gets an answer, unknown ones a JSON 404).
 */
export type WitnessHandler = (req: IncomingMessage, res: ServerResponse, next?: unknown) => void;

/** The route patterns, as the `route` label of vigil_http_request_duration_seconds. */
type Route = '/add-checkpoint' | '/:originHash/checkpoint' | '/metrics' | '/' | 'unmatched';

const ORIGIN_HASH = /^[0-9a-f]{64}$/;
const CHECKPOINT_PATH = /^\/([^/]+)\/checkpoint\/?$/i;
const EMPTY = new Uint8Array(0);
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

interface Context {
  readonly node: WitnessNode;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly registry: Registry | undefined;
  readonly metricsContentType: string;
  readonly observe: (route: Route, method: string, status: number, startMs: number) => void;
}

/**
 * createWitnessHandler returns the witness's request listener. Every answer carries
 * `X-Content-Type-Options: nosniff`; add-checkpoint answers are written with the node's exact
 * Content-Type (strict clients such as sigsum-go refuse `text/x.tlog.size` with a charset).
 * Requests are timed into `vigil_http_request_duration_seconds{component="witness"}` when a
 * registry is given.
 */
export function createWitnessHandler(config: WitnessAppConfig, deps: WitnessAppDeps): WitnessHandler {
  const ctx: Context = {
    node: deps.node,
    logger: deps.logger,
    maxBodyBytes: config.maxBodyBytes,
    registry: deps.registry,
    metricsContentType: deps.registry ? withUtf8Charset(deps.registry.contentType) : '',
    observe: deps.registry ? durationObserver(deps.registry) : () => {},
  };
  return (req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      ctx.logger.error({ err, method: req.method, path: pathOf(req.url) }, 'unhandled error in request');
      if (!res.headersSent) sendJson(ctx, res, 'unmatched', performance.now(), 500, { code: 'internal', message: 'internal error' } satisfies ErrorBody);
    });
  };
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startMs = performance.now();
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const method = req.method ?? 'GET';
  const path = pathOf(req.url);
  // Express's default matching: case-insensitive, one optional final slash.
  const bare = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (method === 'POST') {
    if (bare.toLowerCase() === '/add-checkpoint') return addCheckpoint(ctx, req, res, startMs);
  } else if (method === 'GET' || method === 'HEAD') {
    if (bare === '/') return sendJson(ctx, res, '/', startMs, 200, ctx.node.status());
    const m = CHECKPOINT_PATH.exec(path);
    if (m !== null) return checkpoint(ctx, res, m[1]!, startMs);
    if (ctx.registry !== undefined && bare.toLowerCase() === '/metrics') {
      const text = await ctx.registry.metrics();
      return sendText(ctx, res, '/metrics', startMs, 200, text, ctx.metricsContentType);
    }
  }
  sendJson(ctx, res, 'unmatched', startMs, 404, { code: 'not_found', message: `no such resource: ${method} ${path}` } satisfies ErrorBody);
}

async function addCheckpoint(ctx: Context, req: IncomingMessage, res: ServerResponse, startMs: number): Promise<void> {
  const { node } = ctx;
  if (node.isOverloaded()) return sendAnswer(ctx, res, startMs, node.overloaded());
  let body: Uint8Array;
  try {
    body = await readBody(req, ctx.maxBodyBytes);
  } catch (err) {
    const tooLarge = err instanceof BodyTooLarge;
    const message = tooLarge ? `request body is larger than ${ctx.maxBodyBytes} bytes` : `couldn't read the request body: ${(err as Error).message}`;
    return sendAnswer(ctx, res, startMs, node.refuseBody(tooLarge ? 'body_too_large' : 'unreadable_body', message));
  }
  sendAnswer(ctx, res, startMs, await node.addCheckpoint(body));
}

async function checkpoint(ctx: Context, res: ServerResponse, encodedHash: string, startMs: number): Promise<void> {
  const route = '/:originHash/checkpoint';
  try {
    const hash = decodeSegment(encodedHash);
    const note = hash !== undefined && ORIGIN_HASH.test(hash) ? await ctx.node.cosignedCheckpoint(hash) : undefined;
    if (note === undefined) return sendText(ctx, res, route, startMs, 404, 'no checkpoint cosigned for this log\n');
    res.setHeader('Cache-Control', 'no-cache');
    sendText(ctx, res, route, startMs, 200, note);
  } catch (err) {
    ctx.logger.error({ err }, "couldn't read a cosigned checkpoint");
    const status = isWitnessError(err) ? ADD_CHECKPOINT_STATUS[err.code] : 500;
    sendJson(ctx, res, route, startMs, status, { code: 'internal', message: 'internal error' } satisfies ErrorBody);
  }
}

/** BodyTooLarge is the refusal of a body over maxBodyBytes (declared or counted). */
class BodyTooLarge extends Error {}

/**
 * readBody reads an add-checkpoint body (attacker-controlled) up to `maxBytes`. As the Express
 * raw parser did: a request without Content-Length or Transfer-Encoding has an empty body; a
 * Content-Encoding other than identity is refused unread (no inflation: a compressed body could
 * expand far past the limit); a body over the limit is read off to its end, discarded, and
 * refused with BodyTooLarge; an aborted or failing stream rejects with its reason.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const headers = req.headers;
  const declared = headers['content-length'];
  if (headers['transfer-encoding'] === undefined && (declared === undefined || Number.isNaN(Number(declared)))) return Promise.resolve(EMPTY);
  if ((headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity') return Promise.reject(new Error('content encoding unsupported'));
  return new Promise((resolve, reject) => {
    let tooLarge = declared !== undefined && Number(declared) > maxBytes;
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      total += chunk.length;
      if (total > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.once('end', () => {
      if (tooLarge) reject(new BodyTooLarge());
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    });
    req.once('error', reject);
    // A client that goes away mid-body ends the stream with 'close' and no 'end'.
    req.once('close', () => reject(new Error('request aborted')));
  });
}

/** sendAnswer writes a node answer exactly: status, Content-Type, Retry-After, body. */
function sendAnswer(ctx: Context, res: ServerResponse, startMs: number, a: WitnessAnswer): void {
  if (a.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(a.retryAfterSeconds));
  sendText(ctx, res, '/add-checkpoint', startMs, a.status, a.body, a.contentType);
}

/** sendText writes a text answer exactly: status, Content-Type as given, Content-Length, body (node:http leaves the body out for HEAD), and records the duration. */
function sendText(ctx: Context, res: ServerResponse, route: Route, startMs: number, status: number, text: string, contentType = WITNESS_TEXT_CONTENT_TYPE): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text, 'utf8'));
  // A string body goes out in one write with the headers (node:http joins them); a Buffer takes
  // a writev of two (~6% of a request's CPU).
  res.end(text, 'utf8');
  ctx.observe(route, res.req.method ?? 'GET', status, startMs);
}

/** sendJson answers JSON. */
function sendJson(ctx: Context, res: ServerResponse, route: Route, startMs: number, status: number, value: unknown): void {
  sendText(ctx, res, route, startMs, status, JSON.stringify(value), JSON_CONTENT_TYPE);
}

/** durationObserver records request durations, one cached histogram child per label set. */
function durationObserver(registry: Registry): Context['observe'] {
  const duration = newRequestDurationHistogram(registry);
  // Bounded: five routes, the methods node:http parses, the statuses the handler writes.
  const children = new Map<string, { observe(v: number): void }>();
  return (route, method, status, startMs) => {
    const key = `${route} ${method} ${status}`;
    let child = children.get(key);
    if (child === undefined) {
      child = duration.labels({ component: 'witness', route, method, status: String(status) });
      children.set(key, child);
    }
    child.observe((performance.now() - startMs) / 1000);
  };
}

/** pathOf is the path of a request URL, without the query. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** decodeSegment percent-decodes a path segment (attacker-controlled); undefined if malformed. */
function decodeSegment(segment: string): string | undefined {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** withUtf8Charset sets charset=utf-8 on a media type, parameters sorted, as Express's res.send did. */
function withUtf8Charset(type: string): string {
  const [base, ...params] = type.split(';').map((p) => p.trim());
  const rest = params.filter((p) => p !== '' && !/^charset=/i.test(p));
  return [base, ...[...rest, 'charset=utf-8'].sort()].join('; ');
}
