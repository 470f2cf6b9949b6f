import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { verifyCosignatureLine, type CosignatureVerifier } from '../tlog/cosignature.ts';
import { encodeBase64 } from '../tlog/base64.ts';
import { EMPTY_ROOT } from '../tlog/merkle.ts';
import { parseNote, signNote } from '../tlog/note.ts';
import { generateSignerKey, parseVerifierKey } from '../tlog/note-key.ts';
import {
  DEFAULT_MAX_WITNESS_BODY_BYTES,
  TLOG_SIZE_CONTENT_TYPE,
  formatAddCheckpointRequest,
  parseAddCheckpointRequest,
  parseAddCheckpointResponse,
  witnessOriginHash,
} from '../tlog/witness-request.ts';
import { describeVectors, hex, readVectorJson } from '../test/vectors.ts';
import { newTestLog, newTestWitness, testLeaves, type TestWitness } from '../test/witness-log.ts';
import {
  WITNESS_TEXT_CONTENT_TYPE,
  getCosignedCheckpoint,
  processAddCheckpoint,
  type AddCheckpointResponse,
} from './add-checkpoint.ts';
import type { WitnessErrorCode } from './errors.ts';

const TESSERA_SCENARIO = 'witness/tessera-testlog-witness-scenario.json';
const LITEWITNESS_SCENARIO = 'witness/litewitness-scenario.json';

/** checkpointNoteOf returns the signed checkpoint inside an add-checkpoint body (trusted test data). */
function checkpointNoteOf(body: string): string {
  return parseAddCheckpointRequest(body).checkpointNote;
}

/**
 * expectCosigned checks a 200 answer the way a client does: one or more signature lines, each a
 * cosignature by the witness over the checkpoint text with the clock's (non-zero) seconds, and the
 * answer appended to the checkpoint verifies as a note with the witness key.
 */
function expectCosigned(res: AddCheckpointResponse, note: string, verifier: CosignatureVerifier, nowMs: number): void {
  expect(res.status, res.body).toBe(200);
  expect(res.contentType).toBe(WITNESS_TEXT_CONTENT_TYPE);
  const sigs = parseAddCheckpointResponse(res.body);
  expect(sigs.length).toBeGreaterThanOrEqual(1);
  const text = parseNote(note).text;
  for (const line of res.body.slice(0, -1).split('\n')) {
    const timestamp = verifyCosignatureLine(verifier, text, line);
    expect(timestamp).toBe(BigInt(Math.floor(nowMs / 1000)));
    expect(timestamp).toBeGreaterThan(0n);
  }
  expect(openCheckpoint(note + res.body, [verifier]).note.verified).toHaveLength(1);
}

/** expectRefused checks a non-200, non-409 answer: a short plain-text reason and an error code. */
function expectRefused(res: AddCheckpointResponse, status: number, code: WitnessErrorCode): void {
  expect(res.status, res.body).toBe(status);
  expect(res.contentType).toBe(WITNESS_TEXT_CONTENT_TYPE);
  expect(res.body).toMatch(/^[^\n]+\n$/);
  expect(res.error?.code).toBe(code);
}

async function latestSize(w: TestWitness, origin: string): Promise<bigint | undefined> {
  return (await w.memory.getLatest(origin))?.size;
}

describeVectors(`add-checkpoint: ${TESSERA_SCENARIO} (tessera test log, C2SP tlog-witness HEAD)`, () => {
  const v = readVectorJson(TESSERA_SCENARIO);
  // The refusal behind each step, by step number (the vector gives statuses; codes are ours).
  const codes: Record<number, WitnessErrorCode> = {
    1: 'invalid_empty_root', 2: 'unexpected_proof', 4: 'size_conflict', 5: 'old_size_too_large',
    6: 'invalid_proof', 9: 'root_mismatch', 10: 'invalid_signature', 11: 'unverified_checkpoint',
    12: 'unknown_log', 14: 'size_conflict', 15: 'malformed_request', 16: 'malformed_request',
  };

  it('runs the 16 steps in order against one witness, checking the answer and the state after each', async () => {
    expect(v.steps).toHaveLength(16);
    const w = newTestWitness(v.witness_config_logs.map((l: any) => ({ origin: l.origin, vkeys: [l.vkey] })));
    const origin = v.witness_config_logs[0].origin;
    for (const step of v.steps) {
      w.clock.advance(1000);
      const res = await processAddCheckpoint(step.request_body, w.deps);
      const what = `step ${step.step}: ${step.desc}`;
      expect(res.status, `${what}: ${res.body}`).toBe(step.expect_status);
      if (step.expect_status === 200) {
        const note = checkpointNoteOf(step.request_body);
        expectCosigned(res, note, w.verifier, w.clock.nowMs());
        // The stored note, served to monitors, is the log's note plus this very cosignature.
        expect(await getCosignedCheckpoint(origin, w.deps.store)).toBe(note + res.body);
        expect(res.origin).toBe(origin);
      } else if (step.expect_status === 409) {
        expect(res.contentType, what).toBe(step.expect_content_type);
        expect(res.body, what).toBe(step.expect_body);
        expect(res.error?.code).toBe('size_conflict');
      } else {
        expectRefused(res, step.expect_status, codes[step.step]!);
      }
      const want = step.state_after === null ? undefined : BigInt(step.state_after);
      expect(await latestSize(w, origin), what).toBe(want);
    }
  });

  it('step 8 refreshes the stored note with a fresh timestamp', async () => {
    const w = newTestWitness(v.witness_config_logs.map((l: any) => ({ origin: l.origin, vkeys: [l.vkey] })));
    const origin = v.witness_config_logs[0].origin;
    for (const step of v.steps.slice(0, 7)) await processAddCheckpoint(step.request_body, w.deps);
    const before = await getCosignedCheckpoint(origin, w.deps.store);
    w.clock.advance(60_000);
    const res = await processAddCheckpoint(v.steps[7].request_body, w.deps);
    expectCosigned(res, checkpointNoteOf(v.steps[7].request_body), w.verifier, w.clock.nowMs());
    const after = await getCosignedCheckpoint(origin, w.deps.store);
    expect(after).not.toBe(before);
    expect(after?.endsWith(res.body)).toBe(true);
  });
});

describeVectors(`add-checkpoint: ${LITEWITNESS_SCENARIO} (FiloSottile/torchwood litewitness.txt)`, () => {
  const v = readVectorJson(LITEWITNESS_SCENARIO);
  const states = [1n, 1n, 1n, 1n, 1n, 3n, 3n, 5n, 5n];
  // Step 2's signature has non-zero padding bits in its base64 ("…6gx=" for "…6go="): Go decodes
  // it leniently and the signature fails (403); the strict tlog parser refuses the note, also 403.
  const codes = [undefined, 'malformed_note', 'unknown_log', 'invalid_proof', 'invalid_proof', undefined, 'size_conflict', undefined, 'size_conflict'];

  /** assertBody checks a hurl-style assertion: `body contains "…"` or `body == "…"` (JSON escapes). */
  function assertBody(body: string, assertion: string): void {
    const contains = /^body contains "(.*)"$/.exec(assertion);
    const equals = /^body == "(.*)"$/.exec(assertion);
    if (contains) expect(body).toContain(JSON.parse(`"${contains[1]}"`));
    else if (equals) expect(body).toBe(JSON.parse(`"${equals[1]}"`));
    else throw new Error(`unknown assertion ${assertion}`);
  }

  it('runs the 9 steps with the statuses C2SP requires now and the asserted bodies', async () => {
    expect(v.steps).toHaveLength(9);
    expect(parseVerifierKey(v.log.vkey_built_here).publicKey).toEqual(hex(v.log.sigsum_pubkey_hex));
    const w = newTestWitness([{ origin: v.log.origin, vkeys: [v.log.vkey_built_here] }], { name: v.witness.name });
    for (const [i, step] of v.steps.entries()) {
      w.clock.advance(1000);
      const res = await processAddCheckpoint(step.request_body, w.deps);
      const what = `step ${i + 1}: ${step.desc}`;
      expect(res.status, `${what}: ${res.body}`).toBe(step.expected_status_c2sp_now);
      assertBody(res.body, step.expected_assert);
      expect(res.error?.code, what).toBe(codes[i]);
      if (res.status === 200) expectCosigned(res, checkpointNoteOf(step.request_body), w.verifier, w.clock.nowMs());
      if (res.status === 409) expect(res.contentType).toBe(TLOG_SIZE_CONTENT_TYPE);
      expect(await latestSize(w, v.log.origin), what).toBe(states[i]);
    }
  });
});

describe('add-checkpoint refusals beyond the vectors', () => {
  const log = newTestLog('example.com/log', testLeaves('leaf', 8));
  const newWitness = (): TestWitness => newTestWitness([{ origin: log.origin, vkeys: [log.vkey] }]);

  it('answers 400 for bodies that do not parse, before looking at the origin', async () => {
    const w = newWitness();
    const note = log.checkpointNote(3n);
    const h = encodeBase64(new Uint8Array(32));
    const bodies = [
      `old 0\n${note}`, // no blank line after the old line
      `old -1\n\n${note}`,
      `old 18446744073709551616\n\n${note}`,
      `old 1\n${`${h}\n`.repeat(64)}\n${note}`, // 64 proof lines
      `old 1\n${encodeBase64(new Uint8Array(31))}\n\n${note}`,
      `old 0\n\n${note}`.padEnd(DEFAULT_MAX_WITNESS_BODY_BYTES + 1, '\n'),
      new Uint8Array([0x6f, 0x6c, 0x64, 0x20, 0x30, 0x0a, 0x0a, 0xff]), // not UTF-8
      `old 0\n\nunknown.example/log\n1\n${h}\n\n— x AAAAAAA=\n`.replace('old 0', 'old 00'),
    ];
    for (const body of bodies) expectRefused(await processAddCheckpoint(body, w.deps), 400, 'malformed_request');
    expect(await latestSize(w, log.origin)).toBeUndefined();
  });

  it('honours a smaller body limit', async () => {
    const w = newWitness();
    const body = await log.request(0n, 3n);
    const bytes = Buffer.byteLength(body);
    expectRefused(await processAddCheckpoint(body, { ...w.deps, maxBodyBytes: bytes - 1 }), 400, 'malformed_request');
    expect((await processAddCheckpoint(body, { ...w.deps, maxBodyBytes: bytes })).status).toBe(200);
  });

  it('answers 404 "unknown log" for an origin it does not follow, without a metrics label', async () => {
    const other = newTestLog('other.example/log', testLeaves('x', 2));
    const res = await processAddCheckpoint(await other.request(0n, 2n), newWitness().deps);
    expectRefused(res, 404, 'unknown_log');
    expect(res.body).toContain('unknown log');
    expect(res.origin).toBeUndefined();
  });

  it('answers 403 for a note without valid signature lines', async () => {
    const w = newWitness();
    const text = parseNote(log.checkpointNote(3n)).text;
    const bad = [`${text}\n`, `${text}\n\u2014 example.com/log !!!!\n`, text];
    for (const note of bad) {
      const res = await processAddCheckpoint(`old 0\n\n${note}`, w.deps);
      expect(res.status, res.body).toBe(403);
      expect(res.body).toContain('invalid signature');
      expect(res.origin).toBe(log.origin); // a followed origin is a bounded metrics label
    }
  });

  it('answers 400 for a validly signed text that is not a checkpoint, or has extension lines', async () => {
    const w = newWitness();
    const root = encodeBase64(log.rootAt(3n));
    const notCheckpoint = signNote(`${log.origin}\n03\n${root}\n`, [log.signer]);
    expectRefused(await processAddCheckpoint(`old 0\n\n${notCheckpoint}`, w.deps), 400, 'malformed_checkpoint');
    const extended = signNote(`${log.origin}\n3\n${root}\nextension line\n`, [log.signer]);
    const res = await processAddCheckpoint(`old 0\n\n${extended}`, w.deps);
    expectRefused(res, 400, 'checkpoint_extensions');
    expect(res.body).toContain('extension lines');
    expect(await latestSize(w, log.origin)).toBeUndefined();
  });

  it('cosigns and stores the empty tree, then grows from it without a proof', async () => {
    const w = newWitness();
    w.clock.advance(1);
    const res0 = await processAddCheckpoint(await log.request(0n, 0n), w.deps);
    expectCosigned(res0, log.checkpointNote(0n), w.verifier, w.clock.nowMs());
    expect(res0.decision).toBe('append');
    expect((await processAddCheckpoint(await log.request(0n, 0n), w.deps)).decision).toBe('refresh');
    expect((await w.memory.getLatest(log.origin))?.root).toEqual(EMPTY_ROOT);
    const res3 = await processAddCheckpoint(await log.request(0n, 3n), w.deps);
    expectCosigned(res3, log.checkpointNote(3n), w.verifier, w.clock.nowMs());
    expect(await latestSize(w, log.origin)).toBe(3n);
  });

  it('accepts any trusted key of the log, and keeps only verified signatures in the stored note', async () => {
    const second = generateSignerKey('example.com/log-key-2');
    const stranger = generateSignerKey(log.origin);
    const w = newTestWitness([{ origin: log.origin, vkeys: [log.vkey, second.vkey] }]);
    const text = parseNote(log.checkpointNote(4n)).text;
    const note = signNote(text, [stranger.signer, second.signer]);
    const res = await processAddCheckpoint(`old 0\n\n${note}`, w.deps);
    expectCosigned(res, note, w.verifier, w.clock.nowMs());
    const stored = await getCosignedCheckpoint(log.origin, w.deps.store);
    expect(stored).toBe(signNote(text, [second.signer]) + res.body);
  });

  it('refuses a timestamp of zero: a clock before 1970-01-01T00:00:01Z is a 500', async () => {
    const w = newWitness();
    const res = await processAddCheckpoint(await log.request(0n, 3n), { ...w.deps, clock: () => 999 });
    expect(res).toMatchObject({ status: 500, body: 'internal error\n', origin: log.origin });
    expect(res.error?.code).toBe('clock_invalid');
    expect(await latestSize(w, log.origin)).toBeUndefined();
  });

  it('serves the latest cosigned note for the monitoring endpoint, found by origin hash', async () => {
    const w = newWitness();
    expect(await getCosignedCheckpoint(log.origin, w.deps.store)).toBeUndefined();
    const res = await processAddCheckpoint(await log.request(0n, 5n), w.deps);
    const found = w.deps.logs.getByOriginHash(witnessOriginHash(log.origin));
    expect(await getCosignedCheckpoint(found!.origin, w.deps.store)).toBe(log.checkpointNote(5n) + res.body);
  });

  it('round-trips through formatAddCheckpointRequest for every (old, size) pair of an 8-leaf log', async () => {
    const w = newWitness();
    let state = 0n;
    for (let size = 0n; size <= 8n; size++) {
      const res = await processAddCheckpoint(formatAddCheckpointRequest({
        oldSize: state, proof: await log.proof(state, size), checkpointNote: log.checkpointNote(size),
      }), w.deps);
      expect(res.status, res.body).toBe(200);
      state = size;
    }
    expect(await latestSize(w, log.origin)).toBe(8n);
  });
});
