// key-file.ts writes and reads the files that hold keys and other secrets. A new file is created
// with O_EXCL ('wx'), so an existing one is never overwritten (initX refuses, STYLE Names); a read
// reports whether the file's mode lets others than its owner read it, for the caller to warn.
// Platform has no business errors: each function throws what the caller's `fail` makes from a
// reason that names the defect, never the file's content (it may be a secret).
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';

/** FileFailure makes the caller's error from a reason (no file content) and the fs error. */
export type FileFailure = (reason: string, cause: unknown) => Error;

/** SecretFile is a key file's text and whether its mode lets group or others read it. */
export interface SecretFile {
  readonly text: string;
  readonly readableByOthers: boolean;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** isFileExistsError reports whether `err` is the EEXIST a writeNewFile refusal carries as cause. */
export function isFileExistsError(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EEXIST';
}

/** makePrivateDir creates `dir` (and its parents) with mode 0700 if missing; throws fail(reason). */
export function makePrivateDir(dir: string, fail: FileFailure): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fail(reasonOf(err), err);
  }
}

/**
 * writeNewFile creates `file` holding `text` with `mode` (default 0600, a secret), failing if it
 * exists: it throws fail('the file already exists', EEXIST error) then, fail(reason) on any other
 * write error.
 */
export function writeNewFile(file: string, text: string, fail: FileFailure, mode = 0o600): void {
  try {
    writeFileSync(file, text, { mode, flag: 'wx' });
  } catch (err) {
    throw fail(isFileExistsError(err) ? 'the file already exists' : reasonOf(err), err);
  }
}

/** readTextFile reads `file` as UTF-8; throws fail(reason) when it is missing or unreadable. */
export function readTextFile(file: string, fail: FileFailure): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw fail(reasonOf(err), err);
  }
}

/**
 * readSecretFile reads a key file and its mode: readableByOthers is true when group or others
 * may read it (the caller warns "chmod 600"). Throws fail(reason) when it cannot be read.
 */
export function readSecretFile(file: string, fail: FileFailure): SecretFile {
  try {
    const text = readFileSync(file, 'utf8');
    return { text, readableByOthers: (statSync(file).mode & 0o077) !== 0 };
  } catch (err) {
    throw fail(reasonOf(err), err);
  }
}
