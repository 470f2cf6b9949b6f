// The search page over real HTTP on loopback, in front of the real search API over a real tiled log
// (test/search-pages.ts): results are shown only once their inclusion proof and checkpoint
// signature verified, a lying API's results are refused, the query is escaped when reflected, and
// an API that is not there reads "search is not running".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../platform/http.ts';
import { silentLogger } from '../platform/logger.ts';
import { PAGE_CSP } from '../platform/page.ts';
import { SEARCH_ENTRIES, SEARCH_IDENTITY, SEARCH_ORIGIN, startSearchPages, type SearchPagesServer } from '../test/search-pages.ts';
import express from 'express';
import { createSearchPage, parseSearchForm } from './search-page.ts';

let fixture: SearchPagesServer;

beforeAll(async () => {
  fixture = await startSearchPages();
}, 60_000);

afterAll(async () => {
  await fixture?.close();
});

async function page(query: string): Promise<{ status: number; text: string; csp: string | null }> {
  const res = await fetch(`${fixture.url}/search?${query}`, { headers: { accept: 'text/html' } });
  return { status: res.status, text: await res.text(), csp: res.headers.get('content-security-policy') };
}

describe('GET /search', () => {
  it('shows every result of an identity, each proved into the signed checkpoint', async () => {
    const { status, text, csp } = await page(`by=identity&q=${encodeURIComponent(SEARCH_IDENTITY)}`);
    expect(status).toBe(200);
    expect(csp).toBe(PAGE_CSP);
    const indices = [...text.matchAll(/<tr class="result" data-index="(\d+)">/g)].map((m) => Number(m[1]));
    expect(indices).toEqual(Array.from({ length: SEARCH_ENTRIES / 3 }, (_, i) => i * 3));
    expect(text.match(/included in tree of size 30/g)).toHaveLength(indices.length);
    expect(text.match(/checkpoint signed by the log's key/g)).toHaveLength(indices.length);
    expect(text).toContain(SEARCH_ORIGIN);
    expect(text).not.toContain('does not verify');
  });

  it('finds an artifact by digest and shows its digest', async () => {
    const digest = fixture.artifact(4);
    const { status, text } = await page(`by=digest&q=sha256:${digest}`);
    expect(status).toBe(200);
    expect([...text.matchAll(/data-index="(\d+)"/g)].map((m) => m[1])).toEqual(['4']);
    expect(text).toContain(`sha256:${digest}`);
  });

  it('refuses results whose leaf does not verify against the proof', async () => {
    fixture.setTamper(true);
    try {
      const { status, text } = await page(`by=identity&q=${encodeURIComponent(SEARCH_IDENTITY)}`);
      expect(status).toBe(200);
      expect(text).not.toContain('<tr class="result"');
      expect(text.match(/does not verify and is not shown/g)).toHaveLength(SEARCH_ENTRIES / 3);
    } finally {
      fixture.setTamper(false);
    }
  });

  it('escapes the query it reflects (attacker-controlled)', async () => {
    const evil = '"><script>alert(1)</script>';
    const { status, text } = await page(`by=identity&q=${encodeURIComponent(evil)}`);
    expect(status).toBe(200);
    expect(text).not.toContain('<script>alert');
    expect(text).toContain('value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"');
    expect(text).toContain('id="no-results"');
  });

  it.each([
    ['an unknown field', 'by=colour&q=red', 400, 'unknown search field'],
    ['a repeated field', 'by=identity&by=digest&q=x', 400, 'by must be given once'],
    ['a query the API refuses', 'by=digest&q=xyz', 400, 'digest must be hex'],
    ['no query', 'by=identity', 200, 'vigil search'],
  ])('answers %s with a page, never a crash', async (_name, query, status, message) => {
    const res = await page(query);
    expect(res.status).toBe(status);
    expect(res.text).toContain(message);
  });

  it('reads "search is not running" when the API is not there', async () => {
    const app = express();
    const server = await listen(app, '127.0.0.1', 0);
    app.use(createSearchPage({ searchUrl: `${server.url}/api/v1/search`, logKeys: new Map(), logger: silentLogger() }));
    try {
      const res = await fetch(`${server.url}/search?by=identity&q=alice`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('search is not running');
    } finally {
      await server.close();
    }
  });
});

describe('parseSearchForm', () => {
  it('defaults to identity and refuses over-long queries', () => {
    expect(parseSearchForm({ q: ' a ' })).toEqual({ by: 'identity', q: 'a', cursor: undefined });
    expect(parseSearchForm({ q: 'x'.repeat(5000) })).toEqual({ error: 'the query is too long' });
    expect(parseSearchForm({ by: '__proto__', q: 'x' })).toHaveProperty('error');
  });
});
