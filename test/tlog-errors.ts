// tlog-errors.ts holds the tests' ways of catching a TlogError and checking its code: as a value to
// compare, as an assertion (sync and async), as a yes/no for proof rejections, and as the property
// "anything thrown is a TlogError".
import { expect } from 'vitest';
import { isTlogError, type TlogErrorCode } from '../tlog/errors.ts';

type Outcome = { threw: false; value: unknown } | { threw: true; err: unknown };

function outcomeOf(fn: () => unknown): Outcome {
  try {
    return { threw: false, value: fn() };
  } catch (err) {
    return { threw: true, err };
  }
}

function describeThrown(o: Outcome): string {
  if (!o.threw) return 'no error';
  return isTlogError(o.err) ? `TlogError ${o.err.code}: ${o.err.message}` : String(o.err);
}

function expectTlogErrorOutcome(o: Outcome, code: TlogErrorCode, contains: string | undefined): void {
  const err = o.threw ? o.err : undefined;
  expect(o.threw && isTlogError(err, code), `want TlogError ${code}, got ${describeThrown(o)}`).toBe(true);
  if (contains !== undefined) expect((err as Error).message).toContain(contains);
}

/**
 * errorCodeOf runs fn and names what happened: the code of the TlogError it threw, 'no error' when
 * it returned, or 'foreign error' when it threw anything else.
 */
export function errorCodeOf(fn: () => unknown): TlogErrorCode | 'no error' | 'foreign error' {
  const o = outcomeOf(fn);
  if (!o.threw) return 'no error';
  return isTlogError(o.err) ? o.err.code : 'foreign error';
}

/**
 * expectTlogError asserts that fn throws a TlogError with `code` and, when `contains` is given, that
 * the error's message contains it. Returning normally or throwing anything else fails the test.
 */
export function expectTlogError(fn: () => unknown, code: TlogErrorCode, contains?: string): void {
  expectTlogErrorOutcome(outcomeOf(fn), code, contains);
}

/** rejectionOf awaits p and returns what it rejected with, or undefined when it resolved. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return undefined;
}

/**
 * expectTlogRejection asserts that p rejects with a TlogError with `code` and, when `contains` is
 * given, that the error's message contains it. Resolving or rejecting with anything else fails.
 */
export async function expectTlogRejection(p: Promise<unknown>, code: TlogErrorCode, contains?: string): Promise<void> {
  let o: Outcome;
  try {
    o = { threw: false, value: await p };
  } catch (err) {
    o = { threw: true, err };
  }
  expectTlogErrorOutcome(o, code, contains);
}

/**
 * throwsTlogError runs fn and reports whether it threw a TlogError with `code` (true) or returned
 * (false). Any other error, a TlogError with another code included, is rethrown and fails the test.
 */
export function throwsTlogError(fn: () => unknown, code: TlogErrorCode): boolean {
  const o = outcomeOf(fn);
  if (!o.threw) return false;
  if (!isTlogError(o.err, code)) throw o.err;
  return true;
}

/**
 * expectTlogErrorIfThrows runs fn and returns its result; if fn throws, the error must be a
 * TlogError (with `code`, when given) or the test fails. It states the property "a parser of
 * untrusted input throws nothing but TlogError".
 */
export function expectTlogErrorIfThrows<T>(fn: () => T, code?: TlogErrorCode): T | undefined {
  const o = outcomeOf(fn);
  if (!o.threw) return o.value as T;
  expect(isTlogError(o.err, code), `want only TlogError${code === undefined ? '' : ` ${code}`}, got ${describeThrown(o)}`).toBe(true);
  return undefined;
}
