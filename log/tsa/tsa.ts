// tsa.ts creates and loads the timestamp authority's key material: an ECDSA P-256 signing key and
// a two-certificate chain, the TSA's own self-signed root (ECDSA P-384) and the signing leaf with
// the critical timeStamping EKU that RFC 3161 §2.3 requires. Everything lives in one folder:
//
//   tsa-signing.key   PKCS#8 PEM of the signing key (mode 0600)
//   tsa-root.key      PKCS#8 PEM of the root key (mode 0600; only needed to re-issue the leaf)
//   tsa-chain.pem     the leaf, then the root (public; served at /api/v1/timestamp/certchain)
//
// Keys are secrets: never logged, printed or quoted in an error.
import { createPrivateKey, createPublicKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isFileExistsError, makePrivateDir, readTextFile, writeNewFile } from '../../platform/key-file.ts';
import { encodeBase64 } from '../../tlog/base64.ts';
import { formatPem, parsePem } from '../kinds/pem.ts';
import { x509 } from '../kinds/peculiar-x509.ts';
import { exportPkcs8Pem, generateEcKeyPair, P256, P384, randomSerial, SIGN_P384, X509_CRYPTO } from '../kinds/x509-issue.ts';
import { errorMessage } from '../errors.ts';
import { TsaError } from './errors.ts';

/** TSA_SIGNING_KEY_FILE is the signing key's file name in the TSA folder. */
export const TSA_SIGNING_KEY_FILE = 'tsa-signing.key';
/** TSA_ROOT_KEY_FILE is the root key's file name. */
export const TSA_ROOT_KEY_FILE = 'tsa-root.key';
/** TSA_CHAIN_FILE is the chain's file name (leaf, then root, PEM). */
export const TSA_CHAIN_FILE = 'tsa-chain.pem';

/** OID_EKU_TIME_STAMPING is id-kp-timeStamping (RFC 5280 §4.2.1.12). */
export const OID_EKU_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
/** SIGSTORE_TSA_POLICY_OID is the policy Sigstore's timestamp authority stamps with (57264.2). */
export const SIGSTORE_TSA_POLICY_OID = '1.3.6.1.4.1.57264.2';

/** DEFAULT_TSA_VALIDITY_DAYS is how long the TSA chain is valid: 10 years. */
export const DEFAULT_TSA_VALIDITY_DAYS = 3650;

/** Tsa is a loaded timestamp authority. */
export interface Tsa {
  /** signingKey signs timestamp tokens (secret; never log it). */
  readonly signingKey: KeyObject;
  /** chain is [leaf, root], DER. */
  readonly chain: readonly [Uint8Array, Uint8Array];
  /** leaf is the signing certificate (OpenSSL view: issuer, serial, validity). */
  readonly leaf: X509Certificate;
  /** policy is the TSA policy OID of every token. */
  readonly policy: string;
  /** subject names the TSA in the trusted root (organization, commonName). */
  readonly subject: { readonly organization: string; readonly commonName: string };
}

/** InitTsaOptions names the TSA and dates its chain. */
export interface InitTsaOptions {
  readonly organization?: string;
  readonly commonName?: string;
  /** now is the chain's notBefore (default: the current time, minus a minute for clock skew). */
  readonly now?: Date;
  readonly validityDays?: number;
}

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const NAME_PART = /^[A-Za-z0-9 ._-]{1,64}$/;

async function issueChain(root: CryptoKeyPair, leaf: CryptoKeyPair, name: { organization: string; commonName: string }, notBefore: Date, notAfter: Date): Promise<[Uint8Array, Uint8Array]> {
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(), name: `O=${name.organization},CN=${name.commonName} root`, notBefore, notAfter, keys: root, signingAlgorithm: SIGN_P384,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(root.publicKey, false, X509_CRYPTO),
    ],
  }, X509_CRYPTO);
  const leafCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(), subject: `O=${name.organization},CN=${name.commonName}`, issuer: rootCert.subject, notBefore, notAfter,
    publicKey: leaf.publicKey, signingKey: root.privateKey, signingAlgorithm: SIGN_P384,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([OID_EKU_TIME_STAMPING], true),
      await x509.SubjectKeyIdentifierExtension.create(leaf.publicKey, false, X509_CRYPTO),
      await x509.AuthorityKeyIdentifierExtension.create(root.publicKey, false, X509_CRYPTO),
    ],
  }, X509_CRYPTO);
  return [new Uint8Array(leafCert.rawData), new Uint8Array(rootCert.rawData)];
}

function writeNew(file: string, text: string, mode: number): void {
  writeNewFile(file, text, (why, cause) => new TsaError(isFileExistsError(cause) ? 'tsa_exists' : 'invalid_config', `couldn't create ${file}: ${why}`, { cause }), mode);
}

/**
 * initTsa creates the TSA in `dir` (made with mode 0700 if missing): fresh keys and chain, written
 * with 'wx' so that nothing is overwritten. Throws TsaError 'tsa_exists' when any TSA file is
 * there already, 'invalid_config' when the folder cannot be written. Returns the loaded TSA.
 */
export async function initTsa(dir: string, opts: InitTsaOptions = {}): Promise<Tsa> {
  const files = [TSA_SIGNING_KEY_FILE, TSA_ROOT_KEY_FILE, TSA_CHAIN_FILE].map((f) => join(dir, f));
  const existing = files.find((f) => existsSync(f));
  if (existing !== undefined) throw new TsaError('tsa_exists', `couldn't create the TSA in ${dir}: ${existing} already exists`);
  const organization = opts.organization ?? 'vigil';
  const commonName = opts.commonName ?? 'vigil-tsa';
  if (!NAME_PART.test(organization) || !NAME_PART.test(commonName)) {
    throw new TsaError('invalid_config', 'the TSA organization and common name must be 1 to 64 letters, digits, spaces, ".", "_" or "-"');
  }
  const notBefore = new Date(Math.floor(((opts.now?.getTime() ?? Date.now()) - 60_000) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (opts.validityDays ?? DEFAULT_TSA_VALIDITY_DAYS) * 86_400_000);
  const root = await generateEcKeyPair(P384);
  const leaf = await generateEcKeyPair(P256);
  const chain = await issueChain(root, leaf, { organization, commonName }, notBefore, notAfter);
  makePrivateDir(dir, (why, cause) => new TsaError('invalid_config', `couldn't create the TSA folder ${dir}: ${why}`, { cause }));
  writeNew(files[0]!, await exportPkcs8Pem(leaf.privateKey), 0o600);
  writeNew(files[1]!, await exportPkcs8Pem(root.privateKey), 0o600);
  writeNew(files[2]!, chain.map((der) => formatPem('CERTIFICATE', der)).join(''), 0o644);
  return loadTsa(dir);
}

function readFile(file: string, what: string): string {
  return readTextFile(file, (why, cause) => new TsaError('invalid_config', `couldn't read the TSA ${what} ${file}: ${why} (run the TSA init first)`, { cause }));
}

function loadChain(file: string): [X509Certificate, X509Certificate] {
  let certs: X509Certificate[];
  try {
    certs = parsePem(readFile(file, 'chain'), file, 'invalid_config').map((b) => new X509Certificate(b.der));
  } catch (err) {
    if (err instanceof TsaError) throw err;
    throw new TsaError('invalid_config', `couldn't parse the TSA chain ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const [leaf, root] = certs;
  if (certs.length !== 2 || leaf === undefined || root === undefined) throw new TsaError('invalid_config', `${file} must hold exactly the TSA leaf and its root`);
  if (!leaf.checkIssued(root) || !leaf.verify(root.publicKey) || !root.verify(root.publicKey)) {
    throw new TsaError('invalid_config', `${file}: the leaf is not issued by the self-signed root`);
  }
  const eku = new x509.X509Certificate(leaf.raw).getExtension(x509.ExtendedKeyUsageExtension);
  if (eku === null || !eku.critical || eku.usages.length !== 1 || String(eku.usages[0]) !== OID_EKU_TIME_STAMPING) {
    throw new TsaError('invalid_config', `${file}: the leaf lacks the critical timeStamping extended key usage (RFC 3161 §2.3)`);
  }
  return [leaf, root];
}

/** subjectOf reads O and CN of the TSA certificate's subject (node prints one "K=V" per line). */
function subjectOf(leaf: X509Certificate): Tsa['subject'] {
  const fields = new Map(leaf.subject.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
  return { organization: fields.get('O') ?? '', commonName: fields.get('CN') ?? '' };
}

/**
 * loadTsa reads the TSA in `dir`. Throws TsaError 'invalid_config', naming the file but never a
 * key's content, when a file is missing or unreadable, the chain is not leaf + issuing root, the
 * leaf lacks the critical timeStamping EKU, or the signing key is not the leaf's key.
 */
export function loadTsa(dir: string): Tsa {
  const keyFile = join(dir, TSA_SIGNING_KEY_FILE);
  const [leaf, root] = loadChain(join(dir, TSA_CHAIN_FILE));
  let signingKey: KeyObject;
  try {
    signingKey = createPrivateKey(readFile(keyFile, 'signing key'));
  } catch (err) {
    if (err instanceof TsaError) throw err;
    throw new TsaError('invalid_config', `couldn't parse the TSA signing key ${keyFile}`, { cause: err });
  }
  const spki = (k: KeyObject) => k.export({ format: 'der', type: 'spki' });
  if (signingKey.asymmetricKeyType !== 'ec' || !spki(createPublicKey(signingKey)).equals(spki(leaf.publicKey))) {
    throw new TsaError('invalid_config', `${keyFile} is not the key of the TSA certificate`);
  }
  return {
    signingKey,
    chain: [new Uint8Array(leaf.raw), new Uint8Array(root.raw)],
    leaf,
    policy: SIGSTORE_TSA_POLICY_OID,
    subject: subjectOf(leaf),
  };
}

/** TimestampAuthorityJson is a Sigstore TrustedRoot `timestampAuthorities` entry (protobuf JSON). */
export interface TimestampAuthorityJson {
  subject: { organization: string; commonName: string };
  certChain: { certificates: { rawBytes: string }[] };
  validFor: { start: string; end: string };
}

/**
 * tsaCertificateAuthority returns the TSA's TrustedRoot `timestampAuthorities` entry: the chain
 * with the signing certificate first (verifiers match the token's signer against certChain[0]) and
 * the root last, valid over the leaf's validity.
 */
export function tsaCertificateAuthority(tsa: Tsa): TimestampAuthorityJson {
  return {
    subject: { organization: tsa.subject.organization, commonName: tsa.subject.commonName },
    certChain: { certificates: tsa.chain.map((der) => ({ rawBytes: encodeBase64(der) })) },
    validFor: { start: new Date(tsa.leaf.validFrom).toISOString(), end: new Date(tsa.leaf.validTo).toISOString() },
  };
}

/** formatTsaChainPem returns the chain as PEM, leaf first (GET /api/v1/timestamp/certchain). */
export function formatTsaChainPem(tsa: Tsa): string {
  return tsa.chain.map((der) => formatPem('CERTIFICATE', der)).join('');
}
