// The page layout's escaping: every hole of `html` is escaped unless it is SafeHtml, so text from
// outside (attacker-controlled) cannot become markup, in text or in a quoted attribute.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw, renderPage, PAGE_CSP } from './page.ts';

describe('html', () => {
  it('escapes text holes and keeps SafeHtml holes, arrays joined', () => {
    const evil = `<script>alert("x")</script>' onmouseover='y`;
    const out = html`<p title="${evil}">${evil}${[html`<b>${'&'}</b>`, 'a<b']}${raw('<svg></svg>')}${undefined}${null}${false}${7n}</p>`;
    expect(out.value).toBe(
      '<p title="&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39; onmouseover=&#39;y">' +
        '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39; onmouseover=&#39;y<b>&#38;</b>a&#60;b<svg></svg>7</p>',
    );
  });

  it('never lets a markup character through escapeHtml (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const e = escapeHtml(s);
        expect(e).not.toMatch(/[<>"'`]/);
        expect(e.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c)))).toBe(s);
      }),
    );
  });
});

describe('renderPage', () => {
  it('has no inline script or style, so PAGE_CSP allows all of it', () => {
    const page = renderPage('T<', html`<p>x</p>`).value;
    expect(page).toContain('<title>T&#60; · Vigil</title>');
    expect(page).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/);
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).not.toContain('unsafe');
  });
});
