// Precertificate entries, as Vigil's real CA logs them (log/ca/ca-test-server.ts: the log, the CA
// and the development OIDC issuers over HTTP on loopback), read back from the log with their
// inclusion proofs and followed through everything the monitor does with an event: parsing, watch
// rules and expected-signer policies (RuleIndex), the search index on PGlite and PostgreSQL, and a
// search client's re-verification of a result (verifySearchResult).
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchDevToken, startCaTestServer, type CaTestServer } from '../log/ca/ca-test-server.ts';
import { OID_CT_PRECERT_POISON } from '../log/ca/certificate.ts';
import { createDevOidcRouter, loadDevOidcKey } from '../log/ca/dev-oidc.ts';
import { parsePem } from '../log/kinds/pem.ts';
import { x509 } from '../log/kinds/peculiar-x509.ts';
import type { Db } from '../platform/db.ts';
import { applyMigrations } from '../platform/migrate.ts';
import { openTestPg, openTestPglite } from '../test/db.ts';
import { serviceAvailable } from '../test/services.ts';
import { decodeBase64, encodeBase64 } from '../tlog/base64.ts';
import { newEd25519Verifier } from '../tlog/note-ed25519.ts';
import { readCertificateSigner } from './entry-certificate.ts';
import { parseLogEntry } from './entry-parse.ts';
import { isMonitorError } from './errors.ts';
import { buildRuleIndex } from './rule-index.ts';
import type { SignerPolicy, WatchRule } from './rules.ts';
import { indexEvents, SEARCH_COMPONENT, SEARCH_MIGRATIONS } from './search-index.ts';
import { verifySearchResult } from './search-verify.ts';
import { searchEntries, type SearchQuery } from './search.ts';
import type { SigningEvent } from './signing-event.ts';

const hasPostgres = await serviceAvailable('postgres');
const EMAIL = 'maintainer@vigil.test';
const GITHUB_SUB = 'repo:org/repo:ref:refs/tags/v1.0.0';
const GITHUB_SAN = 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0';
const GITHUB_CLAIMS = {
  job_workflow_ref: 'org/repo/.github/workflows/release.yml@refs/tags/v1.0.0',
  job_workflow_sha: 'b'.repeat(40), repository: 'org/repo', repository_id: '42', repository_owner: 'org', repository_owner_id: '7',
  workflow_ref: 'org/repo/.github/workflows/release.yml@refs/tags/v1.0.0', workflow_sha: 'c'.repeat(40), workflow: 'release',
  event_name: 'push', ref: 'refs/tags/v1.0.0', sha: 'a'.repeat(40), run_id: '99', run_attempt: '1',
  runner_environment: 'github-hosted', repository_visibility: 'public',
};
const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Issued is one certificate the CA returned, the requester's key, and the entry it logged for it. */
interface Issued {
  certificate: Uint8Array;
  spki: Uint8Array;
  index: bigint;
  body: Uint8Array;
}

let server: CaTestServer;
let email: Issued;
let github: Issued;

// issue asks the CA for a certificate over HTTP, then reads the entry the CA logged for it (the
// newest one: requests are sent one at a time) with its inclusion proof.
async function issue(token: string, challenge: string): Promise<Issued> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  const content = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
  const res = await fetch(`${server.url}/api/v2/signingCert`, {
    method: 'POST',
    body: JSON.stringify({ credentials: { oidcIdentityToken: token }, publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content }, proofOfPossession: sign('sha256', Buffer.from(challenge), privateKey).toString('base64') } }),
  });
  expect(res.status).toBe(201);
  const pems = ((await res.json()) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } }).signedCertificateEmbeddedSct.chain.certificates;
  const certificate = parsePem(pems[0]!, 'certificate', 'malformed_certificate')[0]!.der;
  const { size } = await server.started.log.getCheckpoint();
  const entry = await server.started.log.getEntryByIndex(size - 1n);
  return { certificate, spki, index: size - 1n, body: entry.body };
}

beforeAll(async () => {
  server = await startCaTestServer({
    issuers: (url) => [{ issuerUrl: `${url}/oidc/github`, clientId: 'sigstore', kind: 'github-workflow' }],
    routers: async (url, caDir) => [createDevOidcRouter({ issuerUrl: `${url}/oidc/github`, pathPrefix: '/oidc/github' }, { key: await loadDevOidcKey(caDir), clock: { nowMs: () => Date.now() } })],
  });
  email = await issue(await fetchDevToken(server.issuerUrl, { email: EMAIL }), EMAIL);
  github = await issue(await fetchDevToken(`${server.url}/oidc/github`, { sub: GITHUB_SUB, claims: GITHUB_CLAIMS }), GITHUB_SUB);
});
afterAll(async () => {
  await server?.close();
});

const parse = (i: Issued): SigningEvent => parseLogEntry(server.signer.name, i.index, i.body);

describe('parseLogEntry on precertificate entries the CA logged', () => {
  it('reads an email certificate: the SAN, the issuer, the requester’s key, notBefore, no digests', () => {
    const e = parse(email);
    expect(JSON.parse(new TextDecoder().decode(email.body))).toMatchObject({ apiVersion: '0.0.1', kind: 'precertificate' });
    expect(e).toMatchObject({ logOrigin: server.signer.name, index: email.index, entryKind: 'precertificate', integratedTimeSec: undefined });
    expect(e.identity).toEqual({ kind: 'email', san: EMAIL, issuer: server.issuerUrl, ci: {} });
    expect(e.keyFingerprint).toBe(sha256Hex(email.spki));
    expect(e.artifactDigests).toEqual([]);
    expect(e.namespaces).toEqual([{ kind: 'email-domain', value: 'vigil.test' }]);
    expect(e.certificateNotBeforeSec).toBe(new x509.X509Certificate(email.certificate).notBefore.getTime() / 1000);
  });

  it('reads a GitHub workflow certificate: URI SAN, CI claims, repository namespace', () => {
    const e = parse(github);
    expect(e.identity).toEqual({
      kind: 'uri',
      san: GITHUB_SAN,
      issuer: `${server.url}/oidc/github`,
      ci: {
        sourceRepositoryUri: 'https://github.com/org/repo',
        repository: 'org/repo',
        workflow: 'org/repo/.github/workflows/release.yml',
        workflowRef: 'org/repo/.github/workflows/release.yml@refs/tags/v1.0.0',
        workflowTrigger: 'push',
        ref: 'refs/tags/v1.0.0',
        sha: 'a'.repeat(40),
        buildSignerUri: GITHUB_SAN,
        runnerEnvironment: 'github-hosted',
        runInvocationUri: 'https://github.com/org/repo/actions/runs/99/attempts/1',
      },
    });
    expect(e.namespaces).toEqual([{ kind: 'repository', value: 'https://github.com/org/repo' }]);
    expect(e.keyFingerprint).toBe(sha256Hex(github.spki));
  });

  it('reads the poisoned precertificate exactly as the certificate issued from it', () => {
    for (const i of [email, github]) {
      const precert = decodeBase64(JSON.parse(new TextDecoder().decode(i.body)).spec.precertificate);
      const poison = new x509.X509Certificate(precert).getExtension(OID_CT_PRECERT_POISON);
      expect(poison?.critical).toBe(true);
      expect(new x509.X509Certificate(i.certificate).getExtension(OID_CT_PRECERT_POISON)).toBeNull();
      expect(readCertificateSigner(precert)).toEqual(readCertificateSigner(i.certificate));
    }
  });
});

describe('RuleIndex on precertificate events', () => {
  const rules: WatchRule[] = [
    { id: 'me', subscriberId: 'maintainer', target: 'identity', match: 'exact', pattern: EMAIL },
    { id: 'me-other-issuer', subscriberId: 'maintainer', target: 'identity', match: 'exact', pattern: EMAIL, issuer: 'https://accounts.example.com' },
    { id: 'workflows', subscriberId: 'maintainer', target: 'identity', match: 'glob', pattern: 'https://github.com/org/repo/**' },
    { id: 'repo', subscriberId: 'maintainer', target: 'namespace', match: 'exact', pattern: 'https://github.com/org/repo' },
  ];
  const policy = (id: string, workflowFile: string): SignerPolicy => ({
    id,
    subscriberId: 'maintainer',
    namespace: 'https://github.com/org/repo',
    allowedSigners: [{ issuer: `${server.url}/oidc/github`, identity: { match: 'glob', pattern: `https://github.com/org/repo/.github/workflows/${workflowFile}@refs/tags/*` } }],
  });

  it('fires an identity watch rule (with and without its issuer), a key rule and a namespace rule', () => {
    const keyRule: WatchRule = { id: 'key', subscriberId: 'maintainer', target: 'key', match: 'exact', pattern: sha256Hex(email.spki) };
    const index = buildRuleIndex([...rules, keyRule, { ...rules[1]!, id: 'me-dev-issuer', issuer: server.issuerUrl }], []);
    expect(index.match(parse(email)).map((m) => `${m.kind}:${'ruleId' in m ? m.ruleId : ''}`).sort()).toEqual(['identity-used:me', 'identity-used:me-dev-issuer', 'key-used:key']);
    expect(index.match(parse(github)).map((m) => `${m.kind}:${'ruleId' in m ? m.ruleId : ''}`).sort()).toEqual(['identity-used:workflows', 'namespace-used:repo']);
  });

  it('judges a repository’s expected-signer policy: another workflow got a certificate', () => {
    const index = buildRuleIndex([], [policy('release-only', 'release.yml'), policy('deploy-only', 'deploy.yml')]);
    const matches = index.match(parse(github));
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ kind: 'unexpected-signer', policyId: 'deploy-only', value: 'https://github.com/org/repo' });
    expect(matches[0]!.reason).toContain('does not match');
    expect(index.match(parse(email))).toEqual([]); // no repository namespace: no policy covers it
  });
});

function searchSuite(open: () => Promise<{ db: Db; drop: () => Promise<void> }>) {
  let opened: { db: Db; drop: () => Promise<void> };
  beforeAll(async () => {
    opened = await open();
    await applyMigrations(opened.db, SEARCH_COMPONENT, SEARCH_MIGRATIONS);
    await opened.db.transaction((tx) => indexEvents(tx, [parse(email), parse(github)]));
  });
  afterAll(async () => {
    await opened?.drop();
  });
  const indices = async (q: SearchQuery) => (await searchEntries(opened.db, q)).hits.map((h) => h.index);

  it('finds certificates by identity, prefix, issuer, key and namespace; no digest finds them', async () => {
    const page = await searchEntries(opened.db, { identity: EMAIL.toUpperCase() });
    expect(page.hits).toHaveLength(1);
    expect(page.hits[0]).toMatchObject({ logOrigin: server.signer.name, index: email.index });
    expect(await indices({ identityPrefix: 'https://github.com/org/repo/' })).toEqual([github.index]);
    expect(await indices({ issuer: server.issuerUrl })).toEqual([email.index]);
    expect(await indices({ keyFingerprint: sha256Hex(github.spki) })).toEqual([github.index]);
    expect(await indices({ namespace: 'https://github.com/org/repo' })).toEqual([github.index]);
    const notBefore = Math.floor(new x509.X509Certificate(email.certificate).notBefore.getTime() / 1000);
    expect(await indices({ identity: EMAIL, sinceSec: notBefore, untilSec: notBefore })).toEqual([email.index]);
    expect(await indices({ digest: sha256Hex(email.certificate) })).toEqual([]);
  });

  it('a search client re-verifies a precertificate result from its leaf (read from the log) and inclusion proof', async () => {
    const hit = (await searchEntries(opened.db, { identity: EMAIL })).hits[0]!;
    const proof = await server.started.log.getEntryByIndex(hit.index);
    const result = {
      log_origin: hit.logOrigin,
      index: String(hit.index),
      body: encodeBase64(proof.body),
      inclusion_proof: { checkpoint: proof.checkpoint, tree_size: String(proof.size), root_hash: encodeBase64(proof.root), hashes: proof.inclusionProof.map(encodeBase64) },
    };
    const keys = new Map([[server.signer.name, [newEd25519Verifier(server.signer.name, server.signer.publicKey)]]]);
    const verified = verifySearchResult(result, { identity: EMAIL }, keys);
    expect(verified).toMatchObject({ signatureChecked: true, unchecked: [], event: { entryKind: 'precertificate', identity: { san: EMAIL } } });
    let caught: unknown;
    try {
      verifySearchResult(result, { digest: sha256Hex(email.certificate) }, keys); // a server claiming a digest match lies
    } catch (err) {
      caught = err;
    }
    expect(isMonitorError(caught, 'unverified_result'), String(caught)).toBe(true);
  });
}

describe('search index on PGlite: precertificate events', () => searchSuite(openTestPglite));
describe.skipIf(!hasPostgres)('search index on PostgreSQL: precertificate events', () => searchSuite(() => openTestPg('precert')));
