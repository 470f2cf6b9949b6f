// sign.ts is the signing client behind `vigil sign`: an OIDC token (given, or from the development
// issuer), an ephemeral P-256 key, a Fulcio-API certificate, a signature over the artifact (or a
// DSSE envelope of an in-toto statement about it: an attestation), a log entry through the Rekor
// v1 API (with a SET) or the v2 API plus an RFC 3161 timestamp, and the v0.3 bundle. Every service is
// Vigil's, at one base URL; answers are checked for shape, and the finished bundle is for
// `vigil verify` (or stock sigstore-js) to verify — the signer trusts nothing it received.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { decodeJwt } from 'jose';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { MessageImprint, TimeStampReq } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { encodeBase64 } from '../../tlog/base64.ts';
import { sha256 } from '../../tlog/sha256.ts';
import { encodeDssePae, IN_TOTO_PAYLOAD_TYPE } from '../kinds/dsse.ts';
import { parsePem } from '../kinds/pem.ts';
import type { RekorV1Entry, TransparencyLogEntryJson } from '../rekor-json.ts';
import { formatBundle, formatInTotoStatement, formatV1Proposal, formatV2Request, type SignedContent } from './build.ts';
import { tlogEntryFromV1, tlogEntryFromV2, type BundleJson, type TlogEntryJson } from './bundle-json.ts';
import { BundleError, rethrowAs } from './errors.ts';

/** DEFAULT_REQUEST_TIMEOUT_MS bounds each HTTP request; a v2 log entry waits for its checkpoint. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** MAX_RESPONSE_BYTES bounds any answer the client reads. */
export const MAX_RESPONSE_BYTES = 4 << 20;

/** SignOptions says where to sign and as whom. */
export interface SignOptions {
  /** url is the Vigil front end (CA, log, TSA, dev issuer) base URL, without a trailing slash. */
  readonly url: string;
  /** token is an OIDC ID token; without it, the dev issuer at <url>/oidc/token is asked for `email`. */
  readonly token?: string;
  readonly email?: string;
  /** rekorV2 logs through /api/v2/log/entries and adds an RFC 3161 timestamp. */
  readonly rekorV2?: boolean;
  readonly timeoutMs?: number;
  /** attestation, when given, signs an in-toto statement about the artifact (DSSE) instead of the artifact. */
  readonly attestation?: Attestation;
}

/** Attestation is what an in-toto statement says about the artifact: its name and a typed predicate. */
export interface Attestation {
  /** subjectName names the artifact in the statement, e.g. a file name or a purl. */
  readonly subjectName: string;
  /** predicateType is a URI, e.g. "https://slsa.dev/provenance/v1". */
  readonly predicateType: string;
  readonly predicate: Record<string, unknown>;
}

/** MAX_SUBJECT_NAME_LENGTH bounds an attestation's subject name. */
const MAX_SUBJECT_NAME_LENGTH = 1024;

function checkAttestation(a: Attestation): void {
  const bad = (why: string): never => {
    throw new BundleError('invalid_attestation', why);
  };
  if (typeof a.subjectName !== 'string' || a.subjectName === '' || a.subjectName.length > MAX_SUBJECT_NAME_LENGTH) bad(`the subject name must be 1 to ${MAX_SUBJECT_NAME_LENGTH} characters`);
  if (typeof a.predicateType !== 'string' || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(a.predicateType) || !URL.canParse(a.predicateType)) bad(`the predicate type must be a URI, got ${JSON.stringify(String(a.predicateType).slice(0, 100))}`);
  if (typeof a.predicate !== 'object' || a.predicate === null || Array.isArray(a.predicate)) bad('the predicate must be a JSON object');
}

/** signContent signs the artifact, or the DSSE envelope of an attestation about it; returns the content and its signature. */
function signContent(artifact: Uint8Array, privateKey: string, attestation: Attestation | undefined): { content: SignedContent; signature: Uint8Array } {
  const digest = sha256(artifact);
  if (attestation === undefined) {
    const signature = new Uint8Array(sign('sha256', artifact, privateKey));
    return { content: { type: 'message', digest, signature }, signature };
  }
  const payload = formatInTotoStatement(attestation.subjectName, digest, attestation.predicateType, attestation.predicate);
  const signature = new Uint8Array(sign('sha256', encodeDssePae(IN_TOTO_PAYLOAD_TYPE, payload), privateKey));
  const envelope = { payload: encodeBase64(payload), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: encodeBase64(signature), keyid: '' }] };
  return { content: { type: 'dsse', envelope }, signature };
}

/** Answer is a 2xx answer's status and body. */
export interface Answer {
  status: number;
  bytes: Uint8Array;
}

/** readCapped reads a response body, refusing (and cancelling) one over MAX_RESPONSE_BYTES. */
async function readCapped(res: Response, url: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  for (;;) {
    const next = reader === undefined ? { done: true as const, value: undefined } : await reader.read();
    if (next.done) break;
    total += next.value.length;
    if (total > MAX_RESPONSE_BYTES) {
      await reader?.cancel();
      throw new BundleError('invalid_response', `${url} answered more than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(next.value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** request fetches `url` (no redirects, bounded body); a network failure or a non-2xx is request_failed. */
export async function request(url: string, init: RequestInit, timeoutMs: number): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    throw new BundleError('request_failed', `couldn't reach ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const bytes = await readCapped(res, url).catch((err: unknown) => {
    if (err instanceof BundleError) throw err;
    throw new BundleError('request_failed', `couldn't read the answer of ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  if (res.status < 200 || res.status > 299) {
    const text = new TextDecoder().decode(bytes.subarray(0, 500));
    throw new BundleError('request_failed', `${url} answered ${res.status}: ${text}`);
  }
  return { status: res.status, bytes };
}

async function postJson(url: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const { bytes } = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, timeoutMs);
  return rethrowAs('invalid_response', `${url} did not answer JSON`, () => JSON.parse(new TextDecoder().decode(bytes)) as unknown);
}

/** fetchDevToken asks the development issuer (`<url>/oidc/token`) for a token for `email`. */
export async function fetchDevToken(url: string, email: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<string> {
  const answer = (await postJson(`${url}/oidc/token`, { email }, timeoutMs)) as { id_token?: unknown };
  if (typeof answer?.id_token !== 'string') throw new BundleError('invalid_response', 'the development issuer answered no id_token');
  return answer.id_token;
}

/** challengeOf returns what proof of possession signs: the token's email, else its subject. */
function challengeOf(token: string): string {
  const claims = rethrowAs('request_failed', 'the identity token is not a JWT', () => decodeJwt(token));
  const challenge = typeof claims.email === 'string' ? claims.email : claims.sub;
  if (typeof challenge !== 'string' || challenge === '') throw new BundleError('request_failed', 'the identity token has neither email nor sub');
  return challenge;
}

type KeyPair = { publicKey: string; privateKey: string };

async function requestCertificate(opts: SignOptions, token: string, keys: KeyPair, timeoutMs: number): Promise<Uint8Array> {
  const proof = sign('sha256', Buffer.from(challengeOf(token), 'utf8'), keys.privateKey);
  const answer = (await postJson(`${opts.url}/api/v2/signingCert`, {
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: keys.publicKey }, proofOfPossession: proof.toString('base64') },
  }, timeoutMs)) as { signedCertificateEmbeddedSct?: { chain?: { certificates?: unknown[] } } };
  const leaf = answer?.signedCertificateEmbeddedSct?.chain?.certificates?.[0];
  if (typeof leaf !== 'string') throw new BundleError('invalid_response', 'the CA answered no signedCertificateEmbeddedSct chain');
  return rethrowAs('invalid_response', 'the CA\'s certificate', () => parsePem(leaf, 'certificate', 'malformed_certificate')[0]!.der);
}

function timestampQuery(signature: Uint8Array): Uint8Array {
  const req = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: '2.16.840.1.101.3.4.2.1' }), hashedMessage: new OctetString(sha256(signature)) }),
    nonce: new Uint8Array([0x01, ...randomBytes(15)]).buffer,
    certReq: false,
  });
  return new Uint8Array(AsnConvert.serialize(req));
}

async function logEntry(opts: SignOptions, cert: Uint8Array, content: SignedContent, timeoutMs: number): Promise<TlogEntryJson> {
  if (opts.rekorV2 === true) {
    const tle = (await postJson(`${opts.url}/api/v2/log/entries`, formatV2Request(cert, content), timeoutMs)) as TransparencyLogEntryJson;
    if (typeof tle?.canonicalizedBody !== 'string' || typeof tle.inclusionProof?.checkpoint?.envelope !== 'string') throw new BundleError('invalid_response', 'the log answered no TransparencyLogEntry');
    return tlogEntryFromV2(tle);
  }
  const map = (await postJson(`${opts.url}/api/v1/log/entries`, formatV1Proposal(cert, content), timeoutMs)) as Record<string, RekorV1Entry>;
  const entry = typeof map === 'object' && map !== null ? Object.values(map)[0] : undefined;
  if (typeof entry?.body !== 'string' || typeof entry.verification?.inclusionProof?.checkpoint !== 'string') throw new BundleError('invalid_response', 'the log answered no LogEntry');
  return rethrowAs('invalid_response', 'the log\'s LogEntry', () => tlogEntryFromV1(entry));
}

/**
 * signArtifact signs `artifact` (or, with opts.attestation, an in-toto statement about it) as the
 * token's identity and returns the v0.3 bundle. Throws BundleError 'invalid_attestation',
 * 'request_failed' (a service refused or was unreachable; its answer is in the message) or
 * 'invalid_response'.
 */
export async function signArtifact(artifact: Uint8Array, opts: SignOptions): Promise<BundleJson> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (opts.attestation !== undefined) checkAttestation(opts.attestation);
  let token = opts.token;
  if (token === undefined) {
    if (opts.email === undefined) throw new BundleError('request_failed', 'no identity token: pass --token, set VIGIL_ID_TOKEN, or give --email for the development issuer');
    token = await fetchDevToken(opts.url, opts.email, timeoutMs);
  }
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const cert = await requestCertificate(opts, token, keys, timeoutMs);
  const { content, signature } = signContent(artifact, keys.privateKey, opts.attestation);
  const entry = await logEntry(opts, cert, content, timeoutMs);
  const stamps: Uint8Array[] = [];
  if (opts.rekorV2 === true) {
    const init = { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: timestampQuery(signature) };
    stamps.push((await request(`${opts.url}/api/v1/timestamp`, init, timeoutMs)).bytes);
  }
  return formatBundle(cert, content, entry, stamps);
}

/** fetchTrustedRoot reads `<url>/api/v1/trusted_root.json` (trust on first use: prefer a file). */
export async function fetchTrustedRoot(url: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<string> {
  return new TextDecoder().decode((await request(`${url}/api/v1/trusted_root.json`, {}, timeoutMs)).bytes);
}

