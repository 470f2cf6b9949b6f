// The witness scenario vectors as reusable step runners, for any way of reaching a witness: the
// HTTP tests (witness/http.test.ts) run them over loopback against a node backed by SQL. Each
// step checks status, Content-Type, body and the state after it (read back through `latestSize`).
//   witness/tessera-testlog-witness-scenario.json  16 steps, every status (C2SP tlog-witness HEAD)
//   witness/litewitness-scenario.json               9 steps from FiloSottile/torchwood litewitness
import { expect } from 'vitest';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { verifyCosignatureLine, type CosignatureVerifier } from '../tlog/cosignature.ts';
import { parseNote } from '../tlog/note.ts';
import { TLOG_SIZE_CONTENT_TYPE, parseAddCheckpointRequest, parseAddCheckpointResponse } from '../tlog/witness-request.ts';
import { readVectorJson } from './vectors.ts';

/** TESSERA_SCENARIO and LITEWITNESS_SCENARIO are the vector files, relative to the vectors folder. */
export const TESSERA_SCENARIO = 'witness/tessera-testlog-witness-scenario.json';
export const LITEWITNESS_SCENARIO = 'witness/litewitness-scenario.json';

/** ScenarioAnswer is an add-checkpoint answer as a client sees it. */
export interface ScenarioAnswer {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** ScenarioWitness is a witness under test, reached however the caller likes. */
export interface ScenarioWitness {
  /** post sends an add-checkpoint body. */
  post(body: string): Promise<ScenarioAnswer>;
  /** latestSize reads the size of the latest cosigned checkpoint of `origin` (undefined: none). */
  latestSize(origin: string): Promise<bigint | undefined>;
  /** verifier is the witness's cosignature key. */
  verifier: CosignatureVerifier;
  /** nowMs is the witness's clock; advance moves it (cosignature timestamps are checked against it). */
  nowMs(): number;
  advance(ms: number): void;
}

/** tesseraScenarioLogs returns the logs the tessera scenario's witness follows. */
export function tesseraScenarioLogs(): { origin: string; vkeys: string[] }[] {
  const v = readVectorJson(TESSERA_SCENARIO);
  return v.witness_config_logs.map((l: { origin: string; vkey: string }) => ({ origin: l.origin, vkeys: [l.vkey] }));
}

/** litewitnessScenarioSetup returns the log the litewitness scenario's witness follows, and the witness name. */
export function litewitnessScenarioSetup(): { logs: { origin: string; vkeys: string[] }[]; witnessName: string } {
  const v = readVectorJson(LITEWITNESS_SCENARIO);
  return { logs: [{ origin: v.log.origin, vkeys: [v.log.vkey_built_here] }], witnessName: v.witness.name };
}

/**
 * expectCosignedAnswer checks a 200 the way a client does: signature lines that are cosignatures
 * by the witness over the checkpoint text, at the witness clock's (non-zero) seconds, and that
 * verify as a note when appended to the checkpoint.
 */
export function expectCosignedAnswer(res: ScenarioAnswer, checkpointNote: string, w: Pick<ScenarioWitness, 'verifier' | 'nowMs'>): void {
  expect(res.status, res.body).toBe(200);
  expect(res.contentType).toBe('text/plain; charset=utf-8');
  expect(parseAddCheckpointResponse(res.body).length).toBeGreaterThanOrEqual(1);
  const text = parseNote(checkpointNote).text;
  for (const line of res.body.slice(0, -1).split('\n')) {
    expect(verifyCosignatureLine(w.verifier, text, line)).toBe(BigInt(Math.floor(w.nowMs() / 1000)));
  }
  expect(openCheckpoint(checkpointNote + res.body, [w.verifier]).note.verified).toHaveLength(1);
}

/** runTesseraScenario runs the 16 steps in order against one fresh witness that follows the log. */
export async function runTesseraScenario(w: ScenarioWitness): Promise<void> {
  const v = readVectorJson(TESSERA_SCENARIO);
  expect(v.steps).toHaveLength(16);
  const origin: string = v.witness_config_logs[0].origin;
  for (const step of v.steps) {
    w.advance(1000);
    const res = await w.post(step.request_body);
    const what = `step ${step.step}: ${step.desc}`;
    expect(res.status, `${what}: ${res.body}`).toBe(step.expect_status);
    if (step.expect_status === 200) {
      expectCosignedAnswer(res, parseAddCheckpointRequest(step.request_body).checkpointNote, w);
    } else if (step.expect_status === 409) {
      expect(res.contentType, what).toBe(step.expect_content_type);
      expect(res.body, what).toBe(step.expect_body);
    } else {
      expect(res.contentType, what).toBe('text/plain; charset=utf-8');
      expect(res.body, what).toMatch(/^[^\n]+\n$/);
    }
    const want = step.state_after === null ? undefined : BigInt(step.state_after);
    expect(await w.latestSize(origin), what).toBe(want);
  }
}

/** runLitewitnessScenario runs the 9 steps with the statuses C2SP requires now and the asserted bodies. */
export async function runLitewitnessScenario(w: ScenarioWitness): Promise<void> {
  const v = readVectorJson(LITEWITNESS_SCENARIO);
  expect(v.steps).toHaveLength(9);
  const states = [1n, 1n, 1n, 1n, 1n, 3n, 3n, 5n, 5n];
  for (const [i, step] of v.steps.entries()) {
    w.advance(1000);
    const res = await w.post(step.request_body);
    const what = `step ${i + 1}: ${step.desc}`;
    expect(res.status, `${what}: ${res.body}`).toBe(step.expected_status_c2sp_now);
    assertHurlBody(res.body, step.expected_assert);
    if (res.status === 200) expectCosignedAnswer(res, parseAddCheckpointRequest(step.request_body).checkpointNote, w);
    if (res.status === 409) expect(res.contentType, what).toBe(TLOG_SIZE_CONTENT_TYPE);
    expect(await w.latestSize(v.log.origin), what).toBe(states[i]);
  }
}

// assertHurlBody checks a hurl-style assertion: `body contains "…"` or `body == "…"` (JSON escapes).
function assertHurlBody(body: string, assertion: string): void {
  const contains = /^body contains "(.*)"$/.exec(assertion);
  const equals = /^body == "(.*)"$/.exec(assertion);
  if (contains) expect(body).toContain(JSON.parse(`"${contains[1]}"`));
  else if (equals) expect(body).toBe(JSON.parse(`"${equals[1]}"`));
  else throw new Error(`unknown assertion ${assertion}`);
}
