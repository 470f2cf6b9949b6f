// vectors.ts locates the shared test vectors (../shared/vectors beside the repository) for the
// conformance tests. Tests read them in place; nothing is copied into the project.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

/** REPO_ROOT is the repository's top folder. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** VECTORS_DIR is where the shared vectors live: VIGIL_VECTORS_DIR, else ../shared/vectors. */
export const VECTORS_DIR = resolve(process.env.VIGIL_VECTORS_DIR ?? join(REPO_ROOT, '..', 'shared', 'vectors'));

/** VECTORS_AVAILABLE reports whether the vectors folder exists. Under CI a missing folder is fatal. */
export const VECTORS_AVAILABLE = existsSync(join(VECTORS_DIR, 'README.md'));

if (!VECTORS_AVAILABLE && process.env.CI) {
  throw new Error(`test vectors not found at ${VECTORS_DIR}; CI must run the conformance tests`);
}

/** vectorPath returns the absolute path of a vector file given relative to the vectors folder. */
export function vectorPath(rel: string): string {
  return join(VECTORS_DIR, rel);
}

/** readVectorJson parses a JSON vector file. */
export function readVectorJson<T = any>(rel: string): T {
  return JSON.parse(readFileSync(vectorPath(rel), 'utf8')) as T;
}

/** readVectorText reads a vector file as UTF-8 text. */
export function readVectorText(rel: string): string {
  return readFileSync(vectorPath(rel), 'utf8');
}

/** readVectorBytes reads a vector file as bytes. */
export function readVectorBytes(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(rel)));
}

/**
 * describeVectors declares a suite that reads the shared vectors. Where the folder is absent (a
 * user's clone) it skips with a one-line reason; under CI the import above has already failed.
 */
export function describeVectors(name: string, fn: () => void): void {
  if (VECTORS_AVAILABLE) {
    describe(name, fn);
  } else {
    describe.skipIf(true)(`${name} (skipped: no test vectors at ${VECTORS_DIR})`, fn);
  }
}

/** hex decodes a lowercase hex string from a vector file (trusted test data). */
export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** b64 decodes a base64 string from a vector file (trusted test data). */
export function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}
