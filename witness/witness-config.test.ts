import { describe, expect, it } from 'vitest';
import { parseLogList } from '../tlog/log-list.ts';
import { NOTE_KEY_TYPE_COSIGNATURE_V1 } from '../tlog/note-key-id.ts';
import { formatVerifierKey, generateSignerKey } from '../tlog/note-key.ts';
import { witnessOriginHash } from '../tlog/witness-request.ts';
import { describeVectors, readVectorText } from '../test/vectors.ts';
import { isWitnessError } from './errors.ts';
import { followedLogSpecsFromLogList, newFollowedLogs } from './witness-config.ts';

const TESTING_LOG_LIST = 'config/witness-network-testing-log-list.1';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isWitnessError(err, 'invalid_config'), String(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected an invalid_config error');
}

describe('newFollowedLogs', () => {
  it('finds logs by origin and by origin hash, and lists origins sorted', () => {
    const a = generateSignerKey('b.example/log');
    const b1 = generateSignerKey('a.example/log');
    const b2 = generateSignerKey('a.example/log-next-key');
    const logs = newFollowedLogs([
      { origin: 'b.example/log', vkeys: [a.vkey] },
      { origin: 'a.example/log', vkeys: [b1.vkey, b2.vkey] },
    ]);
    expect(logs.origins()).toEqual(['a.example/log', 'b.example/log']);
    const log = logs.get('a.example/log');
    expect(log?.vkeys).toEqual([b1.vkey, b2.vkey]);
    expect(log?.originHash).toBe(witnessOriginHash('a.example/log'));
    expect(log?.verifiers.lookup(b2.signer.name, b2.signer.keyId)?.name).toBe('a.example/log-next-key');
    expect(logs.getByOriginHash(witnessOriginHash('b.example/log'))?.origin).toBe('b.example/log');
    // Lookups take attacker-controlled strings and never throw.
    for (const s of ['', '__proto__', 'constructor', 'A.EXAMPLE/LOG', 'a.example/log\n']) {
      expect(logs.get(s)).toBeUndefined();
      expect(logs.getByOriginHash(s)).toBeUndefined();
    }
  });

  it('reports every configuration problem at once', () => {
    const k = generateSignerKey('example.com/log');
    const cosigner = formatVerifierKey({ name: 'example.com/w', type: NOTE_KEY_TYPE_COSIGNATURE_V1, publicKey: k.signer.publicKey });
    const msg = configError(() =>
      newFollowedLogs([
        { origin: '', vkeys: [k.vkey] },
        { origin: 'two\nlines', vkeys: [k.vkey] },
        { origin: 'no-keys.example', vkeys: [] },
        { origin: 'bad-key.example', vkeys: ['not a vkey'] },
        { origin: 'cosigner.example', vkeys: [cosigner] },
        { origin: 'twice-the-key.example', vkeys: [k.vkey, k.vkey] },
        { origin: 'example.com/log', vkeys: [k.vkey] },
        { origin: 'example.com/log', vkeys: [k.vkey] },
      ]),
    );
    expect(msg).toContain('log "": the origin must be a non-empty single line');
    expect(msg).toContain('log "two\\nlines"');
    expect(msg).toContain('log "no-keys.example": no verifier keys');
    expect(msg).toContain('log "bad-key.example": vkey "not a vkey"');
    expect(msg).toContain('is a cosignature key, not a log key');
    expect(msg).toContain('log "twice-the-key.example": two keys named example.com/log+');
    expect(msg).toContain('log "example.com/log" is listed twice');
  });
});

describeVectors(`followedLogSpecsFromLogList: ${TESTING_LOG_LIST} (transparency-dev/witness-network)`, () => {
  it('follows every log of a real logs/v0 list under its origin', () => {
    const entries = parseLogList(readVectorText(TESTING_LOG_LIST));
    const logs = newFollowedLogs(followedLogSpecsFromLogList(entries));
    expect(logs.origins()).toEqual(entries.map((e) => e.origin).sort());
    for (const e of entries) {
      const log = logs.get(e.origin);
      expect(log?.vkeys).toEqual([e.vkey]);
      expect(logs.getByOriginHash(witnessOriginHash(e.origin))).toBe(log);
    }
  });

  it('reports an origin that is both in the list and configured by hand', () => {
    const entries = parseLogList(readVectorText(TESTING_LOG_LIST));
    const first = entries[0]!;
    const own = { origin: first.origin, vkeys: [first.vkey] };
    expect(configError(() => newFollowedLogs([own, ...followedLogSpecsFromLogList(entries)]))).toContain('is listed twice');
  });
});
