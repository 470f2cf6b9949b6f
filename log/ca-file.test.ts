import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLogError } from './errors.ts';
import { loadCaFile, parseCaPem } from './ca-file.ts';
import { formatPem } from './kinds/pem.ts';
import { createIntermediateCa, createRootCa, issueLeaf, type TestCa } from './kinds/testdata/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-log-ca-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let root: TestCa;
let intermediate: TestCa;
beforeAll(async () => {
  root = await createRootCa();
  intermediate = await createIntermediateCa(root);
});

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isLogError(err, 'invalid_config')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('parseCaPem', () => {
  it('sorts self-signed certificates into roots and the others into intermediates, in any order', () => {
    const text = `# the CA chain\n${formatPem('CERTIFICATE', intermediate.der)}\n${formatPem('CERTIFICATE', root.der).replace(/\n/g, '\r\n')}`;
    const parsed = parseCaPem(text, 'ca.pem');
    expect(parsed.roots.map((d) => Buffer.from(d))).toEqual([Buffer.from(root.der)]);
    expect(parsed.intermediates!.map((d) => Buffer.from(d))).toEqual([Buffer.from(intermediate.der)]);
  });

  it('refuses files that are not CA certificates', async () => {
    const leaf = await issueLeaf(intermediate);
    expect(refusal(() => parseCaPem('', 'ca.pem'))).toMatch(/no PEM CERTIFICATE/);
    expect(refusal(() => parseCaPem(formatPem('PUBLIC KEY', root.der), 'ca.pem'))).toMatch(/is PUBLIC KEY/);
    expect(refusal(() => parseCaPem(formatPem('CERTIFICATE', new Uint8Array([48, 3, 1, 1, 1])), 'ca.pem'))).toMatch(/does not parse/);
    expect(refusal(() => parseCaPem('-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n', 'ca.pem'))).toMatch(/does not parse/);
    const file = join(dir, 'leaf.pem');
    writeFileSync(file, formatPem('CERTIFICATE', root.der) + formatPem('CERTIFICATE', leaf.der));
    expect(refusal(() => loadCaFile(file))).toMatch(/not a CA certificate/);
    expect(refusal(() => loadCaFile(join(dir, 'missing.pem')))).toMatch(/couldn't read the CA file/);
  });

  it('loads a chain file into certificate trust', () => {
    const file = join(dir, 'ca.pem');
    writeFileSync(file, formatPem('CERTIFICATE', root.der) + formatPem('CERTIFICATE', intermediate.der));
    const trust = loadCaFile(file);
    expect([trust.roots.length, trust.intermediates.length]).toEqual([1, 1]);
  });
});
