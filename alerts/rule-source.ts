// The monitor's RuleSource over confirmed subscriptions: every rule and policy of every confirmed
// subscriber, with the subscriber's id as the owner, so the monitor's findings name the subscriber
// (monitor/findings.ts subscriberId) and the fan-out delivers them to that subscriber alone.
import type { Queryable } from '../platform/db.ts';
import type { RuleSource } from '../monitor/rule-source.ts';
import { parseSignerPolicy, parseWatchRule, type RuleSet } from '../monitor/rules.ts';
import { parseBody } from './subscriptions.ts';

/**
 * createSubscriptionRuleSource returns a RuleSource over the alerts tables. current() costs one
 * single-row read when nothing changed: the version is alerts_rules_version, bumped in every
 * transaction that changes rules or who is confirmed. Stored rules were validated when submitted;
 * they are parsed again here so a hand-edited row fails loudly instead of reaching the index.
 */
export function createSubscriptionRuleSource(db: Queryable): RuleSource {
  let cached: { version: string; rules: RuleSet } | undefined;
  return {
    async current() {
      const v = await db.query<{ version: bigint }>('SELECT version FROM alerts_rules_version WHERE one = 1');
      const version = `alerts:${v[0]?.version ?? 0n}`;
      if (cached?.version === version) return cached;
      const rows = await db.query<{ kind: string; body: unknown }>(
        `SELECT r.kind, r.body FROM alerts_rules r JOIN alerts_subscribers s ON s.id = r.subscriber_id
         WHERE s.state = 'confirmed' ORDER BY r.id`,
      );
      const rules: RuleSet = { rules: [], policies: [] };
      for (const r of rows) {
        if (r.kind === 'rule') rules.rules.push(parseWatchRule(parseBody(r.body), 'alerts_rules'));
        else rules.policies.push(parseSignerPolicy(parseBody(r.body), 'alerts_rules'));
      }
      // The version was read before the rules: a change in between bumps it again, so the next call reloads.
      cached = { version, rules };
      return cached;
    },
  };
}
