// Evaluating an expected-signer policy against the signer of one entry. The policy's namespace
// pattern is indexed by monitor/rule-index.ts; this file decides, for a policy that covers an
// entry, whether any allowed signer fits, and when none does, says which fields of the nearest one
// differ. Cost: the policy's allowed signers (at most MAX_ALLOWED_SIGNERS), each a few compares.
import { normaliseIdentity, normaliseIssuer } from './normalise.ts';
import { compilePattern, describePattern, quoteValue, type CompiledPattern } from './pattern.ts';
import type { AllowedSigner, SignerPolicy } from './rules.ts';
import type { SignerIdentity } from './signing-event.ts';

/** SignerFacts is the normalised signer of an entry, as policies compare it. */
export interface SignerFacts {
  kind: SignerIdentity['kind'];
  /** san is the normalised SAN, or the key fingerprint for a bare key. */
  san: string;
  issuer: string | undefined;
  workflow: string | undefined;
  ref: string | undefined;
}

/** signerFactsOf normalises the signer fields that policies compare. */
export function signerFactsOf(identity: SignerIdentity): SignerFacts {
  if (identity.kind === 'key') {
    return { kind: 'key', san: normaliseIdentity(identity.san), issuer: undefined, workflow: undefined, ref: undefined };
  }
  return {
    kind: identity.kind,
    san: normaliseIdentity(identity.san),
    issuer: normaliseIssuer(identity.issuer),
    workflow: identity.ci.workflow,
    ref: identity.ci.ref,
  };
}

interface CompiledSigner {
  issuer: string;
  identity: CompiledPattern;
  workflow: string | undefined;
  ref: CompiledPattern | undefined;
}

/** CompiledPolicy is a policy with its patterns compiled. */
export interface CompiledPolicy {
  policy: SignerPolicy;
  namespace: CompiledPattern;
  signers: CompiledSigner[];
}

/** compileSignerPolicy compiles a validated policy (parseSignerPolicy); it throws pattern errors. */
export function compileSignerPolicy(policy: SignerPolicy): CompiledPolicy {
  return {
    policy,
    namespace: compilePattern('namespace', 'glob', policy.namespace),
    signers: policy.allowedSigners.map(compileSigner),
  };
}

function compileSigner(s: AllowedSigner): CompiledSigner {
  return {
    issuer: normaliseIssuer(s.issuer),
    identity: compilePattern('identity', s.identity.match, s.identity.pattern),
    workflow: s.workflow,
    ref: s.ref === undefined ? undefined : compilePattern('ref', 'glob', s.ref),
  };
}

/**
 * explainUnexpectedSigner returns undefined when some allowed signer of the policy fits the
 * signer, and otherwise the reason: which fields of the nearest allowed signer (fewest differing
 * fields, the first on a tie) differ, and how.
 */
export function explainUnexpectedSigner(p: CompiledPolicy, facts: SignerFacts): string | undefined {
  if (facts.kind === 'key') {
    return `signed by the bare key ${quoteValue(facts.san)}, and the policy allows only certificate identities`;
  }
  if (p.signers.some((s) => fits(s, facts))) return undefined;
  let nearest = 0;
  let nearestCount = Infinity;
  p.signers.forEach((s, i) => {
    const count = differences(s, facts).length;
    if (count < nearestCount) [nearest, nearestCount] = [i, count];
  });
  const diffs = differences(p.signers[nearest]!, facts).join('; ');
  return `no allowed signer fits; nearest is allowedSigners[${nearest}]: ${diffs}`;
}

function fits(s: CompiledSigner, facts: SignerFacts): boolean {
  return (
    facts.issuer === s.issuer &&
    s.identity.test(facts.san) &&
    (s.workflow === undefined || facts.workflow === s.workflow) &&
    (s.ref === undefined || (facts.ref !== undefined && s.ref.test(facts.ref)))
  );
}

// differences lists, in words, each field of s that facts do not fit.
function differences(s: CompiledSigner, facts: SignerFacts): string[] {
  const out: string[] = [];
  if (facts.issuer !== s.issuer) out.push(`issuer ${quoteValue(facts.issuer ?? '')} is not ${quoteValue(s.issuer)}`);
  if (!s.identity.test(facts.san)) out.push(`identity ${quoteValue(facts.san)} does not match ${describePattern(s.identity)}`);
  if (s.workflow !== undefined && facts.workflow !== s.workflow) {
    out.push(facts.workflow === undefined ? `workflow is absent, ${quoteValue(s.workflow)} is required` : `workflow ${quoteValue(facts.workflow)} is not ${quoteValue(s.workflow)}`);
  }
  if (s.ref !== undefined && (facts.ref === undefined || !s.ref.test(facts.ref))) {
    out.push(facts.ref === undefined ? `ref is absent, ${describePattern(s.ref)} is required` : `ref ${quoteValue(facts.ref)} does not match ${describePattern(s.ref)}`);
  }
  return out;
}
