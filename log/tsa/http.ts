// The timestamp authority's HTTP surface, thin; mounted by the log/CA app (paths are relative to
// the mount point):
//
//   POST /api/v1/timestamp            application/timestamp-query (DER TimeStampReq, RFC 3161 §3.4)
//                                     or application/json (Sigstore timestamp-authority's JSON form,
//                                     what @sigstore/sign's TSAWitness sends)
//                                     → 201 application/timestamp-reply (DER TimeStampResp)
//   GET  /api/v1/timestamp/certchain  the TSA chain, PEM, leaf first
//
// Bad requests get 4xx `{ code, message }` (Vigil's own convention), not an RFC 3161 rejection
// response: clients of this TSA are Vigil's and Sigstore's, and both read the status code. 201
// matches Sigstore's timestamp-authority, whose generated clients expect it.
import express, { Router, type Request, type Response } from 'express';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.ts';
import type { ErrorBody } from '../../platform/http.ts';
import type { Logger } from '../../platform/logger.ts';
import { errorMessage } from '../errors.ts';
import { isTsaError, TsaError, type TsaErrorCode } from './errors.ts';
import { parseJsonTimestampRequest, parseTimeStampReq, type TimestampRequest } from './request.ts';
import { createTimestampResponse } from './response.ts';
import { formatTsaChainPem, type Tsa } from './tsa.ts';

/** MAX_TIMESTAMP_REQUEST_BYTES bounds a request body: a TimeStampReq is ~100 bytes. */
export const MAX_TIMESTAMP_REQUEST_BYTES = 4096;

/** TsaRouterDeps are the router's collaborators; `metrics` gets vigil_tsa_requests_total. */
export interface TsaRouterDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: Registry;
}

const STATUS: Readonly<Record<TsaErrorCode, number>> = {
  request_too_large: 413, unsupported_media_type: 415, malformed_request: 400, unsupported_algorithm: 400,
  unsupported_policy: 400, unsupported_extension: 400, invalid_config: 500, tsa_exists: 500,
};

/** statusFor maps an error to its HTTP status: the table for TsaErrors, 500 for anything else. */
export function statusFor(err: unknown): number {
  return isTsaError(err) ? STATUS[err.code] : 500;
}

function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function readBody(req: Request, res: Response): Promise<Uint8Array> {
  const raw = express.raw({ type: () => true, limit: MAX_TIMESTAMP_REQUEST_BYTES, inflate: false });
  return new Promise((resolve, reject) => {
    raw(req, res, (err?: unknown) => {
      if (err === undefined) return resolve(Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0));
      if ((err as { type?: string }).type === 'entity.too.large') {
        reject(new TsaError('request_too_large', `request body is over the limit of ${MAX_TIMESTAMP_REQUEST_BYTES} bytes`));
      } else {
        reject(new TsaError('malformed_request', `couldn't read the request body: ${errorMessage(err)}`, { cause: err }));
      }
    });
  });
}

function parseRequest(type: string, body: Uint8Array, policy: string): TimestampRequest {
  // body is attacker-controlled.
  if (type === 'application/timestamp-query') return parseTimeStampReq(body, policy);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    throw new TsaError('malformed_request', 'request body is not UTF-8 JSON', { cause: err });
  }
  return parseJsonTimestampRequest(json, policy);
}

/** createTsaRouter returns the TSA's routes (see the table at the top of this file). */
export function createTsaRouter(tsa: Tsa, deps: TsaRouterDeps): Router {
  const requests = new Counter({
    name: 'vigil_tsa_requests_total',
    help: 'Timestamp requests by result: "ok" or the TsaError code.',
    labelNames: ['result'],
    registers: deps.metrics === undefined ? [] : [deps.metrics],
  });
  const router = Router();
  const chainPem = formatTsaChainPem(tsa);

  router.post('/api/v1/timestamp', async (req, res) => {
    try {
      const type = mediaType(req);
      if (type !== 'application/timestamp-query' && type !== 'application/json') {
        throw new TsaError('unsupported_media_type', 'send application/timestamp-query (DER TimeStampReq) or application/json');
      }
      const request = parseRequest(type, await readBody(req, res), tsa.policy);
      const token = createTimestampResponse(tsa, request, new Date(deps.clock.nowMs()));
      requests.inc({ result: 'ok' });
      res.status(201).setHeader('Content-Type', 'application/timestamp-reply');
      res.setHeader('Content-Length', token.der.length);
      res.end(token.der);
    } catch (err) {
      const code = isTsaError(err) ? err.code : 'internal';
      requests.inc({ result: code });
      const status = statusFor(err);
      if (status >= 500) deps.logger.error({ err, code }, 'timestamp request failed');
      if (res.headersSent) return void res.destroy();
      res.status(status).json({ code, message: status >= 500 ? 'internal error' : errorMessage(err) } satisfies ErrorBody);
    }
  });

  router.get('/api/v1/timestamp/certchain', (_req, res) => {
    res.setHeader('Content-Type', 'application/pem-certificate-chain');
    res.send(chainPem);
  });
  return router;
}
