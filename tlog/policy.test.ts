import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHex } from './base64.ts';
import { decodeVerifierKey, encodeVerifierKey } from './note-key-id.ts';
import { sha256 } from './sha256.ts';
import {
  formatPolicy,
  isQuorumSatisfied,
  isQuorumSatisfiedByKeys,
  parsePolicy,
  sigsumLogOrigin,
  type Policy,
} from './policy.ts';
import { parseLogList } from './log-list.ts';
import { describeVectors, hex, readVectorJson, readVectorText } from '../test/vectors.ts';
import { expectTlogError } from '../test/tlog-errors.ts';

const POLICY_TESTS = 'config/tlog-policy-tests.json';
const SIGSUM_GENERIC = 'config/sigsum-generic-2025-1.builtin-policy';
const SIGSUM_TEST = 'config/sigsum-test-2025-3.builtin-policy';
const TESTING_LOG_LIST = 'config/witness-network-testing-log-list.1';

/** key derives a stable test public key from a label. */
function key(label: string): Uint8Array {
  return sha256(new TextEncoder().encode(label));
}

function vkey(name: string, type: number, label = name): string {
  return encodeVerifierKey({ name, type, publicKey: key(label) });
}

/** subsets lists every subset of names. */
function subsets<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let mask = 0; mask < 1 << items.length; mask++) out.push(items.filter((_, i) => (mask >> i) & 1));
  return out;
}

describeVectors(`policy vectors: ${POLICY_TESTS} (sigsum-go config_test.go, C2SP, formats, rekor-tiles)`, () => {
  const v = readVectorJson(POLICY_TESTS);

  describe('valid policies (sigsum-go TestValidConfig, TestNumericThreshold)', () => {
    it.each((v.valid as any[]).map((c, i): [number, any] => [i, c]))('valid #%i parses and evaluates its truth table', (_i, c: any) => {
      const p = parsePolicy(c.policy);
      if (c.want) {
        expect(p.logs).toHaveLength(c.want.logs);
        expect(p.witnesses).toHaveLength(c.want.witnesses);
        expect(p.logs.filter((l) => l.url).map((l) => l.url)).toEqual(c.want.logs_with_url);
        const withUrl = Object.fromEntries(p.witnesses.filter((w) => w.url).map((w) => [w.name, w.url]));
        expect(withUrl).toEqual(c.want.witnesses_with_url);
      }
      const byName = new Map(p.witnesses.map((w) => [w.name, w.key.publicKey]));
      for (const q of c.quorum_cases.cases) {
        expect(isQuorumSatisfied(p, q.cosigned_by), JSON.stringify(q.cosigned_by)).toBe(q.ok);
        const keys = q.cosigned_by.map((n: string) => byName.get(n));
        expect(isQuorumSatisfiedByKeys(p, keys), `by keys ${JSON.stringify(q.cosigned_by)}`).toBe(q.ok);
      }
      expect(parsePolicy(formatPolicy(p))).toEqual(p);
    });

    it('witness_names_by_index names the witnesses in line order', () => {
      const c = v.valid[0];
      const names = parsePolicy(c.policy).witnesses.map((w) => w.name);
      expect(names.slice(0, c.quorum_cases.witness_names_by_index.length)).toEqual(c.quorum_cases.witness_names_by_index);
    });
  });

  describe('invalid policies (sigsum-go TestInvalidConfig)', () => {
    it.each((v.invalid as any[]).map((c): [string, any] => [c.desc, c]))('%s', (_desc, c: any) => {
      expectTlogError(() => parsePolicy(c.policy), 'malformed_policy', c.error_contains);
    });
  });

  it('c2sp_example (tlog-policy.md) parses with real vkeys and needs 2 of X and 1 of Y', () => {
    const names = ['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3'];
    let text: string = v.c2sp_example.policy_template;
    text = text.replace('log <vkey>', `log ${vkey('example.com/log', 0x01)}`);
    for (const n of names) text = text.replace(`witness ${n} <vkey>`, `witness ${n} ${vkey(`${n}.example`, 0x04)}`);
    const p = parsePolicy(text, { keyFormat: 'vkey' });
    expect(p.logs[0]?.origin).toBe('example.com/log');
    expect(p.groups.map((g) => [g.name, g.threshold])).toEqual([
      ['X-witnesses', 2],
      ['Y-witnesses', 1],
      ['X-and-Y', 2],
    ]);
    expect(p.quorum).toBe('X-and-Y');
    for (const s of subsets(names)) {
      const x = s.filter((n) => n.startsWith('X')).length;
      const y = s.filter((n) => n.startsWith('Y')).length;
      expect(isQuorumSatisfied(p, s), s.join(',')).toBe(x >= 2 && y >= 1);
    }
  });

  it('tessera_formats_examples: the first parses; the second reuses one vkey for w2 and w3, a duplicate under C2SP', () => {
    const [first, second] = v.tessera_formats_examples.policies as string[];
    const p = parsePolicy(first ?? '');
    expect(p.witnesses.map((w) => [w.name, w.key.type, w.url])).toEqual([
      ['w1', 0x01, 'https://sigsum.org/witness/'],
      ['w2', 0x01, 'https://example.com/witness/'],
    ]);
    expect(p.witnesses[0]?.key.name).toBe('sigsum.org');
    expect(isQuorumSatisfied(p, ['w1'])).toBe(false);
    expect(isQuorumSatisfied(p, ['w1', 'w2'])).toBe(true);
    // transparency-dev/formats accepts this; tlog-policy says duplicate witnesses are not allowed.
    expectTlogError(() => parsePolicy(second ?? ''), 'malformed_policy', 'line 3: duplicate witness');
    // With w3 removed the rest (including w4's type-0x04 key) parses: 2 of 3.
    const p2 = parsePolicy((second ?? '').replace(/^witness w3 .*\n/m, '').replace(' w3 ', ' '));
    expect(p2.witnesses.map((w) => w.key.type)).toEqual([0x01, 0x01, 0x04]);
    expect(isQuorumSatisfied(p2, ['w1', 'w4'])).toBe(true);
    expect(isQuorumSatisfied(p2, ['w4'])).toBe(false);
  });

  it('rekor_tiles_policy_example parses: one witness with a 0x01 vkey is the quorum', () => {
    const p = parsePolicy(v.rekor_tiles_policy_example.policies[0]);
    expect(p.witnesses).toHaveLength(1);
    expect(p.witnesses[0]?.key.name).toBe('transparency.dev/DEV:witness-little-garden');
    expect(p.witnesses[0]?.url).toBe('https://api.transparency.dev/dev/witness/little-garden');
    expect(isQuorumSatisfied(p, ['o1'])).toBe(true);
    expect(isQuorumSatisfied(p, [])).toBe(false);
  });
});

describeVectors(`Sigsum builtin policies: ${SIGSUM_GENERIC}, ${SIGSUM_TEST}`, () => {
  it('sigsum-generic-2025-1: two logs, three witnesses, 2 of 3', () => {
    const p = parsePolicy(readVectorText(SIGSUM_GENERIC), { keyFormat: 'sigsum-hex' });
    expect(p.logs.map((l) => l.url)).toEqual(['https://seasalp.glasklar.is', 'https://ginkgo.tlog.mullvad.net']);
    for (const l of p.logs) {
      expect(l.keyFormat).toBe('sigsum-hex');
      expect(l.origin).toBe(`sigsum.org/v1/tree/${encodeHex(sha256(hex(l.keyText)))}`);
      expect(l.key).toMatchObject({ name: l.origin, type: 0x01 });
    }
    const names = p.witnesses.map((w) => w.name);
    expect(names).toEqual(['witness.glasklar.is', 'witness.mullvad.net', 'tillitis.se/tillitis-witness-1']);
    // The witness name is the cosignature key name (sigsum-go doc/policy.md, Appendix A).
    for (const w of p.witnesses) expect(w.key).toMatchObject({ name: w.name, type: 0x04 });
    for (const s of subsets(names)) expect(isQuorumSatisfied(p, s), s.join(',')).toBe(s.length >= 2);
    expect(parsePolicy(formatPolicy(p))).toEqual(p);
  });

  it('sigsum-test-2025-3: 4 of 6 where one member is a 2-of-3 group', () => {
    const p = parsePolicy(readVectorText(SIGSUM_TEST));
    expect(p.logs).toHaveLength(2);
    expect(p.witnesses).toHaveLength(8);
    expect(p.groups.map((g) => [g.name, g.threshold, g.members.length])).toEqual([
      ['glasklar-test-witnesses', 2, 3],
      ['quorum-rule', 4, 6],
    ]);
    const glasklar = new Set(p.groups[0]?.members);
    const names = p.witnesses.map((w) => w.name);
    for (const s of subsets(names)) {
      const inner = s.filter((n) => glasklar.has(n)).length >= 2 ? 1 : 0;
      const want = inner + s.filter((n) => !glasklar.has(n)).length >= 4;
      expect(isQuorumSatisfied(p, s), s.join(',')).toBe(want);
    }
  });

  it(`Sigsum log keys match the vkeys of the same logs in ${TESTING_LOG_LIST}`, () => {
    const p = parsePolicy(readVectorText(SIGSUM_TEST));
    const listed = new Map(parseLogList(readVectorText(TESTING_LOG_LIST)).map((e) => [e.origin, e.vkey]));
    for (const l of p.logs) {
      const listedVkey = listed.get(l.origin);
      expect(listedVkey, l.origin).toBeDefined();
      const k = decodeVerifierKey(listedVkey ?? '');
      expect(k.publicKey).toEqual(l.key.publicKey);
      expect(k.keyId).toBe(l.key.keyId); // the same key ID, so the same signature lines match
    }
  });
});

describe('parsePolicy rules', () => {
  const W1 = 'a'.repeat(63) + '1';
  const W2 = 'b'.repeat(63) + '2';
  const W3 = 'c'.repeat(63) + '3';
  const base = `witness W1 ${W1}\nwitness W2 ${W2}\nwitness W3 ${W3}\n`;

  it.each([
    ['threshold 0', `${base}group G 0 W1 W2\nquorum G\n`, 'line 4: group threshold "0" out of range'],
    ['threshold above n', `${base}group G 3 W1 W2\nquorum G\n`, 'want 1 <= k <= 2'],
    ['threshold with a leading zero', `${base}group G 02 W1 W2\nquorum G\n`, 'without leading zeros'],
    ['threshold word', `${base}group G most W1 W2\nquorum G\n`, 'invalid group threshold "most"'],
    ['group without members', `${base}group G any\nquorum G\n`, 'invalid group policy line'],
    ['group containing itself', `${base}group G any W1 G\nquorum G\n`, 'undefined name: "G"'],
    ['member defined later', `group G any W1\n${base}quorum G\n`, 'line 1: undefined name: "W1"'],
    ['two quorum lines', `${base}quorum W1\nquorum W2\n`, 'line 5: duplicate quorum line: the quorum is already defined on line 4'],
    ['quorum of an undefined name', `${base}quorum W9\n`, 'undefined name: "W9"'],
    ['quorum of a later name', `quorum W1\n${base}`, 'line 1: undefined name: "W1"'],
    ['quorum with two names', `${base}quorum W1 W2\n`, 'invalid quorum policy line'],
    ['unknown keyword', `${base}witnesses W4 ${W1}\nquorum W1\n`, 'line 4: unknown keyword: "witnesses"'],
    ['witness without a key', 'witness W1\nquorum none\n', 'invalid witness policy line'],
    ['witness with an extra item', `witness W1 ${W1} http://w1 extra\nquorum none\n`, 'invalid witness policy line'],
    ['end-of-line comment after a witness URL', `witness W1 ${W1} #comment\nquorum none\n`, 'end-of-line comments are not allowed'],
    ['end-of-line comment on a quorum line', `${base}quorum W1 # the quorum\n`, 'invalid quorum policy line'],
    ['carriage return', `${base}quorum W1\r\n`, 'line 4: control character 0x0d'],
    ['NUL', `${base}quorum W1\0\n`, 'control character 0x00'],
    ['a lone surrogate', `${base}witness \ud800 ${'d'.repeat(64)}\nquorum W1\n`, 'line 4: invalid Unicode'],
    ['group named like a witness', `${base}group W1 any W2\nquorum W1\n`, 'duplicate name: "W1" (first defined on line 1)'],
    ['short hex key', 'log abcd\nquorum none\n', 'invalid log key "abcd"'],
    ['bad vkey', 'log example.com+00000000+AAAA\nquorum none\n', 'invalid log key'],
  ])('rejects %s', (_desc, text, contains) => {
    expectTlogError(() => parsePolicy(text), 'malformed_policy', contains);
  });

  it('rejects a log vkey of a cosigning type and a witness vkey of an ECDSA-only type', () => {
    expectTlogError(() => parsePolicy(`log ${vkey('example.com/log', 0x04)}\nquorum none\n`), 'malformed_policy', 'signature type 0x04 cannot be a log key');
    expect(parsePolicy(`log ${vkey('example.com/log', 0x01)}\nquorum none\n`).logs[0]?.origin).toBe('example.com/log');
    expectTlogError(() => parsePolicy(`witness W ${vkey('w.example', 0x02)}\nquorum none\n`), 'malformed_policy', 'signature type 0x02 cannot be a witness key');
  });

  it('treats a vkey and a hex key that wrap one public key as duplicates', () => {
    const pub = key('same');
    const text = `witness A ${encodeHex(pub)}\nwitness B ${encodeVerifierKey({ name: 'b.example', type: 0x04, publicKey: pub })}\nquorum none\n`;
    expectTlogError(() => parsePolicy(text), 'malformed_policy', 'line 2: duplicate witness');
  });

  it('keyFormat restricts keys to one form', () => {
    expectTlogError(() => parsePolicy(`witness W1 ${W1}\nquorum none\n`, { keyFormat: 'vkey' }), 'malformed_policy', 'want a vkey');
    const v = vkey('w.example', 0x04);
    expectTlogError(() => parsePolicy(`witness W1 ${v}\nquorum none\n`, { keyFormat: 'sigsum-hex' }), 'malformed_policy', 'want 64 hex digits');
  });

  it('accepts tabs, leading whitespace, indented comments and a last line without a newline', () => {
    const p = parsePolicy(`\t# c\n \twitness\tW1\t${W1}  http://w1\t\n\n   # c2\nquorum\tW1`);
    expect(p.witnesses[0]?.url).toBe('http://w1');
    expect(p.quorum).toBe('W1');
  });

  it('handles names as opaque: K and the Kelvin sign are different names', () => {
    const p = parsePolicy(`witness K ${W1}\nwitness \u212a ${W2}\ngroup G all K \u212a\nquorum G\n`);
    expect(p.witnesses.map((w) => w.name)).toEqual(['K', '\u212a']);
    expect(isQuorumSatisfied(p, ['K'])).toBe(false);
    expect(isQuorumSatisfied(p, ['K', '\u212a'])).toBe(true);
  });

  it('takes bytes as strict UTF-8, keeping a BOM (which then fails as a keyword)', () => {
    const ok = new TextEncoder().encode(`witness W\u00e9 ${W1}\nquorum W\u00e9\n`);
    expect(parsePolicy(ok).witnesses[0]?.name).toBe('W\u00e9');
    expectTlogError(() => parsePolicy(new Uint8Array([0x23, 0xff, 0x0a])), 'malformed_policy', 'not valid UTF-8');
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('quorum none\n')]);
    expectTlogError(() => parsePolicy(bom), 'malformed_policy', 'line 1: unknown keyword');
  });

  it('quorum none is satisfied by nothing, and group names or unknown names never count as witnesses', () => {
    expect(isQuorumSatisfied(parsePolicy('quorum none\n'), [])).toBe(true);
    const p = parsePolicy(`${base}group G any W1\ngroup H all G W2\nquorum H\n`);
    expect(isQuorumSatisfied(p, ['G', 'W2'])).toBe(false);
    expect(isQuorumSatisfied(p, ['W1', 'W2', 'nobody'])).toBe(true);
    expect(isQuorumSatisfiedByKeys(p, [hex(W1), key('stranger')])).toBe(false);
  });

  it('bounds the number of entries', () => {
    expectTlogError(() => parsePolicy(`${base}quorum none\n`, { maxEntries: 2 }), 'malformed_policy', 'line 3: too many witness lines');
  });

  it('formatPolicy refuses items that would change the parse', () => {
    const p = parsePolicy(`${base}quorum W1\n`);
    expectTlogError(() => formatPolicy({ ...p, quorum: 'W1 W2' }), 'invalid_argument', "couldn't format policy");
    expectTlogError(() => formatPolicy({ ...p, quorum: '#W1' }), 'invalid_argument', "couldn't format policy");
  });
});

// A random policy model: witnesses, then groups each taking members from the names not yet used.
interface Model {
  logs: { keyHex: string; asVkey: boolean; url?: string }[];
  witnesses: { name: string; keyHex: string; asVkey: boolean; url?: string }[];
  groups: { name: string; threshold: number; word: 'num' | 'any' | 'all'; members: string[] }[];
  quorum: string;
}

const nameArb = fc.stringMatching(/^[A-Za-z0-9._:\/\u00e9\u212a-]{1,10}$/).filter((s) => s !== 'none');

const modelArb: fc.Arbitrary<Model> = fc
  .record({
    names: fc.uniqueArray(nameArb, { minLength: 2, maxLength: 16 }),
    keys: fc.uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 18, maxLength: 18, selector: encodeHex }),
    nLogs: fc.nat(3),
    nWitnesses: fc.integer({ min: 1, max: 8 }),
    flags: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
    picks: fc.array(fc.nat(1000), { minLength: 60, maxLength: 60 }),
  })
  .map(({ names, keys, nLogs, nWitnesses, flags, picks }) => {
    const hexKeys = keys.map(encodeHex);
    const nw = Math.min(nWitnesses, names.length);
    const logs = hexKeys.slice(0, nLogs).map((keyHex, i) => ({
      keyHex,
      asVkey: flags[i] ?? false,
      ...(flags[i + 3] ? { url: `https://log${i}.example/` } : {}),
    }));
    const witnesses = names.slice(0, nw).map((name, i) => ({
      name,
      keyHex: hexKeys[3 + i] ?? '',
      asVkey: flags[6 + i] ?? false,
      ...(flags[14 + i] ? { url: `https://w${i}.example/` } : {}),
    }));
    let pool = witnesses.map((w) => w.name);
    const groups: Model['groups'] = [];
    let p = 0;
    const pick = (): number => picks[p++ % picks.length] ?? 0;
    for (const name of names.slice(nw)) {
      if (pool.length === 0) break;
      const members = pool.filter((_, i) => (pick() + i) % 3 !== 0 || i === 0).slice(0, 1 + (pick() % pool.length));
      pool = pool.filter((n) => !members.includes(n));
      const threshold = 1 + (pick() % members.length);
      const word = threshold === members.length && flags[30 + (groups.length % 10)] ? 'all' : threshold === 1 && flags[25] ? 'any' : 'num';
      groups.push({ name, threshold, word, members });
      pool.push(name);
    }
    const defined = [...witnesses.map((w) => w.name), ...groups.map((g) => g.name)];
    // Mostly the last group (the root of the deepest tree), sometimes any name, rarely none.
    const root = groups.length > 0 && flags[38] ? groups[groups.length - 1]?.name : undefined;
    const quorum = flags[39] && flags[37] ? 'none' : (root ?? defined[pick() % defined.length] ?? 'none');
    return { logs, witnesses, groups, quorum };
  });

function modelText(m: Model): string {
  const ws = (i: number): string => [' ', '\t', '  ', ' \t '][i % 4] ?? ' ';
  const keyText = (keyHex: string, asVkey: boolean, name: string, type: number): string =>
    asVkey ? encodeVerifierKey({ name, type, publicKey: hex(keyHex) }) : keyHex;
  const lines = ['# generated'];
  m.logs.forEach((l, i) => lines.push(['log', keyText(l.keyHex, l.asVkey, `log${i}.example/x`, 0x01), l.url].filter(Boolean).join(ws(i))));
  m.witnesses.forEach((w, i) => lines.push(`${ws(i)}${['witness', w.name, keyText(w.keyHex, w.asVkey, `w${i}.example`, 0x04), w.url].filter(Boolean).join(ws(i + 1))}`, ''));
  for (const g of m.groups) lines.push(['group', g.name, g.word === 'num' ? String(g.threshold) : g.word, ...g.members].join(' '));
  lines.push(`quorum ${m.quorum}`);
  return `${lines.join('\n')}\n`;
}

/** referenceSatisfied evaluates the quorum recursively from the model, straight from the spec text. */
function referenceSatisfied(m: Model, name: string, cosigned: ReadonlySet<string>): boolean {
  if (name === 'none') return true;
  const g = m.groups.find((x) => x.name === name);
  if (g === undefined) return m.witnesses.some((w) => w.name === name) && cosigned.has(name);
  return g.members.filter((x) => referenceSatisfied(m, x, cosigned)).length >= g.threshold;
}

describe('policy properties (fast-check)', () => {
  it('parse(format(p)) equals p, and p matches the model it was written from', () => {
    fc.assert(
      fc.property(modelArb, (m) => {
        const p: Policy = parsePolicy(modelText(m));
        expect(p.witnesses.map((w) => [w.name, encodeHex(w.key.publicKey), w.url])).toEqual(m.witnesses.map((w) => [w.name, w.keyHex, w.url]));
        expect(p.logs.map((l) => encodeHex(l.key.publicKey))).toEqual(m.logs.map((l) => l.keyHex));
        expect(p.groups).toEqual(m.groups.map(({ name, threshold, members }) => ({ name, threshold, members })));
        expect(p.quorum).toBe(m.quorum);
        expect(parsePolicy(formatPolicy(p))).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });

  it('random quorum trees evaluate like a recursive reference evaluator', () => {
    fc.assert(
      fc.property(modelArb, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (m, bits) => {
        const p = parsePolicy(modelText(m));
        const cosigned = m.witnesses.filter((_, i) => bits[i]).map((w) => w.name);
        // Group names and strangers in the set must not count.
        const noise = [...m.groups.map((g) => g.name), 'stranger'];
        const want = referenceSatisfied(m, m.quorum, new Set(cosigned));
        expect(isQuorumSatisfied(p, [...cosigned, ...noise])).toBe(want);
        const keys = p.witnesses.filter((w) => cosigned.includes(w.name)).map((w) => w.key.publicKey);
        expect(isQuorumSatisfiedByKeys(p, keys)).toBe(want);
      }),
      { numRuns: 500 },
    );
  });
});

describe('sigsumLogOrigin', () => {
  it('is sigsum.org/v1/tree/ and the hex SHA-256 of the key', () => {
    const pub = key('log');
    expect(sigsumLogOrigin(pub)).toBe(`sigsum.org/v1/tree/${encodeHex(sha256(pub))}`);
  });
});
