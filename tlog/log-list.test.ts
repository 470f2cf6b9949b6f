import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHex } from './base64.ts';
import { formatLogList, MAX_LOG_LIST_QPD, mergeLogLists, parseLogList, type LogListEntry } from './log-list.ts';
import { parseVerifierKey } from './note-key.ts';
import { decodeVerifierKey, encodeVerifierKey } from './note-key-id.ts';
import { sha256 } from './sha256.ts';
import { describeVectors, readVectorText } from '../test/vectors.ts';
import { expectTlogError } from '../test/tlog-errors.ts';

// transparency-dev/witness-network lists/testing/log-list.1, lists/staging/*.1 (verbatim).
const TESTING = 'config/witness-network-testing-log-list.1';
const STAGING_10QPS = 'config/witness-network-staging-log-list-10qps-4klogs.1';
const STAGING_100QPS = 'config/witness-network-staging-log-list-100qps-40klogs.1';

function vkey(name: string, label = name, type = 0x01): string {
  return encodeVerifierKey({ name, type, publicKey: sha256(new TextEncoder().encode(label)) });
}

describeVectors(`witness-network log lists: ${TESTING}, ${STAGING_10QPS}, ${STAGING_100QPS}`, () => {
  const testing = parseLogList(readVectorText(TESTING));
  const staging10 = parseLogList(readVectorText(STAGING_10QPS));
  const staging100 = parseLogList(readVectorText(STAGING_100QPS));

  it('counts match the research note: testing 9, staging-10qps 1, staging-100qps 11', () => {
    expect(testing).toHaveLength(9);
    expect(staging10).toHaveLength(1);
    expect(staging100).toHaveLength(11); // the two commented-out logs are not counted
  });

  it('every vkey parses as an Ed25519 key, and origins default to the key name', () => {
    for (const e of [...testing, ...staging10, ...staging100]) {
      const k = decodeVerifierKey(e.vkey);
      expect(k.type).toBe(0x01);
      expect(parseVerifierKey(e.vkey).keyId).toBe(k.keyId); // a working Ed25519 verifier
      expect(e.publicKey).toEqual(k.publicKey);
      expect(e.origin).toBe(k.name);
      expect(e.qpd).toBeGreaterThan(0);
      expect(e.contact).not.toBe('');
    }
  });

  it('reads the fields of known entries', () => {
    expect(testing[0]).toMatchObject({
      origin: 'arche2025h1.staging.ct.transparency.dev',
      qpd: 86400,
      contact: 'google-ct-logs@googlegroups.com',
    });
    expect(staging10[0]).toMatchObject({
      origin: 'sigsum.org/v1/tree/1643169b32bef33a3f54f8a353b87c475d19b6223cbb106390d10a29978e1cba',
      qpd: 8640,
      contact: 'services@mullvad.net | https://serviceberry.tlog.stagemole.eu/about',
    });
    expect(testing.find((e) => e.origin === 'vindex.gopherwatch.org')?.qpd).toBe(288);
    expect(staging100.map((e) => e.origin)).not.toContain('parcelyard2025h2.prod.certificate.transparency.goog');
  });

  it('a Sigsum origin is the hex SHA-256 of the vkey public key', () => {
    for (const e of [...testing, ...staging10].filter((x) => x.origin.startsWith('sigsum.org/v1/tree/'))) {
      expect(e.origin).toBe(`sigsum.org/v1/tree/${encodeHex(sha256(e.publicKey))}`);
    }
  });

  it('merge dedupes the origins the lists share (serviceberry, log2025-alpha3.rekor.sigstage.dev)', () => {
    const merged = mergeLogLists(testing, staging10, staging100);
    expect(merged).toHaveLength(9 + 1 + 11 - 2);
    expect(new Set(merged.map((e) => e.origin)).size).toBe(merged.length);
    const shared = testing.filter((e) => [...staging10, ...staging100].some((x) => x.origin === e.origin)).map((e) => e.origin);
    expect(shared.sort()).toEqual([
      'log2025-alpha3.rekor.sigstage.dev',
      'sigsum.org/v1/tree/1643169b32bef33a3f54f8a353b87c475d19b6223cbb106390d10a29978e1cba',
    ]);
    // The first list to name an origin wins.
    const rekor = merged.find((e) => e.origin === 'log2025-alpha3.rekor.sigstage.dev');
    expect(rekor).toBe(testing.find((e) => e.origin === 'log2025-alpha3.rekor.sigstage.dev'));
  });

  it('formatLogList round trips the real lists', () => {
    for (const list of [testing, staging10, staging100]) expect(parseLogList(formatLogList(list))).toEqual(list);
  });
});

describe('parseLogList rules', () => {
  const A = vkey('a.example/log');
  const entry = (v = A, extra = ''): string => `vkey ${v}\n${extra}qpd 24\ncontact ops@a.example\n`;

  it('reads an origin that differs from the key name, with spaces, and trims lines', () => {
    const list = parseLogList(`# c\n  logs/v0  \r\n\n\tvkey ${A}\r\norigin go.sum database tree \n qpd 1\ncontact  a b # c\n`);
    expect(list).toEqual([
      { origin: 'go.sum database tree', vkey: A, publicKey: decodeVerifierKey(A).publicKey, qpd: 1, contact: 'a b # c' },
    ]);
  });

  it('accepts an empty list and the largest qpd', () => {
    expect(parseLogList('logs/v0\n')).toEqual([]);
    expect(parseLogList(`logs/v0\nvkey ${A}\nqpd ${MAX_LOG_LIST_QPD}\ncontact x\n`)[0]?.qpd).toBe(MAX_LOG_LIST_QPD);
  });

  it.each([
    ['no header', `${entry()}`, 'line 1: want the logs/v0 header'],
    ['empty input', '# only a comment\n', 'no logs/v0 header'],
    ['a later format version', 'logs/v1\n', 'want the logs/v0 header'],
    ['qpd before vkey', `logs/v0\nqpd 24\n`, 'line 2: want a vkey line, got "qpd"'],
    ['contact before qpd', `logs/v0\nvkey ${A}\ncontact x\n`, 'line 3: want an origin or qpd line, got "contact"'],
    ['origin after qpd', `logs/v0\nvkey ${A}\nqpd 1\norigin x\n`, 'line 4: want a contact line'],
    ['two origins', `logs/v0\nvkey ${A}\norigin x\norigin y\n`, 'line 4: want a qpd line'],
    ['unknown key', `logs/v0\nvkey ${A}\nbastion none\n`, 'got "bastion"'],
    ['truncated entry', `logs/v0\nvkey ${A}\nqpd 1\n`, 'line 2: incomplete log entry'],
    ['qpd 0', `logs/v0\n${entry().replace('qpd 24', 'qpd 0')}`, 'invalid qpd "0"'],
    ['qpd with a leading zero', `logs/v0\n${entry().replace('qpd 24', 'qpd 024')}`, 'without leading zeros'],
    ['qpd 2^31', `logs/v0\n${entry().replace('qpd 24', 'qpd 2147483648')}`, 'invalid qpd "2147483648"'],
    ['negative qpd', `logs/v0\n${entry().replace('qpd 24', 'qpd -1')}`, 'invalid qpd'],
    ['fractional qpd', `logs/v0\n${entry().replace('qpd 24', 'qpd 1.5')}`, 'invalid qpd'],
    ['qpd with two values', `logs/v0\n${entry().replace('qpd 24', 'qpd 24 25')}`, 'must be one item'],
    ['empty contact', `logs/v0\n${entry().replace('contact ops@a.example', 'contact')}`, '"contact" line has no value'],
    ['a tab after the keyword', `logs/v0\nvkey\t${A}\n`, 'line has no value'],
    ['two spaces before a vkey', `logs/v0\nvkey  ${A}\n`, 'has extra whitespace'],
    ['two spaces before an origin', `logs/v0\nvkey ${A}\norigin  x\n`, 'has extra whitespace'],
    ['a bad vkey', `logs/v0\n${entry('a.example+00000000+AQ==')}`, 'line 2: invalid vkey'],
    ['a cosignature vkey', `logs/v0\n${entry(vkey('a.example/log', 'a', 0x04))}`, 'type 0x04; log lists allow only Ed25519 (0x01)'],
    ['a repeated origin', `logs/v0\n${entry()}${entry(vkey('b.example', 'b'), 'origin a.example/log\n')}`, 'line 5: origin "a.example/log" is already listed'],
  ])('rejects %s', (_desc, text, contains) => {
    expectTlogError(() => parseLogList(text), 'malformed_log_list', contains);
  });

  it('takes bytes as strict UTF-8', () => {
    expect(parseLogList(new TextEncoder().encode(`logs/v0\n${entry()}`))).toHaveLength(1);
    expectTlogError(() => parseLogList(new Uint8Array([0x6c, 0xff])), 'malformed_log_list', 'not valid UTF-8');
  });

  it('mergeLogLists refuses one origin under two keys', () => {
    const a = parseLogList(`logs/v0\n${entry()}`);
    const b = parseLogList(`logs/v0\n${entry(vkey('b.example', 'b'), 'origin a.example/log\n')}`);
    expectTlogError(() => mergeLogLists(a, b), 'malformed_log_list', 'disagree on the key of origin "a.example/log"');
    expect(mergeLogLists(a, a)).toEqual(a);
  });
});

describe('log list properties (fast-check)', () => {
  const entryArb: fc.Arbitrary<LogListEntry> = fc
    .record({
      name: fc.stringMatching(/^[a-z0-9.\/-]{1,20}$/),
      origin: fc.option(fc.stringMatching(/^[\x21-\x7e]([ -~]{0,20}[\x21-\x7e])?$/), { nil: undefined }),
      seed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      qpd: fc.integer({ min: 1, max: MAX_LOG_LIST_QPD }),
      contact: fc.stringMatching(/^[\x21-\x7e]([ -~]{0,30}[\x21-\x7e])?$/),
    })
    .map(({ name, origin, seed, qpd, contact }) => {
      const v = encodeVerifierKey({ name, type: 0x01, publicKey: seed });
      return { origin: origin ?? name, vkey: v, publicKey: seed, qpd, contact };
    });

  it('parseLogList(formatLogList(x)) equals x', () => {
    fc.assert(
      fc.property(fc.uniqueArray(entryArb, { maxLength: 6, selector: (e) => e.origin }), (list) => {
        expect(parseLogList(formatLogList(list))).toEqual(list);
      }),
      { numRuns: 300 },
    );
  });
});
