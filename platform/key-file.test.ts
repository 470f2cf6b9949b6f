// The secret-file helpers on a real temporary folder: 0600 files, O_EXCL refusal, the mode warning.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isFileExistsError, makePrivateDir, readSecretFile, readTextFile, writeNewFile } from './key-file.ts';

const root = mkdtempSync(join(tmpdir(), 'vigil-key-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fail = (why: string, cause: unknown) => Object.assign(new Error(why), { exists: isFileExistsError(cause) });

describe('key files', () => {
  it('creates a 0700 folder and a 0600 file, refuses to overwrite it, and reads it back', () => {
    const dir = join(root, 'a', 'b');
    makePrivateDir(dir, fail);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const file = join(dir, 'k.key');
    writeNewFile(file, 'secret\n', fail);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => writeNewFile(file, 'other\n', fail)).toThrow(expect.objectContaining({ message: 'the file already exists', exists: true }));
    expect(readFileSync(file, 'utf8')).toBe('secret\n');
    expect(readSecretFile(file, fail)).toEqual({ text: 'secret\n', readableByOthers: false });
    chmodSync(file, 0o640);
    expect(readSecretFile(file, fail).readableByOthers).toBe(true);
  });

  it('writes a public file with the given mode and reports a missing file through fail', () => {
    const file = join(root, 'chain.pem');
    writeNewFile(file, 'public', fail, 0o644);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readTextFile(file, fail)).toBe('public');
    expect(() => readTextFile(join(root, 'missing'), fail)).toThrow(expect.objectContaining({ exists: false, message: expect.stringContaining('ENOENT') }));
    expect(() => writeNewFile(join(root, 'no', 'dir', 'f'), 'x', fail)).toThrow(expect.objectContaining({ exists: false }));
  });
});
