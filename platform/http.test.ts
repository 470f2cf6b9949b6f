// The shared HTTP plumbing, over real loopback HTTP.
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, finishHttpApp, listen, type Listening } from './http.ts';
import { silentLogger } from './logger.ts';
import { createMetricsRegistry } from './metrics.ts';

describe('createHttpApp / finishHttpApp', () => {
  let srv: Listening;
  beforeAll(async () => {
    const logger = silentLogger();
    const app = createHttpApp({ component: 'test', logger, metrics: createMetricsRegistry({}, false) });
    app.post('/echo', express.json({ limit: 64 }), (req, res) => { res.json(req.body); });
    app.get('/boom', () => { throw new Error('secret detail'); });
    finishHttpApp(app, logger);
    srv = await listen(app, '127.0.0.1', 0);
  });
  afterAll(async () => srv.close());

  it('serves routes and counts them in /metrics by route pattern', async () => {
    const res = await fetch(`${srv.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ a: 1 });
    expect(res.headers.get('x-powered-by')).toBeNull();
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_http_request_duration_seconds_count\{component="test",route="\/echo",method="POST",status="200"\} 1/);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await fetch(`${srv.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 'not_found', message: 'no such resource: GET /nope' });
  });

  it('answers an oversized body with 413 and a malformed one with 400, never 500', async () => {
    const big = await fetch(`${srv.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(100) }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe('body_too_large');
    const bad = await fetch(`${srv.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('malformed_body');
  });

  it('hides the details of an unexpected error', async () => {
    const res = await fetch(`${srv.url}/boom`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret detail');
  });
});
