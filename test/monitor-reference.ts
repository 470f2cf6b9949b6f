// Reference implementations for the monitor's matcher tests: the glob semantics of monitor/glob.ts
// as plain recursion, and a naive loop over every watch rule and policy that RuleIndex.match must
// agree with. Slow and obviously right; never used outside tests.
import { normaliseIdentity, normaliseIssuer, normaliseKeyFingerprint, normaliseNamespace } from '../monitor/normalise.ts';
import type { MatchMode, PatternDomain } from '../monitor/pattern.ts';
import { normaliseForDomain } from '../monitor/pattern.ts';
import type { AllowedSigner, SignerPolicy, WatchRule } from '../monitor/rules.ts';
import type { SigningEvent } from '../monitor/signing-event.ts';

/** referenceGlob decides a glob by recursion: `*` is any run without '/', `**` any run at all. */
export function referenceGlob(glob: string, value: string): boolean {
  const g = glob.replace(/\*{3,}/g, '**');
  const go = (i: number, j: number): boolean => {
    if (i === g.length) return j === value.length;
    if (g.startsWith('**', i)) {
      for (let k = j; k <= value.length; k++) if (go(i + 2, k)) return true;
      return false;
    }
    if (g[i] === '*') {
      for (let k = j; k <= value.length; k++) {
        if (go(i + 1, k)) return true;
        if (value[k] === '/') return false;
      }
      return false;
    }
    return j < value.length && g[i] === value[j] && go(i + 1, j + 1);
  };
  return go(0, 0);
}

/** referenceTest decides one pattern on a normalised value: exact, referenceGlob, or native RegExp. */
export function referenceTest(domain: PatternDomain, mode: MatchMode, pattern: string, value: string): boolean {
  if (mode === 'exact') return normaliseForDomain(domain, pattern) === value;
  if (mode === 'glob') return referenceGlob(normaliseForDomain(domain, pattern), value);
  // Native RegExp only on the small, generated patterns of the tests.
  return new RegExp(`^(?:${pattern.replace(/^\^/, '').replace(/\$$/, '')})$`).test(value);
}

/** ReferenceMatch is a match as the naive loop reports it: kind and rule or policy id. */
export interface ReferenceMatch {
  kind: string;
  id: string;
}

/** referenceMatch loops over every rule and policy; RuleIndex.match must find the same. */
export function referenceMatch(rules: readonly WatchRule[], policies: readonly SignerPolicy[], event: SigningEvent): ReferenceMatch[] {
  const out: ReferenceMatch[] = [];
  const san = normaliseIdentity(event.identity.san);
  const issuer = event.identity.kind === 'key' ? undefined : normaliseIssuer(event.identity.issuer);
  const namespaces = event.namespaces.map((n) => normaliseNamespace(n.value));
  for (const r of rules) {
    const hit =
      r.target === 'identity'
        ? referenceTest('identity', r.match, r.pattern, san) && (r.issuer === undefined || normaliseIssuer(r.issuer) === issuer)
        : r.target === 'key'
          ? referenceTest('key', r.match, r.pattern, normaliseKeyFingerprint(event.keyFingerprint))
          : namespaces.some((n) => referenceTest('namespace', r.match, r.pattern, n));
    if (hit) out.push({ kind: `${r.target}-used`, id: r.id });
  }
  for (const p of policies) {
    if (!namespaces.some((n) => referenceTest('namespace', 'glob', p.namespace, n))) continue;
    if (!p.allowedSigners.some((s) => referenceFits(s, event))) out.push({ kind: 'unexpected-signer', id: p.id });
  }
  return out;
}

function referenceFits(s: AllowedSigner, event: SigningEvent): boolean {
  const id = event.identity;
  if (id.kind === 'key') return false;
  return (
    normaliseIssuer(id.issuer) === normaliseIssuer(s.issuer) &&
    referenceTest('identity', s.identity.match, s.identity.pattern, normaliseIdentity(id.san)) &&
    (s.workflow === undefined || s.workflow === id.ci.workflow) &&
    (s.ref === undefined || (id.ci.ref !== undefined && referenceGlob(s.ref, id.ci.ref)))
  );
}
