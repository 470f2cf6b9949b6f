import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalisePurl, parsePurl } from './purl.ts';

describe('normalisePurl', () => {
  it.each([
    // purl-spec types/npm-definition.json: the scope's '@' is percent-encoded; names are lowercased.
    ['pkg:npm/%40angular/animation@12.3.1', 'pkg:npm/@angular/animation'],
    ['pkg:npm/@angular/animation', 'pkg:npm/@angular/animation'],
    ['PKG:NPM/%40Angular/Animation', 'pkg:npm/@angular/animation'],
    ['pkg:npm/foobar@12.3.1', 'pkg:npm/foobar'],
    ['pkg:npm/mypackage@12.4.5?vcs_url=git://host.com/path/to/repo.git%404345abcd34343', 'pkg:npm/mypackage'],
    // pypi-definition.json: PEP 503 name normalisation.
    ['pkg:pypi/Django_Allauth@1.0', 'pkg:pypi/django-allauth'],
    ['pkg:pypi/zope.interface', 'pkg:pypi/zope-interface'],
    ['pkg:pypi/a__-.b', 'pkg:pypi/a-b'],
    // github-definition.json, golang-definition.json: lowercased namespace and name.
    ['pkg:github/Package-URL/Purl-Spec@244fd47e07d1004', 'pkg:github/package-url/purl-spec'],
    ['pkg:golang/GitHub.com/Gorilla/Context@234fd47e07d1004f0aed9c#api', 'pkg:golang/github.com/gorilla/context'],
    // maven and generic types keep their case.
    ['pkg:maven/org.apache.xmlgraphics/Batik-Anim@1.9.1?type=pom', 'pkg:maven/org.apache.xmlgraphics/Batik-Anim'],
    ['pkg:nuget/EnterpriseLibrary.Common@6.0.1304', 'pkg:nuget/enterpriselibrary.common'],
    ['pkg:cargo/Rand@0.7.2', 'pkg:cargo/Rand'],
    // Lenient forms.
    ['pkg://npm//foo', 'pkg:npm/foo'],
    ['pkg:generic/a%2Fb/c%25d', 'pkg:generic/a%2Fb/c%25d'],
    ['pkg:generic/a%40b/c%3Fd%23e', 'pkg:generic/a%40b/c%3Fd%23e'],
    ['pkg:npm/a%40b', 'pkg:npm/a%40b'],
    ['pkg:generic/%E2%82%AC', 'pkg:generic/€'],
  ])('%s → %s', (input, want) => {
    expect(normalisePurl(input)).toBe(want);
  });

  it('cuts at the first ?, # or @ so a crafted suffix cannot change the package', () => {
    expect(normalisePurl('pkg:npm/foo#a#b')).toBe('pkg:npm/foo');
    expect(normalisePurl('pkg:npm/foo?x=1#a?b')).toBe('pkg:npm/foo');
    expect(normalisePurl('pkg:npm/foo@1@2')).toBe('pkg:npm/foo');
  });

  it('invalid UTF-8 escapes decode to U+FFFD, equal however they are split', () => {
    expect(normalisePurl('pkg:generic/%E2%82%41')).toBe(normalisePurl('pkg:generic/%E2%82A'));
    expect(normalisePurl('pkg:generic/%zz')).toBe('pkg:generic/%25zz');
    expect(normalisePurl('pkg:generic/%25zz')).toBe('pkg:generic/%25zz');
  });

  it('leaves non-purls as they are, but for the scheme', () => {
    expect(normalisePurl('pkg:npm')).toBe('pkg:npm');
    expect(normalisePurl('PKG:')).toBe('pkg:');
    expect(parsePurl('npm/foo')).toBeUndefined();
  });

  it('reports versions, qualifiers and subpaths', () => {
    expect(parsePurl('pkg:npm/a@1?x=y#z')).toMatchObject({ hasVersion: true, hasQualifiers: true, hasSubpath: true });
    expect(parsePurl('pkg:npm/@scope/a')).toMatchObject({ type: 'npm', segments: ['@scope', 'a'], hasVersion: false });
  });

  it('is idempotent and total on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('p', 'k', 'g', ':', '/', '@', '%', '2', 'F', 'a', 'A', '?', '#', '_', '.') }), (tail) => {
        const once = normalisePurl(`pkg:${tail}`);
        expect(normalisePurl(once)).toBe(once);
      }),
    );
  });
});
