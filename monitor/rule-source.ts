// Where workers get the watch rules and expected-signer policies from. The alerts component
// implements RuleSource over its subscriptions; the file source below serves a rules JSON file
// (monitor/rules.ts format) for monitors run without alerts. Workers ask before every range and
// rebuild their RuleIndex only when the version changes (RuleIndexCache).
import { readFile, stat } from 'node:fs/promises';
import { buildRuleIndex, type RuleIndex } from './rule-index.ts';
import { parseRuleSetJson, type RuleSet } from './rules.ts';

/**
 * RuleSource is the current rule set and a version string that changes whenever the set does.
 * Contract: current() is called before each range job, so it must be cheap when nothing changed
 * (compare a version, do not reload everything); it may throw (a database down): the job then
 * fails and is retried. A rule set that does not validate is the source's error to report; the
 * worker throws it the same way.
 */
export interface RuleSource {
  current(): Promise<{ version: string; rules: RuleSet }>;
}

/** EMPTY_RULE_SOURCE has no rules: the monitor still verifies and indexes everything. */
export const EMPTY_RULE_SOURCE: RuleSource = {
  current: async () => ({ version: 'empty', rules: { rules: [], policies: [] } }),
};

/** MAX_RULES_FILE_BYTES bounds a rules file (100k rules of a few hundred bytes). */
export const MAX_RULES_FILE_BYTES = 256 * 1024 * 1024;

/**
 * fileRuleSource serves a rules JSON file. The version is the file's size and modification time;
 * the file is read and parsed again only when they change. Throws MonitorError from
 * parseRuleSetJson when the file does not validate.
 */
export function fileRuleSource(path: string): RuleSource {
  let cached: { version: string; rules: RuleSet } | undefined;
  return {
    async current() {
      const s = await stat(path);
      if (s.size > MAX_RULES_FILE_BYTES) throw new Error(`rules file ${path} is over ${MAX_RULES_FILE_BYTES} bytes`);
      const version = `${s.size}:${s.mtimeMs}`;
      if (cached?.version !== version) cached = { version, rules: parseRuleSetJson(await readFile(path, 'utf8')) };
      return cached;
    },
  };
}

/** staticRuleSource serves a fixed rule set (tests, benches, embedded tools). */
export function staticRuleSource(rules: RuleSet, version = 'static'): RuleSource {
  return { current: async () => ({ version, rules }) };
}

/**
 * combinedRuleSource serves the union of several sources' rules; its version changes when any
 * source's does. Rule ids must not collide across sources: give each its own subscriber ids.
 */
export function combinedRuleSource(sources: readonly RuleSource[]): RuleSource {
  if (sources.length === 1) return sources[0]!;
  return {
    async current() {
      const parts = await Promise.all(sources.map((s) => s.current()));
      return {
        version: parts.map((p) => p.version).join('|'),
        rules: { rules: parts.flatMap((p) => p.rules.rules), policies: parts.flatMap((p) => p.rules.policies) },
      };
    },
  };
}

/** RuleIndexCache keeps the RuleIndex of the source's current version. */
export class RuleIndexCache {
  private version: string | undefined;
  private index: RuleIndex | undefined;

  constructor(private readonly source: RuleSource) {}

  /** current returns the index for the source's current version, rebuilding it if the version changed. */
  async current(): Promise<RuleIndex> {
    const { version, rules } = await this.source.current();
    if (this.index === undefined || version !== this.version) {
      this.index = buildRuleIndex(rules.rules, rules.policies);
      this.version = version;
    }
    return this.index;
  }
}
