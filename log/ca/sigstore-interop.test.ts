// Issue 8, Done-when 1: unmodified @sigstore/sign 4.1.1 (FulcioSigner + RekorWitness) signs against
// a running Vigil (log + CA + development issuer on loopback), and unmodified @sigstore/verify 3.1.1
// verifies the bundles with Vigil's trusted_root.json and DEFAULT thresholds (ctlogThreshold 1,
// tlogThreshold 1, timestampThreshold 1), for a message signature and a DSSE statement. Rekor API
// v1 entries carry a signed entry timestamp; v2 entries carry none, so the v2 runs add Vigil's
// RFC 3161 TSA (log/tsa/) through TSAWitness, and the TSA's chain is in the trusted root.
import { bundleFromJSON, bundleToJSON, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { DSSEBundleBuilder, FulcioSigner, MessageSignatureBundleBuilder, RekorWitness, TSAWitness, type Witness } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { silentLogger } from '../../platform/logger.ts';
import { systemClock } from '../../platform/clock.ts';
import { createTsaRouter } from '../tsa/http.ts';
import { initTsa, tsaCertificateAuthority, type Tsa } from '../tsa/tsa.ts';
import { fetchDevToken, startCaTestServer, type CaTestServer } from './ca-test-server.ts';

const EMAIL = 'alice@vigil.test';
let server: CaTestServer;

beforeAll(async () => {
  let tsa: Tsa | undefined;
  server = await startCaTestServer({
    routers: async (_url, caDir) => {
      tsa = await initTsa(join(caDir, 'tsa'));
      return [createTsaRouter(tsa, { clock: systemClock, logger: silentLogger() })];
    },
    timestampAuthorities: () => [tsaCertificateAuthority(tsa!)],
  });
});
afterAll(async () => {
  await server?.close();
});

function signer(): FulcioSigner {
  return new FulcioSigner({ fulcioBaseURL: server.url, identityProvider: { getToken: () => fetchDevToken(server.issuerUrl, { email: EMAIL }) } });
}

function rekor(majorApiVersion: 1 | 2, entryType?: 'dsse'): RekorWitness {
  return new RekorWitness({ rekorBaseURL: server.url, majorApiVersion, ...(entryType === undefined ? {} : { entryType }), timeout: 30_000 });
}

/** verify round-trips the bundle through its JSON form, then verifies it with stock defaults. */
async function verify(bundle: Bundle, artifact?: Buffer) {
  const trustedRoot = (await (await fetch(`${server.url}/api/v1/trusted_root.json`)).json()) as Record<string, unknown>;
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustedRoot)));
  const parsed = bundleFromJSON(JSON.parse(JSON.stringify(bundleToJSON(bundle))));
  return verifier.verify(toSignedEntity(parsed, artifact), {
    subjectAlternativeName: `^${EMAIL.replace(/\./g, '\\.')}$`,
    extensions: { issuer: server.issuerUrl },
  });
}

async function signMessage(witnesses: Witness[], data: Buffer): Promise<Bundle> {
  return new MessageSignatureBundleBuilder({ signer: signer(), witnesses }).create({ data });
}

async function signDsse(witnesses: Witness[], data: Buffer): Promise<Bundle> {
  return new DSSEBundleBuilder({ signer: signer(), witnesses }).create({ data, type: 'application/vnd.in-toto+json' });
}

const statement = () => Buffer.from(JSON.stringify({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'pkg:npm/example@1.0.0', digest: { sha256: 'a'.repeat(64) } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: { n: Math.random() },
}));

describe('stock sigstore-js against Vigil, Rekor API v1', () => {
  it('signs a message and verifies it with default thresholds', async () => {
    const data = Buffer.from(`hello vigil ${Math.random()}`);
    const bundle = await signMessage([rekor(1)], data);
    const signerInfo = await verify(bundle, data);
    expect(signerInfo.identity?.subjectAlternativeName).toBe(EMAIL);
    expect(signerInfo.identity?.extensions?.issuer).toBe(server.issuerUrl);
    // Another artifact does not verify.
    await expect(verify(bundle, Buffer.from('something else'))).rejects.toThrow();
  });

  it('signs a DSSE statement and verifies it with default thresholds', async () => {
    const bundle = await signDsse([rekor(1, 'dsse')], statement());
    expect(bundle.verificationMaterial.tlogEntries[0]?.kindVersion?.kind).toBe('dsse');
    const signerInfo = await verify(bundle);
    expect(signerInfo.identity?.subjectAlternativeName).toBe(EMAIL);
  });

  it('counts the embedded SCT: without the CT log in the trusted root, verification fails', async () => {
    const data = Buffer.from('sct');
    const bundle = await signMessage([rekor(1)], data);
    const trustedRoot = (await (await fetch(`${server.url}/api/v1/trusted_root.json`)).json()) as Record<string, unknown>;
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON({ ...trustedRoot, ctlogs: [] })));
    expect(() => verifier.verify(toSignedEntity(bundle, data))).toThrow(/SCT/);
  });

  it('refuses a policy for another identity', async () => {
    const data = Buffer.from('policy');
    const bundle = await signMessage([rekor(1)], data);
    const trustedRoot = (await (await fetch(`${server.url}/api/v1/trusted_root.json`)).json()) as Record<string, unknown>;
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustedRoot)));
    expect(() => verifier.verify(toSignedEntity(bundle, data), { subjectAlternativeName: '^mallory@vigil\\.test$' })).toThrow();
  });
});

describe('stock sigstore-js against Vigil, Rekor API v2 with the TSA', () => {
  const tsa = () => new TSAWitness({ tsaBaseURL: server.url });

  it('signs a message (hashedrekord 0.0.2 + RFC 3161 timestamp) and verifies it with default thresholds', async () => {
    const data = Buffer.from(`hello vigil v2 ${Math.random()}`);
    const bundle = await signMessage([rekor(2), tsa()], data);
    const entry = bundle.verificationMaterial.tlogEntries[0]!;
    expect(entry.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    expect(entry.inclusionPromise).toBeUndefined();
    expect(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);
    const signerInfo = await verify(bundle, data);
    expect(signerInfo.identity?.subjectAlternativeName).toBe(EMAIL);
  });

  it('signs a DSSE statement (dsse 0.0.2 + RFC 3161 timestamp) and verifies it with default thresholds', async () => {
    const bundle = await signDsse([rekor(2), tsa()], statement());
    expect(bundle.verificationMaterial.tlogEntries[0]!.kindVersion).toEqual({ kind: 'dsse', version: '0.0.2' });
    const signerInfo = await verify(bundle);
    expect(signerInfo.identity?.subjectAlternativeName).toBe(EMAIL);
  });

  it('a v2 bundle without the timestamp has no time source and fails', async () => {
    const data = Buffer.from('no time');
    const bundle = await signMessage([rekor(2)], data);
    await expect(verify(bundle, data)).rejects.toThrow(/timestamp/i);
  });
});
