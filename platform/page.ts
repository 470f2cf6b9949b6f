// The shared layout of Vigil's web pages: plain server-rendered HTML, one stylesheet and one small
// script served from /assets/, no build step and no framework. Markup is built with the `html`
// tagged template, which escapes every interpolated value unless it is already SafeHtml, so a
// value from a log entry, a query or a witness (attacker-controlled) can never become markup.
// Every page is sent with a strict Content-Security-Policy: scripts and styles only from this
// origin (no inline script, no inline style), nothing embedded elsewhere, forms only to here.
import express, { type Request, type Response, type Router } from 'express';

/** SafeHtml is markup that is safe to send: built by `html` or `raw`, never from a plain string. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** escapeHtml escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** HtmlValue is what `html` accepts in a hole: text and numbers are escaped, arrays joined. */
export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** html is the tagged template every page uses: holes are escaped (see HtmlValue). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** raw marks markup built by our own code (an SVG chart) as safe; never pass it input. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** PAGE_CSP is the Content-Security-Policy of every page. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** PageNav is one link of the navigation bar. */
export interface PageNav {
  href: string;
  label: string;
}

/** PAGE_NAV is the navigation every page shows. */
export const PAGE_NAV: readonly PageNav[] = [
  { href: '/', label: 'Status' },
  { href: '/search', label: 'Search' },
];

/** renderPage wraps `body` in the layout: head, stylesheet, navigation, script. */
export function renderPage(title: string, body: SafeHtml, nav: readonly PageNav[] = PAGE_NAV): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Vigil</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/vigil.css">
<script src="/assets/vigil.js" defer></script>
</head>
<body>
<header><a class="brand" href="/">Vigil</a><nav>${nav.map((n) => html`<a href="${n.href}">${n.label}</a>`)}</nav></header>
<main>
<h1>${title}</h1>
${body}
</main>
<footer>Vigil transparency log · every number here can be checked against the log's API</footer>
</body>
</html>
`;
}

/** setPageHeaders sets the security headers of a page or an asset. */
export function setPageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

/** sendPage answers a rendered page (no caching: status pages change every second). */
export function sendPage(res: Response, status: number, page: SafeHtml): void {
  setPageHeaders(res);
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).type('text/html; charset=utf-8').send(page.value);
}

/** wantsHtml reports whether the request is a browser's: its Accept names text/html. */
export function wantsHtml(req: Request): boolean {
  return (req.get('accept') ?? '').toLowerCase().includes('text/html');
}

/** PAGE_CSS is the one stylesheet, served at /assets/vigil.css. */
export const PAGE_CSS = `
:root { --fg: #1b1f24; --muted: #5b6470; --line: #d8dde3; --bg: #f6f8fa; --ok: #1a7f37; --bad: #cf222e; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 2rem; align-items: center; padding: .6rem 1.5rem; background: #0d1117; }
header a { color: #e6edf3; text-decoration: none; }
header .brand { font-weight: 700; font-size: 1.2rem; }
header nav { display: flex; gap: 1.2rem; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 1.5rem 2rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; margin-bottom: 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: .8rem; margin-bottom: 1rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .7rem 1rem; }
.card .label { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 1.6rem; font-weight: 600; font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
td.num { font-variant-numeric: tabular-nums; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
pre { background: var(--bg); padding: .6rem; border-radius: 4px; white-space: pre-wrap; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.muted { color: var(--muted); }
form.search { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: 1rem; }
form.search input[type=text] { flex: 1 1 24rem; padding: .45rem .6rem; font: inherit; border: 1px solid var(--line); border-radius: 4px; }
form.search select, form.search button { padding: .45rem .8rem; font: inherit; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
form.search button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .bar { fill: var(--accent); }
svg.chart .axis { stroke: var(--line); }
svg.chart text { fill: var(--muted); font-size: 11px; }
details summary { cursor: pointer; color: var(--accent); }
footer { text-align: center; color: var(--muted); font-size: .8rem; padding: 1rem; }
`;

/**
 * PAGE_SCRIPT is the one script, served at /assets/vigil.js. It marks the document as scripted
 * (tests see that CSP let it run), refreshes the status numbers from /status.json every 5 s
 * (textContent only, never markup) and shows times in the reader's time zone.
 */
export const PAGE_SCRIPT = `'use strict';
(function () {
  document.documentElement.dataset.script = 'ready';
  function localTimes() {
    document.querySelectorAll('time[datetime]').forEach(function (t) {
      var d = new Date(t.getAttribute('datetime'));
      if (!isNaN(d.getTime())) t.textContent = d.toLocaleString();
    });
  }
  function refresh() {
    fetch('/status.json', { headers: { accept: 'application/json' } }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (s) {
      if (!s) return;
      document.querySelectorAll('[data-status]').forEach(function (el) {
        var v = s[el.getAttribute('data-status')];
        if (typeof v === 'string' || typeof v === 'number') el.textContent = String(v);
      });
    }).catch(function () {});
  }
  document.addEventListener('DOMContentLoaded', function () {
    localTimes();
    if (document.body.querySelector('[data-status]')) setInterval(refresh, 5000);
  });
})();
`;

/** createPageAssets serves /assets/vigil.css and /assets/vigil.js. */
export function createPageAssets(): Router {
  const router = express.Router();
  const asset = (type: string, body: string) => (_req: Request, res: Response) => {
    setPageHeaders(res);
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type(type).send(body);
  };
  router.get('/assets/vigil.css', asset('text/css; charset=utf-8', PAGE_CSS));
  router.get('/assets/vigil.js', asset('text/javascript; charset=utf-8', PAGE_SCRIPT));
  return router;
}
