// keys.ts creates and loads the certificate authority's key material, all in one folder:
//
//   ca-root.key          PKCS#8 PEM, ECDSA P-384: the self-signed root's key (0600; only needed
//                        to re-issue the intermediate, so it may be moved offline after init)
//   ca-intermediate.key  PKCS#8 PEM, ECDSA P-256: signs every leaf and precertificate (0600)
//   ct.key               PKCS#8 PEM, ECDSA P-256: the CT log key that signs SCTs (0600)
//   ca-chain.pem         the intermediate, then the root (public)
//
// Profile (Fulcio docs/certificate-specification.md, research notes 3.2): the root is CA:TRUE with
// KU keyCertSign|cRLSign, about 10 years; the intermediate is CA:TRUE pathlen:0, KU
// keyCertSign|cRLSign, EKU codeSigning, about 3 years; both carry an SKI and the intermediate an AKI
// (a leaf's AKI must find a matching SKI, research notes 5.7). Keys are secrets: never logged,
// printed or quoted in an error.
import { createPrivateKey, createPublicKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isFileExistsError, makePrivateDir, readSecretFile, readTextFile, writeNewFile } from '../../platform/key-file.ts';
import { sha256 } from '../../tlog/sha256.ts';
import { errorMessage } from '../errors.ts';
import { formatPem, parsePem } from '../kinds/pem.ts';
import { exportPkcs8Pem, generateEcKeyPair, P256, P384, randomSerial, SIGN_P384, X509_CRYPTO } from '../kinds/x509-issue.ts';
import { x509 } from '../kinds/peculiar-x509.ts';
import { OID_EKU_CODE_SIGNING } from '../kinds/certificate.ts';
import { CaError } from './errors.ts';

/** CA_ROOT_KEY_FILE, CA_INTERMEDIATE_KEY_FILE, CT_KEY_FILE and CA_CHAIN_FILE name the CA's files. */
export const CA_ROOT_KEY_FILE = 'ca-root.key';
export const CA_INTERMEDIATE_KEY_FILE = 'ca-intermediate.key';
export const CT_KEY_FILE = 'ct.key';
export const CA_CHAIN_FILE = 'ca-chain.pem';

/** DEFAULT_ROOT_VALIDITY_DAYS is the root's lifetime: about 10 years. */
export const DEFAULT_ROOT_VALIDITY_DAYS = 3650;
/** DEFAULT_INTERMEDIATE_VALIDITY_DAYS is the intermediate's lifetime: about 3 years. */
export const DEFAULT_INTERMEDIATE_VALIDITY_DAYS = 1095;

/** InitCaOptions names the CA and dates its chain. */
export interface InitCaOptions {
  /** organization is the O= of the CA names and the trusted root's subject (default "vigil"). */
  readonly organization?: string;
  /** commonName is the CN= of the CA names (default "vigil-ca"). */
  readonly commonName?: string;
  /** now is the chain's notBefore (default: the current time minus a minute, for clock skew). */
  readonly now?: Date;
  readonly rootValidityDays?: number;
  readonly intermediateValidityDays?: number;
}

/** Ca is a loaded certificate authority. */
export interface Ca {
  /** intermediateKey signs leaves and precertificates (secret; never log it). */
  readonly intermediateKey: KeyObject;
  /** ctKey signs SCTs (secret; never log it). */
  readonly ctKey: KeyObject;
  /** chain is [intermediate, root], DER. */
  readonly chain: readonly [Uint8Array, Uint8Array];
  /** intermediate is the issuing certificate (@peculiar/x509 view: names, key identifiers). */
  readonly intermediate: x509.X509Certificate;
  /** intermediateSpki is the issuer's DER SubjectPublicKeyInfo; its SHA-256 is RFC 6962's issuer_key_hash. */
  readonly intermediateSpki: Uint8Array;
  /** ctPublicKey is the CT key's DER SubjectPublicKeyInfo; ctLogId = SHA-256 of it (RFC 6962 §3.2). */
  readonly ctPublicKey: Uint8Array;
  readonly ctLogId: Uint8Array;
  /** subject names the CA in the trusted root. */
  readonly subject: { readonly organization: string; readonly commonName: string };
  /** validFrom is the root's notBefore: the start of the CA's and CT log's validFor. */
  readonly validFrom: Date;
  /** keysReadableByOthers is true when a key file's mode lets others than its owner read it. */
  readonly keysReadableByOthers: boolean;
}

type CryptoKeyPair = webcrypto.CryptoKeyPair;
const CA_KEY_USAGES = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

function nameOf(organization: string, commonName: string): string {
  const clean = (s: string) => s.replace(/[,=+"\\<>;#]/g, ' ');
  return `O=${clean(organization)}, CN=${clean(commonName)}`;
}

async function issueChain(root: CryptoKeyPair, intermediate: CryptoKeyPair, opts: Required<Omit<InitCaOptions, 'now'>> & { now: Date }) {
  const notBefore = opts.now;
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(), name: nameOf(opts.organization, `${opts.commonName} root`), keys: root, signingAlgorithm: SIGN_P384,
    notBefore, notAfter: new Date(notBefore.getTime() + opts.rootValidityDays * 86_400_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(CA_KEY_USAGES, true),
      await x509.SubjectKeyIdentifierExtension.create(root.publicKey, false, X509_CRYPTO),
    ],
  }, X509_CRYPTO);
  const intermediateCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(), subject: nameOf(opts.organization, opts.commonName), issuer: rootCert.subject,
    publicKey: intermediate.publicKey, signingKey: root.privateKey, signingAlgorithm: SIGN_P384,
    notBefore, notAfter: new Date(notBefore.getTime() + Math.min(opts.intermediateValidityDays, opts.rootValidityDays) * 86_400_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(CA_KEY_USAGES, true),
      new x509.ExtendedKeyUsageExtension([OID_EKU_CODE_SIGNING], false),
      await x509.SubjectKeyIdentifierExtension.create(intermediate.publicKey, false, X509_CRYPTO),
      await x509.AuthorityKeyIdentifierExtension.create(root.publicKey, false, X509_CRYPTO),
    ],
  }, X509_CRYPTO);
  return [new Uint8Array(intermediateCert.rawData), new Uint8Array(rootCert.rawData)] as const;
}

function writeNew(file: string, text: string, mode: number): void {
  writeNewFile(file, text, (why, cause) => new CaError(isFileExistsError(cause) ? 'ca_exists' : 'invalid_config', `couldn't create ${file}: ${why}`, { cause }), mode);
}

/**
 * initCa creates the CA in `dir` (made with mode 0700 if missing): a P-384 root, a P-256
 * intermediate and the P-256 CT key, written with 'wx' so nothing is overwritten. Throws CaError
 * 'ca_exists' when any CA file is there already, 'invalid_config' when the folder cannot be
 * written. Returns the loaded CA.
 */
export async function initCa(dir: string, opts: InitCaOptions = {}): Promise<Ca> {
  const files = [CA_ROOT_KEY_FILE, CA_INTERMEDIATE_KEY_FILE, CT_KEY_FILE, CA_CHAIN_FILE].map((f) => join(dir, f));
  const existing = files.find((f) => existsSync(f));
  if (existing !== undefined) throw new CaError('ca_exists', `couldn't create the CA in ${dir}: ${existing} already exists`);
  const full = {
    organization: opts.organization ?? 'vigil',
    commonName: opts.commonName ?? 'vigil-ca',
    now: new Date(Math.floor(((opts.now?.getTime() ?? Date.now()) - 60_000) / 1000) * 1000),
    rootValidityDays: opts.rootValidityDays ?? DEFAULT_ROOT_VALIDITY_DAYS,
    intermediateValidityDays: opts.intermediateValidityDays ?? DEFAULT_INTERMEDIATE_VALIDITY_DAYS,
  };
  const [root, intermediate, ct] = await Promise.all([generateEcKeyPair(P384), generateEcKeyPair(P256), generateEcKeyPair(P256)]);
  const chain = await issueChain(root, intermediate, full);
  makePrivateDir(dir, (why, cause) => new CaError('invalid_config', `couldn't create the CA folder ${dir}: ${why}`, { cause }));
  // The chain is written last: loadCa fails on a folder whose init crashed half-way.
  writeNew(files[0]!, await exportPkcs8Pem(root.privateKey), 0o600);
  writeNew(files[1]!, await exportPkcs8Pem(intermediate.privateKey), 0o600);
  writeNew(files[2]!, await exportPkcs8Pem(ct.privateKey), 0o600);
  writeNew(files[3]!, chain.map((der) => formatPem('CERTIFICATE', der)).join(''), 0o644);
  return loadCa(dir);
}

function cannotRead(file: string, what: string) {
  return (why: string, cause: unknown) => new CaError('invalid_config', `couldn't read the CA ${what} ${file}: ${why} (run the CA init first)`, { cause });
}

function readKey(file: string, what: string): { key: KeyObject; shared: boolean } {
  const { text, readableByOthers } = readSecretFile(file, cannotRead(file, what));
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    // Never quote the file: it is a secret.
    throw new CaError('invalid_config', `couldn't parse the CA ${what} ${file}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ec') throw new CaError('invalid_config', `the CA ${what} ${file} is not an ECDSA key`);
  return { key, shared: readableByOthers };
}

function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }));
}

function loadChain(file: string): [X509Certificate, X509Certificate] {
  let certs: X509Certificate[];
  try {
    certs = parsePem(readTextFile(file, cannotRead(file, 'chain')), file, 'invalid_config').map((b) => new X509Certificate(b.der));
  } catch (err) {
    if (err instanceof CaError) throw err;
    throw new CaError('invalid_config', `couldn't parse the CA chain ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const [intermediate, root] = certs;
  if (certs.length !== 2 || intermediate === undefined || root === undefined) throw new CaError('invalid_config', `${file} must hold exactly the intermediate and the root`);
  if (!root.ca || !intermediate.ca) throw new CaError('invalid_config', `${file}: both certificates must be CA certificates`);
  if (!root.checkIssued(root) || !root.verify(root.publicKey)) throw new CaError('invalid_config', `${file}: the root is not self-signed`);
  if (!intermediate.checkIssued(root) || !intermediate.verify(root.publicKey)) throw new CaError('invalid_config', `${file}: the intermediate is not issued by the root`);
  return [intermediate, root];
}

/**
 * loadCa reads the CA in `dir`. Throws CaError 'invalid_config', naming the file but never a key's
 * content, when a file is missing or unreadable, the chain is not intermediate + self-signed root,
 * or the intermediate key is not the intermediate certificate's key.
 */
export function loadCa(dir: string): Ca {
  const [intermediate, root] = loadChain(join(dir, CA_CHAIN_FILE));
  const signing = readKey(join(dir, CA_INTERMEDIATE_KEY_FILE), 'intermediate key');
  const ct = readKey(join(dir, CT_KEY_FILE), 'CT key');
  const intermediateSpki = spkiOf(signing.key);
  if (!Buffer.from(intermediateSpki).equals(intermediate.publicKey.export({ format: 'der', type: 'spki' }))) {
    throw new CaError('invalid_config', `${join(dir, CA_INTERMEDIATE_KEY_FILE)} is not the key of the intermediate certificate`);
  }
  const peculiar = new x509.X509Certificate(intermediate.raw);
  const ctPublicKey = spkiOf(ct.key);
  return {
    intermediateKey: signing.key,
    ctKey: ct.key,
    chain: [new Uint8Array(intermediate.raw), new Uint8Array(root.raw)],
    intermediate: peculiar,
    intermediateSpki,
    ctPublicKey,
    ctLogId: sha256(ctPublicKey),
    subject: subjectOf(peculiar),
    validFrom: new Date(root.validFrom),
    keysReadableByOthers: signing.shared || ct.shared,
  };
}

function subjectOf(cert: x509.X509Certificate): { organization: string; commonName: string } {
  const organization = cert.subjectName.getField('O')[0] ?? 'vigil';
  const commonName = cert.subjectName.getField('CN')[0] ?? 'vigil-ca';
  return { organization, commonName };
}
