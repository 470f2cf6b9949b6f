// Thousands of malformed and mutated write requests over HTTP (issue 3, "Done when"): bad JSON,
// wrong kinds, huge and truncated bodies, bad base64, wrong signatures, certificates from another
// CA, fields of the wrong type. Every one is answered below 500, every refusal carries a code and a
// reason, and the log keeps serving. Mutations are seeded: a failure names the seed to replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../platform/clock.ts';
import { openTestPglite } from '../test/db.ts';
import {
  dsseV1Request, dsseV2Request, hashedRekordV1Request, hashedRekordV2Request, newTestKey, post, randomPayload, startTestLogServer,
  type TestLogServer,
} from '../test/log-http.ts';
import { loadCertificateTrust } from './kinds/certificate-chain.ts';
import { createIntermediateCa, createRootCa, issueLeaf, LEAF_NOT_BEFORE } from './kinds/testdata/pki.ts';
import { keyFromPrivate } from './kinds/testdata/requests.ts';

const REQUESTS = Number(process.env.VIGIL_FUZZ_REQUESTS ?? 2000);
const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? Date.now() % 1_000_000);

let s: TestLogServer;
let drop: () => Promise<void>;
const seeds: Array<{ api: 'v1' | 'v2'; body: unknown }> = [];
beforeAll(async () => {
  const opened = await openTestPglite();
  drop = opened.drop;
  const root = await createRootCa();
  const intermediate = await createIntermediateCa(root);
  const trust = loadCertificateTrust({ roots: [root.der], intermediates: [intermediate.der] });
  s = await startTestLogServer(opened.db, { trust, clock: manualClock(LEAF_NOT_BEFORE.getTime() + 60_000), config: { maxRequestBytes: 256 * 1024 } });
  const key = newTestKey('P-256');
  const leaf = await issueLeaf(intermediate);
  const certKey = keyFromPrivate('P-256', leaf.privateKey, leaf.spki);
  const foreign = await issueLeaf(await createIntermediateCa(await createRootCa()));
  const foreignKey = keyFromPrivate('P-256', foreign.privateKey, foreign.spki);
  const ed = newTestKey('Ed25519');
  seeds.push(
    { api: 'v1', body: hashedRekordV1Request(key, randomPayload('f1')) },
    { api: 'v1', body: hashedRekordV1Request(certKey, randomPayload('f2'), leaf.der) },
    { api: 'v1', body: dsseV1Request(key, randomPayload('f3')) },
    { api: 'v1', body: hashedRekordV1Request(foreignKey, randomPayload('f4'), foreign.der) },
    { api: 'v2', body: hashedRekordV2Request(key, randomPayload('f5')) },
    { api: 'v2', body: dsseV2Request(key, randomPayload('f6')) },
    { api: 'v2', body: dsseV2Request(certKey, randomPayload('f7'), leaf.der) },
    { api: 'v2', body: dsseV2Request(ed, randomPayload('f8')) },
    { api: 'v2', body: dsseV2Request(foreignKey, randomPayload('f9'), foreign.der) },
  );
});
afterAll(async () => {
  await s?.close();
  await drop?.();
});

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const WEIRD: readonly unknown[] = [null, 0, -1, 1.5, 2 ** 64, true, '', 'x', '!!!!', 'AAAA', '\u0000', '\ud800', [], {}, [1, 2], { a: 1 }, 'A'.repeat(70_000)];

/** mutateValue changes one random leaf or member of a JSON value in place (returns the new root). */
function mutateValue(rand: Rand, v: unknown, depth = 0): unknown {
  if (typeof v === 'string') {
    if (rand() < 0.5 || v.length === 0) return pick(rand, WEIRD);
    const i = Math.floor(rand() * v.length);
    return v.slice(0, i) + pick(rand, ['A', '=', '-', '_', ' ', '\n', '€']) + v.slice(i + (rand() < 0.5 ? 1 : 0));
  }
  if (v === null || typeof v !== 'object' || depth > 12 || rand() < 0.1) return pick(rand, WEIRD);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 0 || rand() < 0.1) {
    o[pick(rand, ['extra', 'kind', 'spec', '__proto__', 'constructor'])] = pick(rand, WEIRD);
    return o;
  }
  const k = pick(rand, keys);
  if (rand() < 0.15) delete o[k];
  else o[k] = mutateValue(rand, o[k], depth + 1);
  return o;
}

/** mutateText damages the serialised request: flip, cut, insert, repeat. */
function mutateText(rand: Rand, text: string): string | Uint8Array {
  const bytes = Buffer.from(text);
  const at = Math.floor(rand() * bytes.length);
  switch (Math.floor(rand() * 6)) {
    case 0:
      bytes[at] = bytes[at]! ^ (1 << Math.floor(rand() * 8));
      return new Uint8Array(bytes);
    case 1:
      return text.slice(0, at);
    case 2:
      return text.slice(0, at) + pick(rand, ['{', '}', '"', '\\', ',', '\u0000', '\uffff']) + text.slice(at);
    case 3:
      return new Uint8Array(Buffer.concat([bytes.subarray(0, at), Buffer.from([0xc3, 0x28]), bytes.subarray(at)]));
    case 4:
      return text.repeat(1 + Math.floor(rand() * 3));
    default:
      return new Uint8Array(Math.floor(rand() * 300 * 1024)).fill(Math.floor(rand() * 256));
  }
}

describe('the write API under fuzzing', () => {
  it(`answers ${REQUESTS} malformed or mutated requests below 500, with reasons, and keeps serving (seed ${SEED})`, async () => {
    let seed = SEED;
    const rand: Rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const statuses = new Map<string, number>();
    const requests = Array.from({ length: REQUESTS }, (_, i) => {
      const base = pick(rand, seeds);
      const api = rand() < 0.1 ? (base.api === 'v1' ? 'v2' : 'v1') : base.api;
      const body = rand() < 0.6 ? JSON.stringify(mutateValue(rand, structuredClone(base.body))) : mutateText(rand, JSON.stringify(base.body));
      return { i, api, body };
    });
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests.length) {
          const r = requests[next++]!;
          const a = await post(`${s.url}/api/${r.api}/log/entries`, r.body);
          expect(a.status, `request ${r.i} (seed ${SEED}): ${a.text.slice(0, 300)}`).toBeLessThan(500);
          if (a.status >= 400) {
            expect(typeof a.json?.code, `request ${r.i} (seed ${SEED})`).toBe('string');
            expect(a.json.message.length).toBeGreaterThan(0);
          }
          const key = `${a.status} ${a.json?.code ?? ''}`.trim();
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        }
      }),
    );
    const refused = [...statuses].filter(([k]) => k.startsWith('4')).reduce((n, [, c]) => n + c, 0);
    expect(refused).toBeGreaterThan(REQUESTS * 0.9);
    expect(new Set([...statuses.keys()].map((k) => k.split(' ')[1])).size).toBeGreaterThan(6);
    // Still serving: a fresh entry is logged and the checkpoint verifies.
    const ok = await post(`${s.url}/api/v2/log/entries`, dsseV2Request(newTestKey('P-256'), randomPayload('after')));
    expect(ok.status).toBe(201);
  });
});
