// Rule sources: the file source re-reads a changed file, and workers rebuild their index only
// when the version changes.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMonitorError } from './errors.ts';
import { combinedRuleSource, fileRuleSource, RuleIndexCache, staticRuleSource, type RuleSource } from './rule-source.ts';
import type { RuleSet } from './rules.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rule = (id: string, pattern: string) => ({ id, subscriberId: 's', target: 'identity', match: 'exact', pattern });

describe('fileRuleSource', () => {
  it('reads the file, keeps the version while it is unchanged, and re-reads it when it changes', async () => {
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify({ rules: [rule('a', 'a@example.com')] }));
    const src = fileRuleSource(file);
    const first = await src.current();
    expect(first.rules.rules.map((r) => r.id)).toEqual(['a']);
    expect((await src.current()).version).toBe(first.version);
    writeFileSync(file, JSON.stringify({ rules: [rule('a', 'a@example.com'), rule('b', 'b@example.com')] }));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const second = await src.current();
    expect(second.version).not.toBe(first.version);
    expect(second.rules.rules.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('throws the rule error of an invalid file', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ rules: [{ id: 'x' }] }));
    await expect(fileRuleSource(file).current()).rejects.toSatisfy((e: unknown) => isMonitorError(e, 'malformed_rule'));
  });
});

describe('RuleIndexCache', () => {
  it('rebuilds the index only when the version changes', async () => {
    let state: { version: string; rules: RuleSet } = { version: '1', rules: { rules: [], policies: [] } };
    const src: RuleSource = { current: async () => state };
    const cache = new RuleIndexCache(src);
    const a = await cache.current();
    expect(await cache.current()).toBe(a);
    state = { version: '2', rules: { rules: [{ id: 'r', subscriberId: 's', target: 'identity', match: 'exact', pattern: 'x@y.z' }], policies: [] } };
    const b = await cache.current();
    expect(b).not.toBe(a);
    expect(b.ruleCount).toBe(1);
    expect((await new RuleIndexCache(staticRuleSource(state.rules)).current()).ruleCount).toBe(1);
  });
});

describe('combinedRuleSource', () => {
  const policy = (id: string, namespace: string) => ({ id, subscriberId: 's2', namespace, allowedSigners: [{ issuer: 'https://issuer.example', identity: { match: 'exact' as const, pattern: 'ci@example.com' } }] });

  it('serves the union of its sources, and a new version when any one of them changes', async () => {
    const fixed = staticRuleSource({ rules: [rule('f1', 'f@example.com')] as RuleSet['rules'], policies: [] }, 'file:1');
    let state: { version: string; rules: RuleSet } = { version: 'alerts:1', rules: { rules: [], policies: [policy('p1', 'pkg:npm/a')] } };
    const changing: RuleSource = { current: async () => state };
    const combined = combinedRuleSource([fixed, changing]);
    const first = await combined.current();
    expect(first.rules.rules.map((r) => r.id)).toEqual(['f1']);
    expect(first.rules.policies.map((p) => p.id)).toEqual(['p1']);
    expect((await combined.current()).version).toBe(first.version);
    state = { version: 'alerts:2', rules: { rules: [rule('a1', 'a@example.com')] as RuleSet['rules'], policies: [policy('p1', 'pkg:npm/a')] } };
    const second = await combined.current();
    expect(second.version).not.toBe(first.version);
    expect(second.rules.rules.map((r) => r.id)).toEqual(['f1', 'a1']);
    const index = await new RuleIndexCache(combined).current();
    expect(index.ruleCount).toBe(2); // watch rules of both sources
  });

  it('is the source itself when there is only one, and fails when a source fails', async () => {
    const only = staticRuleSource({ rules: [], policies: [] });
    expect(combinedRuleSource([only])).toBe(only);
    const broken: RuleSource = { current: async () => Promise.reject(new Error('database down')) };
    await expect(combinedRuleSource([only, broken]).current()).rejects.toThrow('database down');
  });
});
