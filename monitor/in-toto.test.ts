// in-toto statement subjects (github.com/in-toto/attestation spec v1 and v0.1 shapes).
import { describe, expect, it } from 'vitest';
import { isMonitorError } from './errors.ts';
import { MAX_SUBJECTS, parseStatementSubjects } from './in-toto.ts';

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseStatementSubjects', () => {
  it('reads purls from name and uri, and sha256/384/512 digests, lowercased and deduplicated', () => {
    const out = parseStatementSubjects(
      enc({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [
          { name: 'pkg:npm/a@1.0.0', digest: { sha256: 'A'.repeat(64), sha1: 'b'.repeat(40) } },
          { name: 'a.tgz', uri: 'pkg:pypi/b@2', digest: { sha512: 'c'.repeat(128), sha256: 'a'.repeat(64) } },
          { name: 'pkg:npm/a@1.0.0', digest: { sha384: 'short' } },
          'not an object',
        ],
      }),
    );
    expect(out.purls).toEqual(['pkg:npm/a@1.0.0', 'pkg:pypi/b@2']);
    expect(out.digests).toEqual([{ algorithm: 'sha256', hex: 'a'.repeat(64) }, { algorithm: 'sha512', hex: 'c'.repeat(128) }]);
  });

  it('reads v0.1 statements', () => {
    expect(parseStatementSubjects(enc({ _type: 'https://in-toto.io/Statement/v0.1', subject: [{ name: 'pkg:golang/x', digest: {} }] })).purls).toEqual(['pkg:golang/x']);
  });

  it('gives no subjects for payloads that are not statements', () => {
    for (const p of ['hello, world!', '[]', '{"_type":"other","subject":[{"name":"pkg:npm/a"}]}', '{"_type":"https://in-toto.io/Statement/v1","subject":{}}']) {
      expect(parseStatementSubjects(enc(p))).toEqual({ digests: [], purls: [] });
    }
    expect(parseStatementSubjects(new Uint8Array([0xff, 0xfe]))).toEqual({ digests: [], purls: [] });
  });

  it('refuses rather than truncates a statement with too many subjects', () => {
    const subject = Array.from({ length: MAX_SUBJECTS + 1 }, (_, i) => ({ name: `pkg:npm/p${i}` }));
    let err: unknown;
    try {
      parseStatementSubjects(enc({ _type: 'https://in-toto.io/Statement/v1', subject }));
    } catch (e) {
      err = e;
    }
    expect(isMonitorError(err, 'unparseable_entry')).toBe(true);
  });
});
