// trusted-root.ts reads a Sigstore TrustedRoot (protobuf JSON, research notes 5.4): the logs, the
// certificate authorities, the CT logs and the timestamp authorities a verifier trusts. Vigil's
// own root comes from GET /api/v1/trusted_root.json. Only the key types Vigil issues are usable:
// Ed25519 transparency logs (C2SP checkpoints), ECDSA CT logs and TSAs; other entries are kept
// out (never trusted half-checked).
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ED25519_PUBLIC_KEY_BYTES } from '../../tlog/note-key-id.ts';
import { loadCertificateTrust, type CertificateTrust } from '../kinds/certificate-chain.ts';
import { BundleError, rethrowAs } from './errors.ts';
import { jsonReader } from './json-read.ts';

/** MAX_TRUSTED_ROOT_ITEMS bounds each list of a trusted root. */
export const MAX_TRUSTED_ROOT_ITEMS = 64;

/** Validity is a validFor range; `end` undefined is open. */
export interface Validity {
  readonly start: Date;
  readonly end?: Date;
}

/** TrustedLog is a transparency log with an Ed25519 checkpoint key. */
export interface TrustedLog {
  readonly baseUrl: string;
  /** logId is the full 32-byte key ID (C2SP, research notes 5.6 step 3). */
  readonly logId: Uint8Array;
  /** publicKey is the raw 32-byte Ed25519 key. */
  readonly publicKey: Uint8Array;
  readonly validFor: Validity;
}

/** TrustedCtLog is an RFC 6962 CT log: its key and log ID (SHA-256 of its SPKI). */
export interface TrustedCtLog {
  readonly logId: Uint8Array;
  readonly key: KeyObject;
  readonly validFor: Validity;
}

/** TrustedCa is a certificate authority: its chain as path-building trust, and its validity. */
export interface TrustedCa {
  readonly trust: CertificateTrust;
  readonly validFor: Validity;
}

/** TrustedTsa is a timestamp authority: its signing certificate first, then its issuers. */
export interface TrustedTsa {
  readonly chain: readonly X509Certificate[];
  readonly validFor: Validity;
}

/** TrustedRoot is the parsed trust material. */
export interface TrustedRoot {
  readonly tlogs: readonly TrustedLog[];
  readonly certificateAuthorities: readonly TrustedCa[];
  readonly ctlogs: readonly TrustedCtLog[];
  readonly timestampAuthorities: readonly TrustedTsa[];
}

const r = jsonReader('malformed_trusted_root');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** isValidAt reports whether t is inside the validity range. */
export function isValidAt(v: Validity, t: Date): boolean {
  return v.start.getTime() <= t.getTime() && (v.end === undefined || t.getTime() <= v.end.getTime());
}

function readValidity(v: unknown, path: string): Validity {
  const o = r.object(v, path);
  const start = r.time(o.start, `${path}.start`);
  return o.end === undefined ? { start } : { start, end: r.time(o.end, `${path}.end`) };
}

function readTlog(v: unknown, path: string): TrustedLog | null {
  const o = r.object(v, path);
  const pk = r.object(o.publicKey, `${path}.publicKey`);
  if (pk.keyDetails !== 'PKIX_ED25519') return null;
  const spki = r.bytes(pk.rawBytes, `${path}.publicKey.rawBytes`);
  if (spki.length !== ED25519_SPKI_PREFIX.length + ED25519_PUBLIC_KEY_BYTES || !Buffer.from(spki.subarray(0, 12)).equals(ED25519_SPKI_PREFIX)) {
    throw new BundleError('malformed_trusted_root', `${path}.publicKey.rawBytes is not an Ed25519 SPKI`);
  }
  const logId = r.bytes(r.object(o.logId, `${path}.logId`).keyId, `${path}.logId.keyId`);
  if (logId.length !== 32) throw new BundleError('malformed_trusted_root', `${path}.logId.keyId must be 32 bytes`);
  return { baseUrl: r.string(o.baseUrl, `${path}.baseUrl`), logId, publicKey: spki.slice(12), validFor: readValidity(pk.validFor, `${path}.publicKey.validFor`) };
}

function readCtlog(v: unknown, path: string): TrustedCtLog | null {
  const o = r.object(v, path);
  const pk = r.object(o.publicKey, `${path}.publicKey`);
  if (typeof pk.keyDetails !== 'string' || !pk.keyDetails.startsWith('PKIX_ECDSA_')) return null;
  const spki = r.bytes(pk.rawBytes, `${path}.publicKey.rawBytes`);
  const key = rethrowAs('malformed_trusted_root', `${path}.publicKey.rawBytes`, () => createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }));
  const logId = r.bytes(r.object(o.logId, `${path}.logId`).keyId, `${path}.logId.keyId`);
  return { logId, key, validFor: readValidity(pk.validFor, `${path}.publicKey.validFor`) };
}

function readChain(o: Record<string, unknown>, path: string): Uint8Array[] {
  const certs = r.array(r.object(o.certChain, `${path}.certChain`).certificates, `${path}.certChain.certificates`, 8);
  if (certs.length === 0) throw new BundleError('malformed_trusted_root', `${path}.certChain.certificates is empty`);
  return certs.map((c, i) => r.bytes(r.object(c, `${path}.certChain.certificates[${i}]`).rawBytes, `${path}.certChain.certificates[${i}].rawBytes`));
}

function readCa(v: unknown, path: string): TrustedCa {
  const o = r.object(v, path);
  const chain = readChain(o, path);
  // Intermediates first, the self-signed root last (research notes 5.7).
  const trust = rethrowAs('malformed_trusted_root', path, () => loadCertificateTrust({ roots: chain.slice(-1), intermediates: chain.slice(0, -1) }));
  return { trust, validFor: readValidity(o.validFor, `${path}.validFor`) };
}

function readTsa(v: unknown, path: string): TrustedTsa {
  const o = r.object(v, path);
  const chain = readChain(o, path).map((der, i) => rethrowAs('malformed_trusted_root', `${path} certificate ${i}`, () => new X509Certificate(der)));
  return { chain, validFor: readValidity(o.validFor, `${path}.validFor`) };
}

function list<T>(o: Record<string, unknown>, name: string, read: (v: unknown, path: string) => T | null): T[] {
  if (o[name] === undefined) return [];
  return r.array(o[name], name, MAX_TRUSTED_ROOT_ITEMS).map((v, i) => read(v, `${name}[${i}]`)).filter((x): x is T => x !== null);
}

/** parseTrustedRoot reads trusted_root.json text (or parsed JSON); throws malformed_trusted_root. */
export function parseTrustedRoot(input: string | unknown): TrustedRoot {
  let json: unknown = input;
  if (typeof input === 'string') json = rethrowAs('malformed_trusted_root', 'trusted root is not JSON', () => JSON.parse(input) as unknown);
  const o = r.object(json, 'trusted root');
  return {
    tlogs: list(o, 'tlogs', readTlog),
    certificateAuthorities: list(o, 'certificateAuthorities', readCa),
    ctlogs: list(o, 'ctlogs', readCtlog),
    timestampAuthorities: list(o, 'timestampAuthorities', readTsa),
  };
}
