// RuleIndex matches one signing event against every watch rule and expected-signer policy at a
// cost that does not grow with their number: each normalised value of the event (its SAN, its key
// fingerprint, each namespace) is looked up in a PatternSet (hash map of literals, prefix and
// suffix radix trees, see monitor/pattern-set.ts), and only the candidates found there are tested.
// Policies are indexed by their namespace pattern; a policy that covers one of the event's
// namespaces then checks its own allowed signers (monitor/signer-policy.ts).
//
// Rules and policies are added and removed one at a time, without a rebuild, so subscriptions can
// change while workers run. The index is not safe for concurrent mutation and matching, which
// JavaScript's single thread rules out as long as no caller awaits between the two.
import { MonitorError } from './errors.ts';
import { normaliseIdentity, normaliseIssuer, normaliseKeyFingerprint, normaliseNamespace } from './normalise.ts';
import { compilePattern, describePattern, quoteValue, type CompiledPattern } from './pattern.ts';
import { PatternSet } from './pattern-set.ts';
import type { SignerPolicy, WatchRule, WatchTarget } from './rules.ts';
import { compileSignerPolicy, explainUnexpectedSigner, signerFactsOf, type CompiledPolicy } from './signer-policy.ts';
import type { SigningEvent } from './signing-event.ts';

/** WatchMatchKind is the finding kind of a watch rule's target: identity, namespace or key. */
export type WatchMatchKind = 'identity-used' | 'namespace-used' | 'key-used';

/** MatchKind is every kind of match: a watch rule's, or a policy's 'unexpected-signer'. */
export type MatchKind = WatchMatchKind | 'unexpected-signer';

/**
 * RuleMatch is one rule or policy that an event triggers, at most one per rule or policy. `value`
 * is the normalised value that matched (the SAN, the fingerprint, or the namespace); `reason`
 * says why in a sentence, with attacker-controlled values quoted and cut (quoteValue).
 */
export type RuleMatch =
  | { kind: WatchMatchKind; ruleId: string; subscriberId: string; value: string; reason: string }
  | { kind: 'unexpected-signer'; policyId: string; subscriberId: string; value: string; reason: string };

interface CompiledRule {
  rule: WatchRule;
  pattern: CompiledPattern;
  issuer: string | undefined;
}

// Namespace watch rules and policies share one PatternSet, so each namespace of an event is looked
// up once; member ids are prefixed ("r:", "p:") so a rule and a policy may share an id.
type NamespaceMember = { rule: CompiledRule; policy?: undefined } | { rule?: undefined; policy: CompiledPolicy };

const KIND_OF: Record<WatchTarget, WatchMatchKind> = { identity: 'identity-used', namespace: 'namespace-used', key: 'key-used' };

/** RuleIndex is the compiled, incrementally updatable index of watch rules and policies. */
export class RuleIndex {
  private readonly rules = new Map<string, CompiledRule>();
  private readonly policies = new Map<string, CompiledPolicy>();
  private readonly identities = new PatternSet<CompiledRule>();
  private readonly keys = new PatternSet<CompiledRule>();
  private readonly namespaces = new PatternSet<NamespaceMember>();

  /** ruleCount is the number of watch rules held. */
  get ruleCount(): number {
    return this.rules.size;
  }

  /** policyCount is the number of policies held. */
  get policyCount(): number {
    return this.policies.size;
  }

  /** scanCount is the number of patterns tested against every value (see PatternSet.scanCount). */
  get scanCount(): number {
    return this.identities.scanCount + this.keys.scanCount + this.namespaces.scanCount;
  }

  /**
   * addRule compiles and adds a rule validated by parseWatchRule. It throws duplicate_id when the
   * id is taken, or a pattern error; the index is unchanged when it throws.
   */
  addRule(rule: WatchRule): void {
    if (this.rules.has(rule.id)) throw new MonitorError('duplicate_id', `rule ${JSON.stringify(rule.id)} is already in the index`);
    const compiled: CompiledRule = {
      rule,
      pattern: compilePattern(rule.target, rule.match, rule.pattern),
      issuer: rule.issuer === undefined ? undefined : normaliseIssuer(rule.issuer),
    };
    this.rules.set(rule.id, compiled);
    if (rule.target === 'namespace') this.namespaces.add(compiled.pattern, `r:${rule.id}`, { rule: compiled });
    else this.setOf(rule.target).add(compiled.pattern, rule.id, compiled);
  }

  /** removeRule removes a rule by id and reports whether it was there. */
  removeRule(id: string): boolean {
    const compiled = this.rules.get(id);
    if (compiled === undefined) return false;
    this.rules.delete(id);
    if (compiled.rule.target === 'namespace') return this.namespaces.delete(compiled.pattern, `r:${id}`);
    return this.setOf(compiled.rule.target).delete(compiled.pattern, id);
  }

  private setOf(target: 'identity' | 'key'): PatternSet<CompiledRule> {
    return target === 'identity' ? this.identities : this.keys;
  }

  /** addPolicy compiles and adds a policy validated by parseSignerPolicy; like addRule, it throws and changes nothing. */
  addPolicy(policy: SignerPolicy): void {
    if (this.policies.has(policy.id)) {
      throw new MonitorError('duplicate_id', `policy ${JSON.stringify(policy.id)} is already in the index`);
    }
    const compiled = compileSignerPolicy(policy);
    this.policies.set(policy.id, compiled);
    this.namespaces.add(compiled.namespace, `p:${policy.id}`, { policy: compiled });
  }

  /** removePolicy removes a policy by id and reports whether it was there. */
  removePolicy(id: string): boolean {
    const compiled = this.policies.get(id);
    if (compiled === undefined) return false;
    this.policies.delete(id);
    return this.namespaces.delete(compiled.namespace, `p:${id}`);
  }

  /** match returns every rule and policy the event triggers, in no particular order. */
  match(event: SigningEvent): RuleMatch[] {
    const out: RuleMatch[] = [];
    const identity = event.identity;
    const san = normaliseIdentity(identity.san);
    const issuer = identity.kind === 'key' ? undefined : normaliseIssuer(identity.issuer);
    this.identities.match(san, (r) => {
      if (r.issuer === undefined || r.issuer === issuer) out.push(watchMatch(r, san));
    });
    const key = normaliseKeyFingerprint(event.keyFingerprint);
    this.keys.match(key, (r) => out.push(watchMatch(r, key)));
    if (event.namespaces.length > 0) this.matchNamespaces(event, out);
    return out;
  }

  // matchNamespaces reports each namespace rule once, and each policy that covers a namespace and
  // that no allowed signer of fits. Events have a few namespaces, so arrays serve as sets.
  private matchNamespaces(event: SigningEvent, out: RuleMatch[]): void {
    const seenRules: string[] = [];
    const covered: { policy: CompiledPolicy; value: string }[] = [];
    for (const ns of event.namespaces) {
      const value = normaliseNamespace(ns.value);
      this.namespaces.match(value, (m) => {
        if (m.policy !== undefined) {
          if (!covered.some((c) => c.policy === m.policy)) covered.push({ policy: m.policy, value });
        } else if (!seenRules.includes(m.rule.rule.id)) {
          seenRules.push(m.rule.rule.id);
          out.push(watchMatch(m.rule, value));
        }
      });
    }
    if (covered.length === 0) return;
    const facts = signerFactsOf(event.identity);
    for (const { policy: p, value } of covered) {
      const why = explainUnexpectedSigner(p, facts);
      if (why === undefined) continue;
      const policy = `policy ${quoteValue(p.policy.id)} (${describePattern(p.namespace)})`;
      const reason = `namespace ${quoteValue(value)} falls under ${policy}; ${why}`;
      out.push({ kind: 'unexpected-signer', policyId: p.policy.id, subscriberId: p.policy.subscriberId, value, reason });
    }
  }
}

function watchMatch(r: CompiledRule, value: string): RuleMatch {
  const target = r.rule.target === 'key' ? 'key fingerprint' : r.rule.target;
  const issuer = r.issuer === undefined ? '' : ` with issuer ${quoteValue(r.issuer)}`;
  const reason = `${target} ${quoteValue(value)} matches ${describePattern(r.pattern)}${issuer}`;
  return { kind: KIND_OF[r.rule.target], ruleId: r.rule.id, subscriberId: r.rule.subscriberId, value, reason };
}

/** buildRuleIndex builds an index of rules and policies (from parseRuleSet); it throws like addRule. */
export function buildRuleIndex(rules: readonly WatchRule[], policies: readonly SignerPolicy[]): RuleIndex {
  const index = new RuleIndex();
  for (const rule of rules) index.addRule(rule);
  for (const policy of policies) index.addPolicy(policy);
  return index;
}
