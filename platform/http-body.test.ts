// readBodyBounded against a real loopback server: within the bound, over it by Content-Length, and
// over it while streaming a chunked body.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBodyBounded } from './http-body.ts';

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/declared') res.writeHead(200, { 'content-length': 100 }).end('x'.repeat(100));
    else {
      // Chunked (no Content-Length): the bound is found while reading.
      res.writeHead(200);
      res.write('y'.repeat(60));
      res.end('y'.repeat(60));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('readBodyBounded', () => {
  it('returns a body within the bound and undefined past it, declared or streamed', async () => {
    expect(Buffer.from((await readBodyBounded(await fetch(`${base}/declared`), 100))!).toString()).toBe('x'.repeat(100));
    expect(await readBodyBounded(await fetch(`${base}/declared`), 99)).toBeUndefined();
    expect((await readBodyBounded(await fetch(`${base}/chunked`), 120))!.length).toBe(120);
    expect(await readBodyBounded(await fetch(`${base}/chunked`), 100)).toBeUndefined();
  });
});
