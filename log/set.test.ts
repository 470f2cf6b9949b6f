import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeHex, encodeBase64 } from '../tlog/base64.ts';
import { parseVerifierKey } from '../tlog/note-key.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { isLogError } from './errors.ts';
import { computeLogId, formatEntryTimestampPayload, isValidEntryTimestamp, signEntryTimestamp } from './set.ts';

// A real Rekor v1 entry of rekor.sigstore.dev with its SET, signed by the public-good ECDSA P-256
// log key. Source: sigstore/sigstore-js @ 002b5b91, packages/verify/src/__tests__/__fixtures__/
// bundles.ts, V1.MESSAGE_SIGNATURE.WITH_SIGNING_CERT (logIndex 6757503). The key is the public
// Rekor key, whose SHA-256(SPKI) is the logId c0d23d6a… of the same fixture.
const REKOR_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr
kBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==
-----END PUBLIC KEY-----
`;
const REKOR_ENTRY = {
  logId: 'wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=',
  logIndex: 6757503n,
  integratedTime: 1667957590,
  set: 'MEUCIFUNcHgHB318gCNJR0/CH4E0daODbnfePyzKCDqrt3twAiEA9N+ZObaLwVJwvOtPgkfoBa5NzjTH0eC06YBlOyZlMiY=',
  body: 'eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIiwic3BlYyI6eyJkYXRhIjp7Imhhc2giOnsiYWxnb3JpdGhtIjoic2hhMjU2IiwidmFsdWUiOiI2OGU2NTZiMjUxZTY3ZTgzNThiZWY4NDgzYWIwZDUxYzY2MTlmM2U3YTFhOWYwZTc1ODM4ZDQxZmYzNjhmNzI4In19LCJzaWduYXR1cmUiOnsiY29udGVudCI6Ik1FUUNJSHM1YVV1bHExSHBSK2Z3bVNLcExrL29Bd3E1TzlDRE5GSGhaQUtmRzVHbUFpQndjVm5mMm9ienNDR1ZsZjBBSXZidkhyMjFOWHQ3dHBMQmw0K0JyaDZPS0E9PSIsInB1YmxpY0tleSI6eyJjb250ZW50IjoiTFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2sxSlNVTnZSRU5EUVdsaFowRjNTVUpCWjBsVlpYWmhaU3R1VEZFNGJXYzJUM2xQUWpRelRVdEtNVEJHTWtORmQwTm5XVWxMYjFwSmVtb3dSVUYzVFhjS1RucEZWazFDVFVkQk1WVkZRMmhOVFdNeWJHNWpNMUoyWTIxVmRWcEhWakpOVWpSM1NFRlpSRlpSVVVSRmVGWjZZVmRrZW1SSE9YbGFVekZ3WW01U2JBcGpiVEZzV2tkc2FHUkhWWGRJYUdOT1RXcEplRTFVUVRWTlJFVjZUWHBCTlZkb1kwNU5ha2w0VFZSQk5VMUVSVEJOZWtFMVYycEJRVTFHYTNkRmQxbElDa3R2V2tsNmFqQkRRVkZaU1V0dldrbDZhakJFUVZGalJGRm5RVVU1UkdKWlFrbE5VVXgwVjJJMlNqVm5kRXcyT1dwblVuZDNSV1prZEZGMFMzWjJSelFLSzI4elducHNUM0p2U25Cc2NGaGhWbWRHTm5kQ1JHOWlLeXR5VGtjNUwwRjZVMkZDYlVGd2EwVjNTVFV5V0VKcVYzRlBRMEZWVlhkblowWkNUVUUwUndwQk1WVmtSSGRGUWk5M1VVVkJkMGxJWjBSQlZFSm5UbFpJVTFWRlJFUkJTMEpuWjNKQ1owVkdRbEZqUkVGNlFXUkNaMDVXU0ZFMFJVWm5VVlZXU1VsR0NtTXdPSG8yZFZZNVdUazJVeXQyTlc5RVltSnRTRVZaZDBoM1dVUldVakJxUWtKbmQwWnZRVlV6T1ZCd2VqRlphMFZhWWpWeFRtcHdTMFpYYVhocE5Ga0tXa1E0ZDBoM1dVUldVakJTUVZGSUwwSkNWWGRGTkVWU1dXNUtjRmxYTlVGYVIxWnZXVmN4YkdOcE5XcGlNakIzVEVGWlMwdDNXVUpDUVVkRWRucEJRZ3BCVVZGbFlVaFNNR05JVFRaTWVUbHVZVmhTYjJSWFNYVlpNamwwVERKNGRsb3liSFZNTWpsb1pGaFNiMDFKUjB0Q1oyOXlRbWRGUlVGa1dqVkJaMUZEQ2tKSWQwVmxaMEkwUVVoWlFUTlVNSGRoYzJKSVJWUktha2RTTkdOdFYyTXpRWEZLUzFoeWFtVlFTek12YURSd2VXZERPSEEzYnpSQlFVRkhSVmRuVlVjS1VYZEJRVUpCVFVGU2VrSkdRV2xGUVd4TGVXTk5Ra015Y1N0UlRTdHRZM1EyTUZKT1JVNTRjRlZTU0dWek5uWm5UMEpYWkhnM01WaGpXR2REU1VGMGJncE5lbmN2WTBKM05XZ3dhSEpaU2poaU1WQkthbTk0YmpOck1VNHlWR1JuYjJaeGRrMW9ZbE5VVFVGdlIwTkRjVWRUVFRRNVFrRk5SRUV5WjBGTlIxVkRDazFSUXpKTFRFWlpVMmxFTHl0VE1WZEZjM2xtT1dONlpqVXlkeXRGTlRjM1NHazNOM0k0Y0VkVlRURnlVUzlDZW1jeFlVZDJVWE13TDJ0Qlp6TlRMMG9LVTBSblEwMUZaRTQxWkVsVE1IUlNiVEZUVDAxaVQwWmpWeXN4ZVhwU0swOXBRMVpLTjBSV1JuZFZaRWt6UkM4M1JWSjRkRTQ1WlM5TVNqWjFZVkp1VWdvdlUyRnVjbmM5UFFvdExTMHRMVVZPUkNCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PSJ9fX19',
};

describe('computeLogId', () => {
  it('is the full C2SP key ID: the logId of public-good log2025-1 in its trusted root and TLEs', () => {
    // shared/vectors/rekor/rekor-v2-inclusion.json: vkey of log2025-1.rekor.sigstore.dev; its logId
    // (public-good trusted_root.json, sigstore/root-signing) is the C2SP key ID cf119915….
    const vkey = parseVerifierKey('log2025-1.rekor.sigstore.dev+cf119915+AbfK5adZJxsI323FwGD2AJJ9F4i89cfDuLdGJBIYntuO');
    const id = computeLogId(vkey.name, vkey.publicKey);
    expect(encodeBase64(id)).toBe('zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=');
    expect(new DataView(id.buffer, id.byteOffset).getUint32(0)).toBe(vkey.keyId);
  });
});

describe('formatEntryTimestampPayload', () => {
  it('gives the exact bytes Rekor signed: a real public-good SET verifies over them', () => {
    const fields = { body: decodeBase64(REKOR_ENTRY.body), integratedTime: REKOR_ENTRY.integratedTime, logId: decodeBase64(REKOR_ENTRY.logId), logIndex: REKOR_ENTRY.logIndex };
    const payload = formatEntryTimestampPayload(fields);
    expect(new TextDecoder().decode(payload)).toBe(
      `{"body":"${REKOR_ENTRY.body}","integratedTime":1667957590,"logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d","logIndex":6757503}`,
    );
    const key = createPublicKey(REKOR_KEY_PEM);
    expect(verify('sha256', payload, key, decodeBase64(REKOR_ENTRY.set))).toBe(true);
    expect(verify('sha256', formatEntryTimestampPayload({ ...fields, integratedTime: fields.integratedTime + 1 }), key, decodeBase64(REKOR_ENTRY.set))).toBe(false);
  });

  it('refuses values without one canonical form', () => {
    const base = { body: new Uint8Array([1]), integratedTime: 1, logId: new Uint8Array(32), logIndex: 0n };
    for (const bad of [{ logIndex: 2n ** 53n }, { logIndex: -1n }, { integratedTime: 1.5 }, { integratedTime: -1 }, { logId: new Uint8Array(31) }]) {
      let err: unknown;
      try {
        formatEntryTimestampPayload({ ...base, ...bad });
      } catch (e) {
        err = e;
      }
      expect(isLogError(err, 'invalid_argument'), JSON.stringify(bad, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).toBe(true);
    }
    expect(new TextDecoder().decode(formatEntryTimestampPayload({ ...base, logIndex: 2n ** 53n - 1n }))).toContain('"logIndex":9007199254740991}');
  });
});

describe('signEntryTimestamp', () => {
  it('signs with the Ed25519 log key, deterministically; isValidEntryTimestamp checks every field', () => {
    const { signer } = generateSignerKey('log.vigil.test/set');
    const fields = { body: new TextEncoder().encode('{"kind":"x"}'), integratedTime: 1_795_000_000, logId: computeLogId(signer.name, signer.publicKey), logIndex: 42n };
    const set = signEntryTimestamp(signer, fields);
    expect(set.length).toBe(64);
    expect(signEntryTimestamp(signer, fields)).toEqual(set);
    expect(isValidEntryTimestamp(signer.publicKey, fields, set)).toBe(true);
    for (const changed of [{ logIndex: 43n }, { integratedTime: 1_795_000_001 }, { body: new Uint8Array([1]) }, { logId: decodeHex('00'.repeat(32)) }]) {
      expect(isValidEntryTimestamp(signer.publicKey, { ...fields, ...changed }, set)).toBe(false);
    }
    expect(isValidEntryTimestamp(signer.publicKey, fields, set.slice(1))).toBe(false);
  });
});
