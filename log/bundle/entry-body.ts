// entry-body.ts holds a log entry's canonical body against the bundle it came in (research notes
// 5.5 "Body checks"): the kind and version must be the entry's kindVersion, the signature and the
// digest must be the bundle's — and, beyond what stock sigstore-js checks (pitfall 14, case M), the
// certificate inside the body must BE the bundle's certificate, byte for byte. Otherwise a bundle
// could borrow someone else's log entry for its own certificate's identity.
import { decodeUtf8 } from '../../tlog/note.ts';
import { encodeHex } from '../../tlog/base64.ts';
import { equalBytes } from '../../tlog/merkle.ts';
import { sha256 } from '../../tlog/sha256.ts';
import { parsePem } from '../kinds/pem.ts';
import type { ParsedBundle, ParsedTlogEntry } from './bundle-json.ts';
import { BundleError, rethrowAs } from './errors.ts';
import { jsonReader } from './json-read.ts';

const r = jsonReader('entry_mismatch');

interface BodyClaims {
  readonly signature: Uint8Array;
  /** digest is what the entry says was signed: the artifact digest, or the DSSE payload hash. */
  readonly digest: Uint8Array;
  readonly certificate: Uint8Array;
}

function pemCertificate(b64: unknown, path: string): Uint8Array {
  const bytes = r.bytes(b64, path);
  const blocks = rethrowAs('entry_mismatch', path, () => parsePem(decodeUtf8(bytes), path, 'malformed_certificate'));
  if (blocks[0]!.type !== 'CERTIFICATE') throw new BundleError('certificate_mismatch', `${path} holds a ${blocks[0]!.type}, not the bundle's certificate`);
  return blocks[0]!.der;
}

function hex(v: unknown, path: string): Uint8Array {
  const s = r.string(v, path);
  if (!/^[0-9a-f]{64}$/.test(s)) throw new BundleError('entry_mismatch', `${path} must be a lowercase hex SHA-256`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

function one(v: unknown, path: string): Record<string, unknown> {
  const list = r.array(v, path, 1);
  if (list.length !== 1) throw new BundleError('entry_mismatch', `${path} must hold exactly one signature`);
  return r.object(list[0], `${path}[0]`);
}

function claimsOf(kind: string, version: string, spec: Record<string, unknown>): BodyClaims {
  const key = `${kind} ${version}`;
  if (key === 'hashedrekord 0.0.1') {
    const sig = r.object(spec.signature, 'spec.signature');
    const hash = r.object(r.object(spec.data, 'spec.data').hash, 'spec.data.hash');
    if (hash.algorithm !== 'sha256') throw new BundleError('unsupported_bundle', 'hashedrekord digest is not sha256');
    return { signature: r.bytes(sig.content, 'spec.signature.content'), digest: hex(hash.value, 'spec.data.hash.value'), certificate: pemCertificate(r.object(sig.publicKey, 'spec.signature.publicKey').content, 'spec.signature.publicKey.content') };
  }
  if (key === 'hashedrekord 0.0.2') {
    const h = r.object(spec.hashedRekordV002, 'spec.hashedRekordV002');
    const sig = r.object(h.signature, 'spec.hashedRekordV002.signature');
    const data = r.object(h.data, 'spec.hashedRekordV002.data');
    if (data.algorithm !== 'SHA2_256') throw new BundleError('unsupported_bundle', 'hashedrekord digest is not SHA2_256');
    const cert = r.object(r.object(sig.verifier, 'signature.verifier').x509Certificate, 'signature.verifier.x509Certificate');
    return { signature: r.bytes(sig.content, 'signature.content'), digest: r.bytes(data.digest, 'data.digest'), certificate: r.bytes(cert.rawBytes, 'x509Certificate.rawBytes') };
  }
  if (key === 'dsse 0.0.1') {
    const s = one(spec.signatures, 'spec.signatures');
    const payloadHash = r.object(spec.payloadHash, 'spec.payloadHash');
    return { signature: r.bytes(s.signature, 'spec.signatures[0].signature'), digest: hex(payloadHash.value, 'spec.payloadHash.value'), certificate: pemCertificate(s.verifier, 'spec.signatures[0].verifier') };
  }
  if (key === 'dsse 0.0.2') {
    const d = r.object(spec.dsseV002, 'spec.dsseV002');
    const s = one(d.signatures, 'spec.dsseV002.signatures');
    const cert = r.object(r.object(s.verifier, 'signatures[0].verifier').x509Certificate, 'signatures[0].verifier.x509Certificate');
    return { signature: r.bytes(s.content, 'signatures[0].content'), digest: r.bytes(r.object(d.payloadHash, 'spec.dsseV002.payloadHash').digest, 'payloadHash.digest'), certificate: r.bytes(cert.rawBytes, 'x509Certificate.rawBytes') };
  }
  throw new BundleError('unsupported_bundle', `log entries of kind ${JSON.stringify(key.slice(0, 40))} are not verified by Vigil`);
}

/**
 * checkEntryBody verifies that the entry's body (attacker-controlled, but already proven to be in
 * the log) records exactly the bundle's signature, digest and certificate. Throws entry_mismatch,
 * certificate_mismatch or unsupported_bundle.
 */
export function checkEntryBody(entry: ParsedTlogEntry, bundle: ParsedBundle): void {
  const body = r.object(rethrowAs('entry_mismatch', 'canonicalizedBody is not JSON', () => JSON.parse(decodeUtf8(entry.body)) as unknown), 'canonicalizedBody');
  if (body.kind !== entry.kind || body.apiVersion !== entry.version) {
    throw new BundleError('entry_mismatch', `kindVersion says ${entry.kind} ${entry.version} but the body is ${String(body.kind)} ${String(body.apiVersion)}`);
  }
  const claims = claimsOf(entry.kind, entry.version, r.object(body.spec, 'spec'));
  const c = bundle.content;
  if ((c.type === 'dsse') !== entry.kind.startsWith('dsse')) throw new BundleError('entry_mismatch', `a ${c.type} bundle cannot be logged as ${entry.kind}`);
  if (!equalBytes(claims.signature, c.signature)) throw new BundleError('entry_mismatch', 'the log entry records another signature than the bundle\'s');
  const digest = c.type === 'message' ? c.digest : sha256(c.payload);
  if (!equalBytes(claims.digest, digest)) throw new BundleError('entry_mismatch', `the log entry records digest ${encodeHex(claims.digest)}, not the bundle's ${encodeHex(digest)}`);
  if (!equalBytes(claims.certificate, bundle.certificate)) {
    throw new BundleError('certificate_mismatch', 'the certificate in the log entry is not the bundle\'s certificate');
  }
}
