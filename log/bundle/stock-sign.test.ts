// Bundles made by unmodified @sigstore/sign 4.1.1 (FulcioSigner, RekorWitness v1/v2, TSAWitness)
// against a running Vigil front end (log/ca test server + log/tsa) pass Vigil's own verifier
// (verifyBundle): v0.2 message-signature bundles with x509CertificateChain, v0.3 DSSE bundles,
// Rekor v1 entries with SETs and v2 entries with RFC 3161 timestamps.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, MessageSignatureBundleBuilder, RekorWitness, TSAWitness, type Witness } from '@sigstore/sign';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../platform/clock.ts';
import { silentLogger } from '../../platform/logger.ts';
import { fetchDevToken, startCaTestServer, type CaTestServer } from '../ca/ca-test-server.ts';
import { createTsaRouter } from '../tsa/http.ts';
import { initTsa, tsaCertificateAuthority, type Tsa } from '../tsa/tsa.ts';
import { isBundleError } from './errors.ts';
import { parseTrustedRoot, type TrustedRoot } from './trusted-root.ts';
import { verifyBundle } from './verify.ts';

const EMAIL = 'carol@vigil.test';
let tmp: string;
let tsa: Tsa;
let server: CaTestServer;
let root: TrustedRoot;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'vigil-stock-sign-'));
  tsa = await initTsa(join(tmp, 'tsa'));
  server = await startCaTestServer({
    routers: async () => [createTsaRouter(tsa, { clock: systemClock, logger: silentLogger() })],
    timestampAuthorities: () => [tsaCertificateAuthority(tsa)],
  });
  root = parseTrustedRoot(await (await fetch(`${server.url}/api/v1/trusted_root.json`)).text());
});

afterAll(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function witnesses(api: 1 | 2): Witness[] {
  const rekor = new RekorWitness({ rekorBaseURL: server.url, majorApiVersion: api, timeout: 30_000 });
  return api === 1 ? [rekor] : [rekor, new TSAWitness({ tsaBaseURL: server.url })];
}

function signer(): FulcioSigner {
  return new FulcioSigner({ fulcioBaseURL: server.url, identityProvider: { getToken: () => fetchDevToken(server.issuerUrl, { email: EMAIL }) } });
}

const policy = () => ({ identityRegex: 'carol@vigil\\.test', issuer: server.issuerUrl });

describe('verifyBundle on bundles from stock @sigstore/sign 4.1.1', () => {
  it.each([1, 2] as const)('message signature, Rekor API v%i', async (api) => {
    const data = randomBytes(100);
    const bundle = bundleToJSON(await new MessageSignatureBundleBuilder({ signer: signer(), witnesses: witnesses(api) }).create({ data }));
    const verified = verifyBundle(data, JSON.parse(JSON.stringify(bundle)), root, policy());
    expect(verified.identity).toBe(EMAIL);
    expect(verified.times).toHaveLength(1);
    let code: unknown;
    try {
      verifyBundle(randomBytes(100), bundle, root, policy());
    } catch (err) {
      code = isBundleError(err) ? err.code : err;
    }
    expect(code).toBe('artifact_mismatch');
  });

  it('DSSE in-toto statement, Rekor API v1', async () => {
    const artifact = randomBytes(100);
    const statement = Buffer.from(JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'artifact', digest: { sha256: createHash('sha256').update(artifact).digest('hex') } }],
      predicateType: 'https://slsa.dev/provenance/v1', predicate: {},
    }));
    const bundle = bundleToJSON(await new DSSEBundleBuilder({ signer: signer(), witnesses: witnesses(1) }).create({ data: statement, type: 'application/vnd.in-toto+json' }));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(verifyBundle(artifact, bundle, root, policy()).identity).toBe(EMAIL);
  });
});
