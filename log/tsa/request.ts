// request.ts reads timestamp requests, both wire forms, into one TimestampRequest:
// - RFC 3161 §2.4.1 TimeStampReq, DER, Content-Type application/timestamp-query (openssl ts, Go);
// - the JSON form of Sigstore's timestamp-authority, Content-Type application/json, which
//   @sigstore/sign's TSAWitness sends: {artifactHash (base64), hashAlgorithm, nonce?, certificates?,
//   tsaPolicyOID?}.
// DER is decoded by @peculiar/asn1-schema (asn1js underneath); nothing is parsed by hand.
import { fromBER } from 'asn1js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TimeStampReq } from '@peculiar/asn1-tsp';
import { decodeBase64 } from '../../tlog/base64.ts';
import { errorMessage } from '../errors.ts';
import { TsaError } from './errors.ts';

/** HashName is a message-imprint hash the TSA accepts. */
export type HashName = 'sha256' | 'sha384' | 'sha512';

/** HASH_OIDS maps each accepted hash to its OID (NIST, RFC 5754). */
export const HASH_OIDS: Readonly<Record<HashName, string>> = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};
const HASH_BYTES: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** MAX_NONCE_BYTES bounds a nonce: RFC 3161 clients use 64 to 160 bits. */
export const MAX_NONCE_BYTES = 32;

/** TimestampRequest is a checked request: what the token will say. */
export interface TimestampRequest {
  readonly hash: HashName;
  /** hashedMessage is the imprint, copied into the token as given. */
  readonly hashedMessage: Uint8Array;
  /** nonce is the DER INTEGER content bytes, copied into the token as given (RFC 3161: MUST). */
  readonly nonce?: Uint8Array;
  /** certReq asks for the TSA certificate in the token (RFC 3161 §2.4.1). */
  readonly certReq: boolean;
}

function hashOfOid(oid: string): HashName {
  const name = (Object.keys(HASH_OIDS) as HashName[]).find((h) => HASH_OIDS[h] === oid);
  if (name === undefined) throw new TsaError('unsupported_algorithm', `message imprint hash ${oid.slice(0, 64)} is not SHA-256, SHA-384 or SHA-512`);
  return name;
}

function checkImprint(hash: HashName, hashedMessage: Uint8Array): void {
  if (hashedMessage.length !== HASH_BYTES[hash]) {
    throw new TsaError('unsupported_algorithm', `message imprint is ${hashedMessage.length} bytes; a ${hash} digest is ${HASH_BYTES[hash]}`);
  }
}

function checkPolicy(requested: string | undefined, policy: string): void {
  if (requested !== undefined && requested !== policy) {
    throw new TsaError('unsupported_policy', `this TSA stamps under policy ${policy}, not ${requested.slice(0, 64)}`);
  }
}

function checkNonce(nonce: Uint8Array): Uint8Array {
  if (nonce.length === 0 || nonce.length > MAX_NONCE_BYTES) throw new TsaError('malformed_request', `nonce must be 1 to ${MAX_NONCE_BYTES} bytes`);
  return nonce;
}

/**
 * parseTimeStampReq reads a DER TimeStampReq (attacker-controlled) with no trailing bytes. Throws
 * TsaError malformed_request, unsupported_algorithm, unsupported_policy or unsupported_extension.
 */
export function parseTimeStampReq(der: Uint8Array, policy: string): TimestampRequest {
  let req: TimeStampReq;
  try {
    const ber = fromBER(der);
    if (ber.offset === -1 || ber.offset !== der.byteLength) throw new Error('not one DER value (or trailing bytes)');
    req = AsnConvert.parse(der, TimeStampReq);
  } catch (err) {
    throw new TsaError('malformed_request', `request is not a DER TimeStampReq: ${errorMessage(err).slice(0, 200)}`, { cause: err });
  }
  if (req.version !== 1) throw new TsaError('malformed_request', `TimeStampReq version is ${req.version}, not 1`);
  if (req.extensions !== undefined && req.extensions.length > 0) {
    throw new TsaError('unsupported_extension', 'this TSA supports no request extensions');
  }
  if (req.messageImprint.hashAlgorithm.parameters !== undefined && req.messageImprint.hashAlgorithm.parameters !== null) {
    const params = new Uint8Array(req.messageImprint.hashAlgorithm.parameters);
    // Absent or NULL (05 00) are both seen in the wild for SHA-2 (RFC 5754 §2: absent preferred).
    if (!(params.length === 2 && params[0] === 0x05 && params[1] === 0x00)) {
      throw new TsaError('malformed_request', 'message imprint hash parameters must be absent or NULL');
    }
  }
  const hash = hashOfOid(req.messageImprint.hashAlgorithm.algorithm);
  const hashedMessage = new Uint8Array(req.messageImprint.hashedMessage.buffer);
  checkImprint(hash, hashedMessage);
  checkPolicy(req.reqPolicy, policy);
  const nonce = req.nonce === undefined ? {} : { nonce: checkNonce(new Uint8Array(req.nonce)) };
  return { hash, hashedMessage, certReq: req.certReq === true, ...nonce };
}

const JSON_FIELDS = new Set(['artifactHash', 'hashAlgorithm', 'nonce', 'certificates', 'tsaPolicyOID']);

/** nonceBytes encodes a non-negative safe integer as minimal DER INTEGER content bytes. */
function nonceBytes(n: number): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * parseJsonTimestampRequest reads Sigstore timestamp-authority's JSON request (attacker-controlled,
 * already JSON-parsed). Unknown fields are refused. Throws as parseTimeStampReq does.
 */
export function parseJsonTimestampRequest(value: unknown, policy: string): TimestampRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TsaError('malformed_request', 'JSON request must be an object');
  const obj = value as Record<string, unknown>;
  const unknown = Object.keys(obj).find((k) => !JSON_FIELDS.has(k));
  if (unknown !== undefined) throw new TsaError('malformed_request', `unknown field ${JSON.stringify(unknown.slice(0, 64))}`);
  if (typeof obj.artifactHash !== 'string') throw new TsaError('malformed_request', 'artifactHash must be a base64 string');
  const algorithm = obj.hashAlgorithm ?? 'sha256';
  if (algorithm !== 'sha256' && algorithm !== 'sha384' && algorithm !== 'sha512') {
    throw new TsaError('unsupported_algorithm', 'hashAlgorithm must be sha256, sha384 or sha512');
  }
  let hashedMessage: Uint8Array;
  try {
    hashedMessage = decodeBase64(obj.artifactHash, 'artifactHash');
  } catch (err) {
    throw new TsaError('malformed_request', 'artifactHash is not strict standard base64', { cause: err });
  }
  checkImprint(algorithm, hashedMessage);
  if (obj.tsaPolicyOID !== undefined && typeof obj.tsaPolicyOID !== 'string') throw new TsaError('malformed_request', 'tsaPolicyOID must be a string');
  checkPolicy(obj.tsaPolicyOID as string | undefined, policy);
  if (obj.certificates !== undefined && typeof obj.certificates !== 'boolean') throw new TsaError('malformed_request', 'certificates must be a boolean');
  if (obj.nonce !== undefined && (typeof obj.nonce !== 'number' || !Number.isSafeInteger(obj.nonce) || obj.nonce < 0)) {
    throw new TsaError('malformed_request', 'nonce must be a non-negative safe integer');
  }
  const nonce = obj.nonce === undefined ? {} : { nonce: nonceBytes(obj.nonce as number) };
  return { hash: algorithm, hashedMessage, certReq: obj.certificates === true, ...nonce };
}
