import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCosignerKey } from '../tlog/cosignature.ts';
import { initWitnessKey, loadWitnessKey } from './key.ts';

describe('witness key', () => {
  it('initWitnessKey creates a 0600 key once, and loadWitnessKey reads it back with its cosigner vkey', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'vigil-witness-key-')), 'data');
    try {
      const { keyFile, vkey } = initWitnessKey(dir, 'w.example/witness');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(parseCosignerKey(vkey).type).toBe(0x04);
      expect(() => initWitnessKey(dir, 'w.example/witness')).toThrow(/already exists/);
      const key = loadWitnessKey(keyFile);
      expect(key).toMatchObject({ name: 'w.example/witness', vkey, groupOrOtherReadable: false });
      writeFileSync(keyFile, 'PRIVATE+KEY+w+00000000+AAAA\n');
      expect(() => loadWitnessKey(keyFile)).toThrow(/couldn't parse the witness key/);
      expect(() => loadWitnessKey(join(dir, 'nope'))).toThrow(/vigil witness init/);
      expect(() => initWitnessKey(join(dir, 'x'), 'bad name')).toThrow(/couldn't create a witness key/);
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });
});
